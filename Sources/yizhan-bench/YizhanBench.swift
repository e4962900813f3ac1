import ArgumentParser
import Dispatch
import Foundation
import GRDB
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import YizhanCore
import YizhanSimulator
import YizhanTestSupport
import YizhanStation
#if canImport(Glibc)
import Glibc
#endif

/// `make bench`: prints the figures quoted in docs/benchmarks.md.
@main
struct YizhanBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yizhan-bench",
        abstract: "Benchmarks of the station pipeline, the store, start-up and idle memory.",
        version: YizhanVersion.current)

    @Option(help: "Directory with the yizhan-station binary to measure (release build).") var binDir: String
    @Option(help: "Swipes for the throughput run.") var swipes = 3000
    @Option(help: "Swipes for the latency run (one at a time).") var samples = 500
    @Option(help: "Directory for scratch files (the same disk as a station's data_dir gives honest fsync figures).")
    var scratch: String = FileManager.default.temporaryDirectory.path
    @Option(help: "Which benchmarks: station, collector or all; or soak (make soak), memory (the collector over rounds of concurrent requests) analytics (the office's questions against rollups) or finder (the public finder and open data, FinderBench.swift).")
    var suite = "all"
    @Option(help: "Station counts for the heartbeat load, comma-separated; it stops at the first that does not hold.")
    var stations = "100000,200000,300000,400000,500000,600000"
    @Option(help: "Seconds of load at each station count.") var loadSeconds = 15.0
    @Option(help: "Backlogged events for the catch-up run.") var catchUpEvents = 1_000_000
    @Option(help: "Finder suite: stations in the index.") var finderStations = 200_000
    @Option(help: "Finder suite: public requests a second (nearby questions and feed GETs).") var finderRate = 2000.0
    @Option(help: "Finder suite: heartbeats a second meanwhile.") var finderHeartbeats = 500.0
    @Option(help: "Finder suite: seconds of heartbeats and events alone before the public load (the collector's start-up passes).") var finderWarmup = 30.0
    @OptionGroup(title: "Soak and memory (Soak.swift)") var soak: SoakOptions
    @OptionGroup(title: "Analytics (AnalyticsBench.swift)") var analytics: AnalyticsOptions

    func run() async throws {
        print("yizhan-bench \(YizhanVersion.current) on \(ProcessInfo.processInfo.processorCount) cores, scratch \(scratch)\n")
        if suite == "soak" || suite == "memory" { return try await Soak(bench: self, options: soak).run(suite) }
        if suite == "analytics" { return try await AnalyticsBench(bench: self, options: analytics).run() }
        if suite == "finder" { return try await FinderBench(bench: self).run() }
        if suite == "station" || suite == "all" { try await stationBenchmarks() }
        if suite == "collector" || suite == "all" { try await collectorBenchmarks() }
    }

    func collectorBenchmarks() async throws {
        let postgres = ProcessInfo.processInfo.environment["YIZHAN_TEST_POSTGRES_URL"]
        let bench = CollectorBench(binDir: binDir, scratch: scratchDirectory, postgresURL: postgres)
        print("## Collector ingest vs a bare bulk insert (20 stations at once, batches of 500, gzip)")
        print("| store | ingest over HTTP | bare insert of the same rows | ratio | goal |")
        print("| --- | --- | --- | --- | --- |")
        for kind in ["sqlite"] + (postgres == nil ? [] : ["postgres"]) {
            let f = try await bench.ingest(kind: kind)
            print("| \(kind) | \(fmt(f.ingest)) events/s | \(fmt(f.bare)) rows/s | \(pct(f.ingest / f.bare)) | ≥ 50% |")
        }
        if postgres == nil { print("(PostgreSQL skipped: run under scripts/test-postgres.sh, as make bench does)") }
        print("")

        print("## The national network on one collector (SQLite): a heartbeat a minute per station + 300 events/s")
        let counts = stations.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        let steps = try await bench.heartbeats(counts: counts, seconds: loadSeconds)
        print("| stations | target req/s | achieved req/s | p50 | p99 | errors | holds (p99 < 50 ms, no errors, keeps the rate) |")
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for s in steps {
            print("| \(s.stations) | \(fmt(s.target)) | \(fmt(s.achieved)) | \(ms(s.p50)) | \(ms(s.p99)) | \(s.errors) | \(s.holds ? "yes" : "no") |")
        }
        let held = steps.filter(\.holds).map(\.stations).max()
        print("highest station count held: \(held.map(String.init) ?? "none of those tried") (\(fmt(loadSeconds)) s at each count; load generator on the same 2 cores)\n")

        print("## Catch-up: a station back after a week offline")
        let c = try await bench.catchUp(events: catchUpEvents, stationBinDir: binDir)
        print("| backlog | station start → last event acknowledged | events/s | goal |")
        print("| --- | --- | --- | --- |")
        print("| \(c.events) events | \(String(format: "%.1f s", c.seconds)) | \(fmt(Double(c.events) / c.seconds)) | < 60 s |")
    }

    func stationBenchmarks() async throws {
        let bare = try bareSQLite(rows: swipes)
        let pty = try await ptyDelivery(samples: samples)
        let pipeline = try await pipelineRun()
        print("## Pipeline vs bare SQLite (WAL, synchronous=FULL, one fsync'd transaction per commit)")
        print("| measure | pipeline (pty → decoder → visit → commit) | bare SQLite insert loop | ratio | goal |")
        print("| --- | --- | --- | --- | --- |")
        print("| throughput | \(fmt(pipeline.throughput)) events/s | \(fmt(bare.throughput)) rows/s | \(pct(pipeline.throughput / bare.throughput)) | ≥ 50% |")
        print("| latency p50 | \(ms(pipeline.p50)) swipe→commit | \(ms(bare.p50)) per commit | | |")
        print("| latency p99 | \(ms(pipeline.p99)) swipe→commit | \(ms(bare.p99)) per commit | \(String(format: "%.2f×", pipeline.p99 / bare.p99)) | ≤ 2× |")
        print("| pty delivery alone p50 / p99 | \(ms(pty.p50)) / \(ms(pty.p99)) (write to the simulator's pty → bytes in the daemon's read handler) | | | |")
        print("(pipeline throughput: \(swipes) swipes written to the pty as fast as it takes them, group commit; latency: \(samples) swipes one at a time)\n")

        let startup = try await startupAndMemory()
        print("## Daemon start-up and idle memory (release binary, one simulated SAM reader polling)")
        print("| measure | median | worst | goal |")
        print("| --- | --- | --- | --- |")
        print("| start → READY=1 | \(ms(startup.readyMedian)) | \(ms(startup.readyWorst)) | ≤ 300 ms |")
        print("| idle RSS after 3 s | \(String(format: "%.1f MB", startup.rssMedian)) | \(String(format: "%.1f MB", startup.rssWorst)) | ≤ 25 MB |")
    }

    // MARK: bare SQLite

    struct Figures { var throughput: Double; var p50: Double; var p99: Double }

    func bareSQLite(rows: Int) throws -> Figures {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let pool = try DatabasePool(path: dir + "/bare.db")
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try pool.write { db in
            try db.execute(sql: """
                CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL, kind TEXT NOT NULL,
                  card_key TEXT, card_hint TEXT, reader TEXT, occupancy INTEGER NOT NULL, stay_seconds INTEGER, detail TEXT)
                """)
        }
        var latencies: [Double] = []
        let start = ContinuousClock.now
        for i in 0..<rows {
            let t = ContinuousClock.now
            try pool.write { db in
                try db.cachedStatement(sql: "INSERT INTO events(time_ms, kind, card_key, card_hint, reader, occupancy) VALUES (?,?,?,?,?,?)")
                    .execute(arguments: [Int64(i), "check_in", String(repeating: "a", count: 64), "******1234", "bench", i])
            }
            latencies.append(seconds(ContinuousClock.now - t))
        }
        let total = seconds(ContinuousClock.now - start)
        latencies.sort()
        return Figures(throughput: Double(rows) / total, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99))
    }

    // MARK: the kernel's share

    /// Latency of the pseudo-terminal alone: the simulator writes a line, the serial
    /// adapter's read handler receives it. Nothing of the daemon runs.
    func ptyDelivery(samples: Int) async throws -> Figures {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sim = try SimulatedLineReader(link: dir + "/line.tty")
        defer { sim.close() }
        let received = Mutex<ContinuousClock.Instant?>(nil)
        let signal = DispatchSemaphore(value: 0)
        let port = try SerialPort.open(path: dir + "/line.tty", baud: 921_600) { chunk in
            if case .bytes = chunk { received.withLock { $0 = .now }; signal.signal() }
        }
        defer { port.close() }
        var latencies: [Double] = []
        for i in 0..<samples {
            received.withLock { $0 = nil }
            let t = ContinuousClock.now
            sim.present(number: String(30_000_000 + i), name: "")
            _ = signal.wait(timeout: .now() + 2)
            if let r = received.withLock({ $0 }) { latencies.append(seconds(r - t)) }
        }
        latencies.sort()
        return Figures(throughput: 0, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99))
    }

    // MARK: pipeline

    func pipelineRun() async throws -> Figures {
        let dir = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
        let text = """
            [station]
            id = "bench"
            capacity = 10000
            data_dir = "\(dir)/data"
            [visits]
            when_full = "admit"
            debounce_seconds = 0
            [http]
            listen = "127.0.0.1:0"
            [privacy]
            region_key_file = "\(dir)/region.key"
            [[readers]]
            name = "bench"
            protocol = "line"
            device = "\(dir)/line.tty"
            baud = 921600
            [log]
            level = "error"
            """
        FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data(text.utf8))
        let sim = try SimulatedLineReader(link: dir + "/line.tty")
        defer { sim.close() }
        let configuration = try StationConfiguration.load(path: dir + "/station.toml")
        var logger = Logger(label: "bench")
        logger.logLevel = .error
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let runtime = try StationRuntime(configuration: configuration, prometheus: PrometheusCollectorRegistry(), logger: logger,
                                         systemd: SystemdNotifier(environment: [:]), onReady: { readyContinuation.yield() })
        let committed = Atomic<Int>(0)
        // Stamped in the commit callback, right after the transaction is durable: the bench's
        // own wake-up is not part of the pipeline.
        let committedAt = Mutex<ContinuousClock.Instant>(.now)
        let (commits, commitContinuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .unbounded)
        runtime.recorder.observe { events, _ in
            let n = events.filter { $0.event.kind == .checkIn || $0.event.kind == .checkOut }.count
            if n > 0 {
                committedAt.withLock { $0 = .now }
                committed.add(n, ordering: .relaxed)
                commitContinuation.yield()
            }
        }
        let group = ServiceGroup(configuration: .init(services: runtime.services().map { .init(service: $0) }, logger: logger))
        let running = Task { try await group.run() }
        for await _ in ready { break }
        while runtime.status().readers.first?.state != "up" { try await Task.sleep(for: .milliseconds(10)) }

        // Throughput: everything at once; the recorder commits in groups.
        var iterator = commits.makeAsyncIterator()
        let start = ContinuousClock.now
        var payload: [UInt8] = []
        for i in 0..<swipes { payload += Array(String(10_000_000 + i).utf8) + [0x0D, 0x0A] }
        sim.garbage(payload)
        while committed.load(ordering: .relaxed) < swipes { _ = await iterator.next() }
        let throughput = Double(swipes) / seconds(ContinuousClock.now - start)

        // Latency: one swipe at a time, from the write to the pty to the commit callback.
        var latencies: [Double] = []
        for i in 0..<samples {
            let before = committed.load(ordering: .relaxed)
            let t = ContinuousClock.now
            sim.present(number: String(20_000_000 + i), name: "")
            while committed.load(ordering: .relaxed) == before { _ = await iterator.next() }
            latencies.append(seconds(committedAt.withLock { $0 } - t))
        }
        latencies.sort()
        await group.triggerGracefulShutdown()
        try await running.value
        return Figures(throughput: throughput, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99))
    }

    // MARK: start-up and memory

    struct Startup { var readyMedian: Double; var readyWorst: Double; var rssMedian: Double; var rssWorst: Double }

    func startupAndMemory(runs: Int = 5) async throws -> Startup {
        var ready: [Double] = []
        var rss: [Double] = []
        for run in 0..<runs {
            let dir = try scratchDirectory()
            defer { try? FileManager.default.removeItem(atPath: dir) }
            FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
            let text = """
                [station]
                id = "bench"
                capacity = 12
                data_dir = "\(dir)/data"
                [http]
                listen = "127.0.0.1:0"
                [privacy]
                region_key_file = "\(dir)/region.key"
                [[readers]]
                name = "door"
                protocol = "idcard-sam"
                device = "\(dir)/door.tty"
                """
            FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data(text.utf8))
            let sim = try SimulatedIDCardReader(link: dir + "/door.tty")
            defer { sim.close() }
            let notify = try NotifySocket(path: dir + "/notify.sock")
            let t = ContinuousClock.now
            let p = try ManagedProcess(executable: binDir + "/yizhan-station", arguments: ["--config", dir + "/station.toml"],
                                       logPath: "/dev/null", environment: ["NOTIFY_SOCKET": dir + "/notify.sock"])
            var gotReady = false
            while let m = notify.receive(timeoutMilliseconds: 10_000) { if m.hasPrefix("READY=1") { gotReady = true; break } }
            guard gotReady else { p.terminate(); throw ValidationError("no READY=1 from the daemon (run \(run))") }
            ready.append(seconds(ContinuousClock.now - t))
            try await Task.sleep(for: .seconds(3))  // a settled process, not one mid-start
            rss.append(ProcessProbe.residentMegabytes(p.pid))
            p.terminate()
        }
        ready.sort()
        rss.sort()
        return Startup(readyMedian: percentile(ready, 0.5), readyWorst: ready.last!, rssMedian: percentile(rss, 0.5), rssWorst: rss.last!)
    }

    // MARK: helpers

    func scratchDirectory() throws -> String {
        var bytes = Array((scratch + "/yizhan-bench-XXXXXX").utf8CString)
        guard let p = bytes.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw ValidationError("cannot create a directory in \(scratch)")
        }
        return String(cString: p)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func percentile(_ sorted: [Double], _ q: Double) -> Double { sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] }
func fmt(_ v: Double) -> String { String(format: "%.0f", v) }
func pct(_ v: Double) -> String { String(format: "%.0f%%", v * 100) }
func ms(_ v: Double) -> String { String(format: "%.2f ms", v * 1000) }

