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
    @Option(help: "Analytics: stations in the generated province (about 10 cities, 50 stations a district, 10 a street).")
    var networkStations = 50
    @Option(help: "Analytics: days of history.") var historyDays = 30
    @Option(help: "Analytics: mean events per station-day (visits in and out, refusals, bad reads, ratings, outages).")
    var eventsPerDay = 27.0
    @Option(help: "Analytics: concurrent loaders (station-day batches through store.ingest).") var loadConcurrency = 16
    @Option(help: "Analytics: times each question is asked.") var repeats = 30
    @Option(help: "Analytics: stations with a backlog for the catch-up (0 skips it).") var backlogStations = 100
    @Option(help: "Analytics: events in each backlog (sent in batches of 500 over HTTP).") var backlogEvents = 10_000
    @Flag(help: "Analytics: skip the bare bulk insert.") var skipBare = false
    @Option(help: "Analytics: an already loaded database (a storage URL from an earlier --keep run with the same sizes): no load, no bare insert, no catch-up.")
    var database: String?
    @Flag(help: "Analytics: keep the database afterwards (its URL is printed).") var keep = false
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

    func run() async throws {
        let o = options
        let network = Network(stations: o.networkStations, days: o.historyDays, eventsPerDay: o.eventsPerDay)
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
            if o.keep || o.database != nil { say("kept: \(storage)") } else { try? FileManager.default.removeItem(atPath: dir) }
        }
        let load = loadAverage()
        say("## The office's questions (rollups): \(storage.hasPrefix("sqlite") ? "SQLite" : "PostgreSQL")")
        say("network: 1 province, \(network.cities.count) cities, \(network.districts.count) districts, \(network.streets) streets, "
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
        // In-process questions on a store of its own (what the collector's handlers call).
        figures.inProcess = try await CollectorStores.with(storage, logger: quiet, reportOffset: Self.offset) { store in
            try await self.askInProcess(store, network)
        }
        let collector = try await CollectorBench.Collector(binDir: bench.binDir, dir: dir, storage: storage)
        do {
            figures.http = try await askOverHTTP(collector, network)
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

    // MARK: the network and its history

    /// A province → cities → districts (50 stations) → streets (10 stations) → stations.
    struct Network: Sendable {
        static let cityNames = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市"]
        let stations: Int
        let days: Int
        let eventsPerDay: Double
        let province = "浙江省"
        /// Every station's region path.
        let regions: [RegionPath]
        let cities: [String]
        let districts: [String]
        let streets: Int
        /// Card keys of the workers (SHA-256 hex): station s sees 150 of them, shared with its neighbours.
        let workers: [String]
        let historyStart: Timestamp
        var historyEnd: Timestamp { historyStart + .seconds(Int64(days) * 86_400) }

        init(stations: Int, days: Int, eventsPerDay: Double) {
            self.stations = stations; self.days = days; self.eventsPerDay = eventsPerDay
            let cityCount = min(10, max(1, stations / 50))
            var regions: [RegionPath] = []
            for s in 0..<stations {
                let city = s * cityCount / stations
                let inCity = s - (city * stations + cityCount - 1) / cityCount
                regions.append(RegionPath(segments: ["浙江省", Self.cityNames[city], "第\(inCity / 50 + 1)区", "第\(inCity / 10 + 1)街道"]))
            }
            self.regions = regions
            cities = Array(Set(regions.map { RegionPath(segments: Array($0.segments.prefix(2))).description })).sorted()
            districts = Array(Set(regions.map { RegionPath(segments: Array($0.segments.prefix(3))).description })).sorted()
            streets = Set(regions.map(\.description)).count
            workers = (0..<max(2000, stations * 60)).map { Tokens.hash("worker-\($0)") }
            // Whole local days, ending a week before today's local midnight (room for the catch-up week).
            let now = Timestamp.now()
            let today = CivilTime(now, offset: AnalyticsBench.offset)
            let midnight = CivilTime(year: today.year, month: today.month, day: today.day).timestamp(offset: AnalyticsBench.offset)
            historyStart = midnight - .seconds(Int64(days + 8) * 86_400)
        }

        func id(_ s: Int) -> String { "st-\(s)" }
        func dayStart(_ d: Int) -> Timestamp { historyStart + .seconds(Int64(d) * 86_400) }

        /// One station's day: visits (check-in, check-out with the stay) between 06:00 and
        /// 22:00, a refusal or a bad read now and then, ratings, and a water outage one day in ten.
        func events(station s: Int, day d: Int) -> [IngestedEvent] {
            var rng = SplitMix64(seed: UInt64(s) &* 1_000_003 &+ UInt64(d) &* 7919 &+ 17)
            let start = dayStart(d).millisecondsSinceEpoch
            let minute: Int64 = 60_000
            // Extras below average 2.25 a day; visits are two events each.
            let meanVisits = max(1, (eventsPerDay - 2.25) / 2)
            let spread = Int(meanVisits / 3)
            var visits = Int(meanVisits) + (rng.unit() < meanVisits - Double(Int(meanVisits)) ? 1 : 0)
            visits += spread > 0 ? Int(rng.next() % UInt64(2 * spread + 1)) - spread : 0
            struct Raw { var t: Int64; var kind: String; var key: String?; var stay: Int64?; var detail: String? }
            var raw: [Raw] = []
            let base = (s * 60) % workers.count
            for _ in 0..<max(1, visits) {
                let t = start + 6 * 60 * minute + Int64(rng.next() % (16 * 60)) * minute + Int64(rng.next() % 60_000)
                let stay = Int64(5 + rng.next() % 86) * 60 + Int64(rng.next() % 60)
                let key = workers[(base + Int(rng.next() % 150)) % workers.count]
                raw.append(Raw(t: t, kind: "check_in", key: key))
                raw.append(Raw(t: t + stay * 1000, kind: "check_out", key: key, stay: stay))
            }
            func anyTime() -> Int64 { start + 6 * 60 * minute + Int64(rng.next() % (16 * 60)) * minute }
            if rng.unit() < 0.6 { raw.append(Raw(t: anyTime(), kind: "rejected_full", key: workers[(base + Int(rng.next() % 150)) % workers.count])) }
            if rng.unit() < 0.6 { raw.append(Raw(t: anyTime(), kind: "bad_read", detail: "crc")) }
            if rng.unit() < 0.8 { raw.append(Raw(t: anyTime(), kind: "rating", detail: AmenityEventDetail.rating(score: 3 + Int(rng.next() % 3)).detail)) }
            if rng.unit() < 0.05 { raw.append(Raw(t: anyTime(), kind: "fault_report", detail: AmenityEventDetail.faultReport(amenity: "microwave", note: "no heat").detail)) }
            if rng.unit() < 0.1 {
                let t = anyTime()
                raw.append(Raw(t: t, kind: "amenity", detail: AmenityEventDetail.change(amenity: "water", status: .outOfOrder, by: "li", note: nil).detail))
                raw.append(Raw(t: t + Int64(1 + rng.next() % 4) * 60 * minute, kind: "amenity",
                               detail: AmenityEventDetail.change(amenity: "water", status: .ok, by: "li", note: nil).detail))
            }
            raw.sort { $0.t < $1.t }
            var occupancy = 0
            var out: [IngestedEvent] = []
            out.reserveCapacity(raw.count)
            for (i, r) in raw.prefix(999).enumerated() {
                if r.kind == "check_in" { occupancy += 1 } else if r.kind == "check_out" { occupancy = max(0, occupancy - 1) }
                out.append(IngestedEvent(seq: Int64(d) * 1000 + Int64(i) + 1, time: Timestamp(millisecondsSinceEpoch: r.t), kind: r.kind,
                                         cardKey: r.key, reader: "door", occupancy: occupancy, staySeconds: r.stay, detail: r.detail))
            }
            return out
        }
    }

    func provision(_ store: any CollectorStore, _ network: Network) async throws {
        let records = (0..<network.stations).map { s in
            StationRecord(id: network.id(s), name: "站\(s)", region: network.regions[s], capacity: 30,
                          latitude: 29.0 + Double(s % 100) / 100, longitude: 120.0 + Double(s / 100) / 100)
        }
        let hashes = Dictionary(uniqueKeysWithValues: (0..<network.stations).map { (network.id($0), Tokens.hash("yzs_an_\($0)")) })
        _ = try await store.importStations(records, tokenHashes: hashes)
        try await store.addUser(UserRecord(name: "bench-office", role: .office, stations: []), passwordHash: "-", tokenHash: Tokens.hash(Self.officeToken))
    }

    // MARK: load through store.ingest

    struct LoadFigures {
        var events = 0
        var seconds = 0.0
        var firstChunkDays = 0
        var firstChunkEvents = 0
        var firstChunkSeconds = 0.0
        var chunks: [(days: Range<Int>, events: Int, seconds: Double)] = []
    }

    /// Station-day batches in chunks of days (generated before each chunk's clock starts);
    /// `loadConcurrency` loaders, each with its own stations, so a station's batches stay in order.
    func load(_ store: any CollectorStore, _ network: Network) async throws -> LoadFigures {
        let chunkDays = max(1, min(30, Int(2_000_000 / (Double(network.stations) * network.eventsPerDay))))
        let loaders = max(1, min(options.loadConcurrency, network.stations))
        var figures = LoadFigures(firstChunkDays: min(chunkDays, network.days))
        say("loading: \(loaders) concurrent loaders, chunks of \(chunkDays) days (rate per chunk shows whether ingest slows as the database grows)")
        for first in stride(from: 0, to: network.days, by: chunkDays) {
            let days = first..<min(network.days, first + chunkDays)
            let batches = generate(network, days: days, loaders: loaders)
            let count = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.events.count } }
            let t0 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine { _ = try await store.ingest(station: b.station, events: b.events) }
                    }
                }
                try await group.waitForAll()
            }
            let s = seconds(ContinuousClock.now - t0)
            figures.chunks.append((days, count, s))
            figures.events += count
            figures.seconds += s
            if first == 0 { figures.firstChunkEvents = count; figures.firstChunkSeconds = s }
            say("  days \(days.lowerBound)–\(days.upperBound - 1): \(count) events in \(String(format: "%.1f", s)) s, \(fmt(Double(count) / s)) events/s; load average \(loadAverage())")
        }
        return figures
    }

    struct Batch: Sendable { var station: String; var events: [IngestedEvent] }

    /// Per loader, its stations' batches, day by day.
    func generate(_ network: Network, days: Range<Int>, loaders: Int) -> [[Batch]] {
        (0..<loaders).map { w in
            var out: [Batch] = []
            for d in days {
                for s in stride(from: w, to: network.stations, by: loaders) { out.append(Batch(station: network.id(s), events: network.events(station: s, day: d))) }
            }
            return out
        }
    }

    // MARK: the bare insert

    struct BareFigures { var events: Int; var seconds: Double }

    /// The first chunk's rows again, into a plain table with the events' columns, key and time
    /// index (no rollups, no live occupancy, no partitions): one multi-row INSERT in one
    /// transaction per batch, from the same number of concurrent loaders.
    func bareInsert(_ storage: String, _ network: Network, days: Int) async throws -> BareFigures {
        let loaders = max(1, min(options.loadConcurrency, network.stations))
        let batches = generate(network, days: 0..<days, loaders: loaders)
        let count = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.events.count } }
        let t0: ContinuousClock.Instant
        if storage.hasPrefix("sqlite://") {
            var config = Configuration()
            config.busyMode = .timeout(30)
            let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)), configuration: config)
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: """
                    CREATE TABLE bench_bare_events (
                        station_id TEXT NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, kind TEXT NOT NULL, card_key TEXT,
                        reader TEXT, occupancy INTEGER NOT NULL, stay_seconds INTEGER, detail TEXT, PRIMARY KEY (station_id, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX bench_bare_events_time ON bench_bare_events(station_id, time_ms);
                    """)
            }
            t0 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine {
                            try await pool.write { db in
                                let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: b.events.count).joined(separator: ", ")
                                var args: [(any DatabaseValueConvertible)?] = []
                                for e in b.events {
                                    args += [b.station, e.seq, e.time.millisecondsSinceEpoch, e.kind, e.cardKey, e.reader, e.occupancy, e.staySeconds, e.detail]
                                }
                                try db.execute(sql: "INSERT INTO bench_bare_events VALUES \(values)", arguments: StatementArguments(args))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = seconds(ContinuousClock.now - t0)
            try await pool.writeWithoutTransaction { try $0.execute(sql: "DROP TABLE bench_bare_events") }
            try pool.close()
            return BareFigures(events: count, seconds: elapsed)
        }
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: storage), backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: BareFigures?.self) { outer in
            outer.addTask { await client.run(); return nil }
            try await client.query("""
                CREATE TABLE bench_bare_events (
                    station_id TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, kind TEXT NOT NULL, card_key TEXT, reader TEXT,
                    occupancy INTEGER NOT NULL, stay_seconds BIGINT, detail TEXT, PRIMARY KEY (station_id, seq))
                """)
            try await client.query("CREATE INDEX bench_bare_events_time ON bench_bare_events(station_id, time_ms)")
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine {
                            let e = b.events
                            let seqs = e.map(\.seq), times = e.map(\.time.millisecondsSinceEpoch), kinds = e.map(\.kind)
                            let keys = e.map { $0.cardKey ?? "" }, readers = e.map { $0.reader ?? "" }, details = e.map { $0.detail ?? "" }
                            let occ = e.map { Int64($0.occupancy) }, stays = e.map { $0.staySeconds ?? -1 }
                            try await client.query("""
                                INSERT INTO bench_bare_events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
                                SELECT \(b.station), s, t, k, NULLIF(c, ''), NULLIF(r, ''), o, NULLIF(y, -1), NULLIF(d, '')
                                FROM unnest(\(seqs)::bigint[], \(times)::bigint[], \(kinds)::text[], \(keys)::text[], \(readers)::text[],
                                            \(occ)::bigint[], \(stays)::bigint[], \(details)::text[]) AS b(s, t, k, c, r, o, y, d)
                                """)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = seconds(ContinuousClock.now - start)
            try await client.query("DROP TABLE bench_bare_events")
            outer.cancelAll()
            return BareFigures(events: count, seconds: elapsed)
        }
    }

    // MARK: the questions

    struct Question: Sendable {
        var scope: String      // station, district, city, province
        var period: String     // day, month, year
        var bucket: UsageBucket
        var days: Int { period == "day" ? 1 : period == "month" ? 30 : 365 }
        var label: String { "\(scope) × \(period) by \(bucket.rawValue)" }
    }

    var questions: [Question] {
        var out: [Question] = []
        for scope in ["station", "district", "city", "province"] {
            for period in ["day", "month", "year"] {
                for bucket in [UsageBucket.hour, .day] where !(period == "year" && bucket == .hour) {
                    out.append(Question(scope: scope, period: period, bucket: bucket))
                }
            }
        }
        return out
    }

    /// The i-th asking of `q`: which station or region, and which days (the last local day
    /// of the history, or up to a week before it; months and years end with the history).
    func target(_ q: Question, _ i: Int, _ network: Network) -> (station: String?, region: String?, firstDay: Int, lastDay: Int) {
        let last = q.period == "day" ? network.days - 1 - i % min(7, network.days) : network.days - 1
        let first = last - q.days + 1
        switch q.scope {
        case "station": return (network.id(i * 37 % network.stations), nil, first, last)
        case "district": return (nil, network.districts[i % network.districts.count], first, last)
        case "city": return (nil, network.cities[i % network.cities.count], first, last)
        default: return (nil, network.province, first, last)
        }
    }

    struct Timings { var samples: [String: [Double]] = [:]; var rankings: [Double] = []; var buckets: [String: Int] = [:] }

    func askInProcess(_ store: any CollectorStore, _ network: Network) async throws -> Timings {
        let office = UserRecord(name: "bench-office", role: .office, stations: [])
        let visible = try await store.stations()
        let questions = OfficeQuestions(store: store, offset: Self.offset)
        var timings = Timings()
        say("asking in-process (OfficeQuestions → Analytics, comparisons included as the JSON answer has them), \(options.repeats)× each")
        for q in self.questions {
            var samples: [Double] = []
            for i in 0..<options.repeats {
                let t = target(q, i, network)
                let period = try UsagePeriod(from: network.dayStart(t.firstDay), to: network.dayStart(t.lastDay + 1), bucket: q.bucket, offset: Self.offset)
                let t0 = ContinuousClock.now
                let report = try await questions.usage(user: office, visible: visible, station: t.station, region: t.region, period: period)
                samples.append(seconds(ContinuousClock.now - t0))
                if i == 0 {
                    timings.buckets[q.label] = report.buckets.count
                    guard report.totals.visits > 0 || t.firstDay < 0 else { throw BenchError("\(q.label): no visits in the answer") }
                }
            }
            timings.samples[q.label] = samples.sorted()
        }
        let month = try UsagePeriod(from: network.dayStart(network.days - 30), to: network.dayStart(network.days), bucket: .day, offset: Self.offset)
        for _ in 0..<options.repeats {
            let t0 = ContinuousClock.now
            let entries = try await questions.rankings(user: office, visible: visible, region: network.province, measure: .visits, limit: 20, period: month)
            timings.rankings.append(seconds(ContinuousClock.now - t0))
            guard !entries.isEmpty else { throw BenchError("rankings: empty") }
        }
        timings.rankings.sort()
        return timings
    }

    struct HTTPFigures { var timings = Timings(); var rss: [(at: Double, label: String, mb: Double)] = []; var errors = 0 }

    func askOverHTTP(_ collector: CollectorBench.Collector, _ network: Network) async throws -> HTTPFigures {
        let pid = collector.process.processIdentifier
        let sampling = RSSSampling()
        let t0 = ContinuousClock.now
        let sampler = Task {
            while !sampling.state.withLock({ $0.stop }) {
                let mb = ProcessProbe.residentMegabytes(pid)
                let at = seconds(ContinuousClock.now - t0)
                sampling.state.withLock { s in
                    let label = s.label
                    s.rows.append((at, label, mb))
                }
                try? await Task.sleep(for: .milliseconds(25))
            }
        }
        var figures = HTTPFigures()
        say("asking over HTTP (the release collector, GET /api/v1/usage with a user token, JSON), \(options.repeats)× each; collector RSS sampled every 25 ms")
        func get(_ path: String) async throws -> Double {
            var request = HTTPClientRequest(url: collector.url + path)
            request.headers.add(name: "Authorization", value: "Bearer \(Self.officeToken)")
            let start = ContinuousClock.now
            let response = try await CollectorBench.http.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 64 << 20)
            let elapsed = seconds(ContinuousClock.now - start)
            guard response.status == .ok else { throw BenchError("GET \(path): \(response.status) \(String(buffer: body).prefix(300))") }
            return elapsed
        }
        // Warm-up: the collector's first question opens connections and caches.
        _ = try await get("/api/v1/usage?region=\(encode(network.province))")
        for q in questions {
            sampling.state.withLock { $0.label = q.label }
            var samples: [Double] = []
            for i in 0..<options.repeats {
                let t = target(q, i, network)
                let scope = t.station.map { "station=\($0)" } ?? "region=\(encode(t.region!))"
                samples.append(try await get("/api/v1/usage?\(scope)&from=\(dateText(network.dayStart(t.firstDay)))&to=\(dateText(network.dayStart(t.lastDay)))&bucket=\(q.bucket.rawValue)"))
            }
            figures.timings.samples[q.label] = samples.sorted()
        }
        sampling.state.withLock { $0.label = "rankings" }
        for _ in 0..<options.repeats {
            figures.timings.rankings.append(try await get(
                "/api/v1/rankings?region=\(encode(network.province))&from=\(dateText(network.dayStart(network.days - 30)))&to=\(dateText(network.dayStart(network.days - 1)))&by=visits&limit=20"))
        }
        figures.timings.rankings.sort()
        sampling.state.withLock { $0.stop = true }
        await sampler.value
        figures.rss = sampling.state.withLock { $0.rows }
        return figures
    }

    // MARK: the catch-up

    struct CatchUpFigures { var events: Int; var stations: Int; var seconds: Double }

    /// `backlogStations` stations back after a week offline, each with `backlogEvents` events
    /// (visits spread over the week after the history), sent as the uplink sends them: gzip'd
    /// JSON batches of 500, one at a time per station, all stations at once.
    func catchUp(_ collector: CollectorBench.Collector, _ network: Network) async throws -> CatchUpFigures {
        let stations = min(options.backlogStations, network.stations)
        let perStation = options.backlogEvents
        let start = network.historyEnd
        let step = max(1, 7 * 86_400_000 / Int64(perStation))
        say("catch-up: encoding \(stations) × \(perStation) events into gzip'd batches of 500 (before the clock starts)")
        var bodies: [[ByteBuffer]] = []
        for s in 0..<stations {
            var occupancy = 0
            let records: [EventRecord] = (0..<perStation).map { i in
                let inside = i % 2 == 0
                occupancy = inside ? occupancy + 1 : max(0, occupancy - 1)
                let key = network.workers[((s * 60) + (i / 2) % 150) % network.workers.count]
                return EventRecord(RecordedEvent(seq: Int64(network.days) * 1000 + Int64(i) + 1, event: StationEvent(
                    time: start + .milliseconds(Int64(i) * step), kind: inside ? .checkIn : .checkOut, cardKey: CardKey(hex: key), reader: "door",
                    occupancy: occupancy, staySeconds: inside ? nil : step / 1000)), offset: Self.offset)
            }
            bodies.append(try stride(from: 0, to: records.count, by: 500).map { i in
                var raw = ByteBuffer(bytes: try JSONEncoder().encode(EventBatch(stationID: network.id(s), events: Array(records[i..<min(i + 500, records.count)]))))
                return try raw.compress(with: .gzip())
            })
        }
        let url = collector.url
        let t0 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<stations {
                let batches = bodies[s]
                group.addTask {
                    for body in batches {
                        var request = HTTPClientRequest(url: url + "/api/v1/ingest/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer yzs_an_\(s)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.body = .bytes(body)
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(120))
                        let answer = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { throw BenchError("catch-up batch: \(response.status) \(String(buffer: answer).prefix(300))") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = seconds(ContinuousClock.now - t0)
        return CatchUpFigures(events: stations * perStation, stations: stations, seconds: elapsed)
    }

    // MARK: the report

    struct Figures {
        var load: LoadFigures?
        var bare: BareFigures?
        var inProcess = Timings()
        var http = HTTPFigures()
        var catchUp: CatchUpFigures?
    }

    func report(_ f: Figures, network: Network, loadAtStart: String) {
        var goals: [(String, Bool?)] = []
        say("")
        if let l = f.load {
            let overall = Double(l.events) / l.seconds
            say("| load through store.ingest | \(l.events) events in \(String(format: "%.1f", l.seconds)) s | \(fmt(overall)) events/s overall |")
            if let b = f.bare {
                let ingestRate = Double(l.firstChunkEvents) / l.firstChunkSeconds, bareRate = Double(b.events) / b.seconds
                say("| days 0–\(l.firstChunkDays - 1), ingest with rollups and sketches | \(fmt(ingestRate)) events/s | bare insert of the same rows | \(fmt(bareRate)) rows/s | \(pct(ingestRate / bareRate)) | goal ≥ 50% |")
                goals.append(("ingest with rollups ≥ 50% of a bare insert (\(pct(ingestRate / bareRate)))", ingestRate / bareRate >= 0.5))
            }
        }
        if let c = f.catchUp {
            say("| catch-up over HTTP | \(c.stations) stations × \(c.events / c.stations) events = \(c.events) | \(String(format: "%.1f s", c.seconds)) | \(fmt(Double(c.events) / c.seconds)) events/s | goal < 60 s for 1,000,000 |")
            goals.append(("the \(c.events)-event catch-up under 60 s (\(String(format: "%.1f s", c.seconds)))", c.events >= 1_000_000 ? c.seconds < 60 : nil))
        }
        say("")
        say("| question | buckets | in-process p50 | p99 | HTTP p50 | p99 | p99 < 100 ms |")
        say("| --- | --- | --- | --- | --- | --- | --- |")
        var worst = 0.0
        for q in questions {
            let a = f.inProcess.samples[q.label] ?? [], h = f.http.timings.samples[q.label] ?? []
            let p99 = max(a.isEmpty ? 0 : p(a, 0.99), h.isEmpty ? 0 : p(h, 0.99))
            worst = max(worst, p99)
            say("| \(q.label) | \(f.inProcess.buckets[q.label] ?? 0) | \(ms(p(a, 0.5))) | \(ms(p(a, 0.99))) | \(ms(p(h, 0.5))) | \(ms(p(h, 0.99))) | \(p99 < 0.1 ? "yes" : "**no**") |")
        }
        let r = f.inProcess.rankings, rh = f.http.timings.rankings
        say("| rankings, province × month (by visits, top 20) | 30 days | \(ms(p(r, 0.5))) | \(ms(p(r, 0.99))) | \(ms(p(rh, 0.5))) | \(ms(p(rh, 0.99))) | \(max(p(r, 0.99), p(rh, 0.99)) < 0.1 ? "yes" : "**no**") |")
        worst = max(worst, p(r, 0.99), p(rh, 0.99))
        goals.append(("every question under 100 ms p99 (worst \(ms(worst)))", worst < 0.1))

        say("")
        say("| period and bucket | province / station in-process p50 | p99 | HTTP p50 | p99 | ≤ 3× |")
        say("| --- | --- | --- | --- | --- | --- |")
        var worstRatio = 0.0
        for q in questions where q.scope == "province" {
            let station = Question(scope: "station", period: q.period, bucket: q.bucket).label
            func ratio(_ t: Timings, _ quantile: Double) -> Double {
                guard let a = t.samples[q.label], let b = t.samples[station], !a.isEmpty, !b.isEmpty else { return .nan }
                return p(a, quantile) / p(b, quantile)
            }
            let rs = [ratio(f.inProcess, 0.5), ratio(f.inProcess, 0.99), ratio(f.http.timings, 0.5), ratio(f.http.timings, 0.99)]
            worstRatio = max(worstRatio, rs[0], rs[2])
            say("| \(q.period) by \(q.bucket.rawValue) | " + rs.map { String(format: "%.2f×", $0) }.joined(separator: " | ") + " | \(max(rs[0], rs[2]) <= 3 ? "yes" : "**no**") |")
        }
        goals.append(("the province's answer ≤ 3× one station's, same period and buckets (worst p50 ratio \(String(format: "%.2f×", worstRatio)))", worstRatio <= 3))

        say("")
        let rss = f.http.rss.filter { !$0.mb.isNaN }
        if rss.count >= 6 {
            var byLabel: [String: Double] = [:]
            for s in rss { byLabel[s.label] = max(byLabel[s.label] ?? 0, s.mb) }
            let third = rss.count / 3
            let middle = rss[third..<(2 * third)].map(\.mb).max()!, last = rss[(2 * third)...].map(\.mb).max()!
            let flat = last <= middle * 1.05 + 2
            say("collector RSS while asking over HTTP (\(rss.count) samples): first \(String(format: "%.1f", rss.first!.mb)) MB, highest \(String(format: "%.1f", rss.map(\.mb).max()!)) MB, last \(String(format: "%.1f", rss.last!.mb)) MB; middle third's highest \(String(format: "%.1f", middle)) MB, last third's \(String(format: "%.1f", last)) MB")
            say("highest RSS per question: " + (questions.map(\.label) + ["rankings"]).compactMap { l in byLabel[l].map { "\(l) \(String(format: "%.1f", $0))" } }.joined(separator: "; "))
            goals.append(("collector memory flat whatever the question (last third ≤ middle third + 5% + 2 MB)", flat))
        }
        say("")
        say("load average: at start \(loadAtStart), at the end \(loadAverage())")
        for (text, met) in goals {
            say("\(met == nil ? "not judged" : met! ? "goal met" : "goal NOT met"): \(text)")
        }
    }

    // MARK: helpers

    final class RSSSampling: Sendable {
        let state = Mutex<(label: String, rows: [(at: Double, label: String, mb: Double)], stop: Bool)>(("start", [], false))
    }

    /// A percentile of sorted samples; NaN when there are none.
    func p(_ sorted: [Double], _ q: Double) -> Double { sorted.isEmpty ? .nan : percentile(sorted, q) }

    func dateText(_ t: Timestamp) -> String {
        let c = CivilTime(t, offset: Self.offset)
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }

    func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
    }

    func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
