import ArgumentParser
import AsyncHTTPClient
import CompressNIO
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

struct AnalyticsOptions: ParsableArguments {
    @Option(help: "Analytics: the store, sqlite or postgres (postgres needs YIZHAN_TEST_POSTGRES_URL, as scripts/test-postgres.sh gives).")
    var store = "sqlite"
    @Option(help: "Analytics: stations in the generated network, shared among its provinces (each up to 10 cities, 50 stations a district, 10 a street).")
    var networkStations = 50
    @Option(help: "Analytics: provinces (1: a province's office; 31: the nation's, each province its share of the stations).")
    var networkProvinces = 1
    @Option(help: "Analytics: days of history.") var historyDays = 30
    @Option(help: "Analytics: seconds to leave the collector after the pages' heartbeats, before timing them (at 186,000 stations the burst's reading takes its background work a minute).")
    var settleSeconds = 0
    @Option(help: "Analytics: days in each station's upload while loading (more for many stations with few events a day).")
    var daysPerBatch = 1
    @Option(help: "Analytics: mean events per station-day (visits in and out, refusals, bad reads, ratings, outages).")
    var eventsPerDay = 27.0
    @Option(help: "Analytics: concurrent loaders (station-day batches through store.ingest).") var loadConcurrency = 16
    @Option(help: "Analytics: times each question is asked.") var repeats = 30
    @Option(help: "Analytics: stations with a backlog for the catch-up (0 skips it).") var backlogStations = 100
    @Option(help: "Analytics: events in each backlog (sent in batches of 500 over HTTP).") var backlogEvents = 10_000
    @Flag(help: "Analytics: skip the bare bulk insert.") var skipBare = false
    @Option(help: "Analytics: an already loaded database (a storage URL from an earlier --keep run with the same sizes): no load, no bare insert, no catch-up.")
    var database: String?
    @Flag(help: "Analytics: keep the database afterwards (its URL and --history-start are printed).") var keep = false
    @Option(help: ArgumentHelp("Analytics, with --database: ask only the questions whose label contains this text (\"province × month by hour\"), in-process, print their times and stop: for profiling one question; or only the dashboard pages so named (\"page\", \"nation page\"), over HTTP; or \"rankings\", in-process.",
                               valueName: "text"))
    var only: String?
    @Option(help: ArgumentHelp("Analytics: the history's first day (UTC+8), to ask a kept --database on a later day; default: days + 8 before today.",
                               valueName: "yyyy-mm-dd"))
    var historyStart: String?
}

/// `yizhan-bench --suite analytics`: the office's questions against rollups (docs/benchmarks.md,
/// "The office's questions (rollups)"). A province's stations and their history are generated
/// and loaded through `store.ingest`, beside a bare insert of the same rows; then a backlog
/// catch-up over HTTP, and the question mix in-process (`OfficeQuestions`, i.e. `Analytics`)
/// and over HTTP against the release collector while its RSS is sampled.
struct AnalyticsBench {
    let bench: YizhanBench
    let options: AnalyticsOptions
    let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })
    static let offset = UTCOffset.china
    static let officeToken = "yzu_bench_analytics_office"

    func say(_ s: String) { print(s); fflush(nil) }

    /// The pages are measured after one heartbeat from each station, where a live network's
    /// would come every minute: the stations are kept online for an hour, or at 186,000
    /// stations they went offline three minutes in and the alert evaluator's storm of
    /// 144,655 alerts opened (and resolved at the next run) was what the pages measured.
    static let stationsStayOnline = """
        [ingest]
        offline_after_seconds = 3600
        [alerts]
        offline_after_seconds = 3600
        """

    func run() async throws {
        let o = options
        if let only = o.only {
            guard o.database != nil else { throw BenchError("--only asks a loaded database: give --database (from an earlier --keep run)") }
            let labels = questions.map(\.label) + Self.pageLabels + [Self.rankingsLabel]
            guard labels.contains(where: { $0.contains(only) }) else {
                throw BenchError("--only \(only): no question's label contains it; the labels: " + labels.joined(separator: ", "))
            }
        }
        let start = try o.historyStart.map { text in
            guard let t = RFC3339.parse(text + "T00:00:00+08:00", defaultOffset: .utc) else { throw BenchError("--history-start: expected yyyy-mm-dd") }
            return t
        }
        let network = Network(stations: o.networkStations, days: o.historyDays, eventsPerDay: o.eventsPerDay, provinces: o.networkProvinces, start: start)
        let dir = try bench.scratchDirectory()
        let collectorBench = CollectorBench(binDir: bench.binDir, scratch: { dir }, postgresURL: ProcessInfo.processInfo.environment["YIZHAN_TEST_POSTGRES_URL"])
        var createdDatabase: String?
        let storage: String
        if let existing = o.database {
            storage = existing
        } else if o.store == "postgres" {
            guard collectorBench.postgresURL != nil else { throw BenchError("--store postgres needs YIZHAN_TEST_POSTGRES_URL (run under scripts/test-postgres.sh)") }
            storage = try await collectorBench.freshStorage("postgres", dir: dir)
            createdDatabase = storage
        } else {
            storage = "sqlite://\(dir)/collector.db"
        }
        defer {
            if o.keep || o.database != nil { say("kept: \(storage) (--history-start \(dateText(network.historyStart)))") } else { try? FileManager.default.removeItem(atPath: dir) }
        }
        let load = loadAverage()
        say("## The office's questions (rollups): \(storage.hasPrefix("sqlite") ? "SQLite" : "PostgreSQL")")
        say("network: \(network.provinces) province\(network.provinces == 1 ? "" : "s"), \(network.cities.count) cities, \(network.districts.count) districts, \(network.streets) streets, "
            + "\(network.stations) stations × \(network.days) days, ~\(fmt(o.eventsPerDay)) events per station-day (~\(fmt(Double(network.stations * network.days) * o.eventsPerDay)) events)")
        say("history: \(dateText(network.historyStart)) to \(dateText(network.historyEnd - .seconds(1))) (UTC+8); load average at start: \(load)")

        var figures = Figures()
        if o.database == nil {
            figures.load = try await CollectorStores.with(storage, logger: quiet, reportOffset: Self.offset) { store in
                try await self.provision(store, network)
                return try await self.load(store, network)
            }
            if !o.skipBare { figures.bare = try await bareInsert(storage, network, days: figures.load!.firstChunkDays) }
        }
        // `--only` naming pages: the pages alone, over HTTP.
        if let only = o.only, !questions.contains(where: { $0.label.contains(only) }), !Self.rankingsLabel.contains(only) {
            let collector = try await CollectorBench.Collector(binDir: bench.binDir, dir: dir, storage: storage,
                                                               extraConfiguration: Self.stationsStayOnline)
            defer { collector.stop() }
            figures.pages = try await askPages(collector, network, dir: dir)
            reportPages(figures.pages, network)
            return
        }
        // In-process questions on a store of its own (what the collector's handlers call).
        figures.inProcess = try await CollectorStores.with(storage, logger: quiet, reportOffset: Self.offset) { store in
            try await self.askInProcess(store, network)
        }
        if o.only != nil {
            for (label, samples) in figures.inProcess.samples.sorted(by: { $0.key < $1.key }) {
                say("| \(label) | in-process p50 \(ms(p(samples, 0.5))) | p99 \(ms(p(samples, 0.99))) | \(samples.count) times |")
            }
            return
        }
        let collector = try await CollectorBench.Collector(binDir: bench.binDir, dir: dir, storage: storage,
                                                               extraConfiguration: Self.stationsStayOnline)
        do {
            figures.http = try await askOverHTTP(collector, network)
            figures.pages = try await askPages(collector, network, dir: dir)
            if o.database == nil && o.backlogStations > 0 {
                figures.catchUp = try await catchUp(collector, network)
            }
            collector.stop()
        } catch {
            collector.stop()
            throw error
        }
        if let created = createdDatabase, !o.keep {
            // postgres://user@/NAME?host=/socket/dir&port=N
            let name = created.components(separatedBy: "@/")[1].components(separatedBy: "?")[0]
            _ = try? await collectorBench.postgres(collectorBench.postgresURL!) { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name)")) }
        }
        report(figures, network: network, loadAtStart: load)
    }
}
