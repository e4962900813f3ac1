import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Options of `--suite soak` (`make soak`) and `--suite memory`.
struct SoakOptions: ParsableArguments {
    @Option(help: "Soak: minutes of load; time is compressed (a year of a busy station's swipes in this time).")
    var minutes = 5.0
    @Option(help: "Soak: seconds between samples of RSS, fds, WAL sizes and connections.") var sampleSeconds = 5.0
    @Option(help: "Soak and memory: stations registered and heartbeating at the collector.") var soakStations = 1000
    @Option(help: "Soak: seconds between one station's heartbeats (60 in production; compressed).") var heartbeatSeconds = 5.0
    @Option(help: "Soak: the busy station's visits a day (each visit is two swipes).") var visitsPerDay = 400
    @Option(help: "Soak: days of visits pushed through the busy station during the run.") var days = 365
    @Option(help: "Soak: simulated line readers at the busy station.") var readers = 4
    @Option(help: "Soak: event batches a second sent by the other stations (two events each).") var eventBatchesPerSecond = 20.0
    @Option(help: "Soak: office questions a second (stations, districts, usage by day and hour, nearby, dashboard pages).")
    var questionsPerSecond = 8.0
    @Option(help: "Memory: rounds of requests.") var rounds = 10
    @Option(help: "Memory: requests per round.") var roundRequests = 600
    @Option(help: "Memory: concurrent connections per round (a new client, so new connections, each round).") var connections = 300
    @Option(help: "Memory: request kinds, comma-separated (stations, districts, usage-day, usage-hour, nearby, heartbeat, events, page) or mix.")
    var roundMix = "mix"
    @Flag(help: "Memory: read malloc_info from the collector through gdb after every round, and malloc_trim(0) it at the end.")
    var mallocInfo = false
    @Option(help: "Soak and memory: KEY=VALUE added to the environment of the collector and station processes (repeatable), e.g. MALLOC_ARENA_MAX=2.")
    var processEnv: [String] = []
}

/// A busy station and a collector with many stations under compressed time, sampled until
/// the end: does anything keep growing? And the collector's memory over rounds of
/// concurrent requests: leak or allocator? Release binaries as processes, loopback only.
struct Soak {
    let bench: YizhanBench
    let options: SoakOptions
    let officePassword = "soak-office-password"

    func run(_ suite: String) async throws {
        for kv in options.processEnv {
            let parts = kv.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw ValidationError("--process-env \(kv): expected KEY=VALUE") }
            setenv(parts[0], parts[1], 1)  // inherited by the processes started below
        }
        let dir = try bench.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let world = try await SoakWorld(binDir: bench.binDir, dir: dir, stations: options.soakStations, password: officePassword)
        defer { world.collector.stop() }
        out("collector pid \(world.collector.process.processIdentifier) on \(world.collector.url), \(options.soakStations) stations, "
              + "environment: \(options.processEnv.isEmpty ? "default" : options.processEnv.joined(separator: " "))")
        if suite == "memory" {
            try await memoryRounds(world)
        } else {
            try await soak(world)
        }
    }

    // MARK: the soak

    struct Sample {
        var t: Double
        var collectorRSS: Double, collectorFDs: Int, collectorThreads: Int
        var stationRSS: Double, stationFDs: Int, stationThreads: Int
        var collectorWAL: Double, stationWAL: Double, stationDB: Double
        var connections: Int
        var swipes: Int, acknowledged: Int64
        var requests: Int, errors: Int
    }

    func soak(_ world: SoakWorld) async throws {
        let runSeconds = options.minutes * 60
        let swipes = options.visitsPerDay * options.days * 2
        let (stations, heartbeatEvery, batchRate, questionRate) = (options.soakStations, options.heartbeatSeconds,
                                                                   options.eventBatchesPerSecond, options.questionsPerSecond)
        let station = try await BusyStation(binDir: bench.binDir, dir: world.dir, collector: world.collector.url,
                                            readers: options.readers, token: SoakWorld.busyToken)
        defer { station.stop() }
        out("busy station pid \(station.process.processIdentifier): \(options.readers) line readers, "
              + "\(options.visitsPerDay) visits a day × \(options.days) days = \(swipes) swipes in \(fmt(runSeconds)) s "
              + "(\(fmt(Double(swipes) / runSeconds)) swipes/s); \(options.soakStations) stations heartbeating every "
              + "\(fmt(options.heartbeatSeconds)) s (\(fmt(Double(options.soakStations) / options.heartbeatSeconds)) req/s), "
              + "\(fmt(options.eventBatchesPerSecond)) event batches/s, \(fmt(options.questionsPerSecond)) office questions/s\n")

        let load = SoakLoad(world: world)
        try await load.login()
        let collectorDB = try DatabaseQueue(path: world.dir + "/collector.db", configuration: readOnly())
        let walPaths = (world.dir + "/collector.db-wal", station.dataDir + "/station.db-wal")
        let clock = ContinuousClock()
        let t0 = clock.now
        let end = t0 + .seconds(runSeconds)
        let driver = SwipeDriver(readers: station.readers, total: swipes, seconds: runSeconds)
        driver.start()

        var samples: [Sample] = []
        func sample() async throws -> Sample {
            let c = world.collector.process.processIdentifier, s = station.process.processIdentifier
            let acked = try await collectorDB.read { db in
                try Int64.fetchOne(db, sql: "SELECT last_ack FROM stations WHERE id = ?", arguments: [SoakWorld.busyID])
            } ?? 0
            return Sample(t: seconds(clock.now - t0),
                          collectorRSS: bench.residentMegabytes(pid: c), collectorFDs: ProcessProbe.fds(c), collectorThreads: ProcessProbe.threads(c),
                          stationRSS: bench.residentMegabytes(pid: s), stationFDs: ProcessProbe.fds(s), stationThreads: ProcessProbe.threads(s),
                          collectorWAL: ProcessProbe.megabytes(walPaths.0), stationWAL: ProcessProbe.megabytes(walPaths.1),
                          stationDB: ProcessProbe.megabytes(station.dataDir + "/station.db"),
                          connections: ProcessProbe.establishedConnections(port: world.collector.port),
                          swipes: driver.written.load(ordering: .relaxed), acknowledged: acked,
                          requests: load.stats.total.load(ordering: .relaxed), errors: load.stats.errors.load(ordering: .relaxed))
        }
        func printRow(_ s: Sample) {
            out("| \(fmt(s.t)) | \(f1(s.collectorRSS)) | \(s.collectorFDs) | \(s.collectorThreads) | \(f1(s.stationRSS)) | \(s.stationFDs) | "
                  + "\(s.stationThreads) | \(f1(s.collectorWAL)) | \(f1(s.stationWAL)) | \(f1(s.stationDB)) | \(s.connections) | \(s.swipes) | "
                  + "\(s.acknowledged) | \(s.requests) | \(s.errors) |")
        }
        out("| s | collector RSS MB | fds | threads | station RSS MB | fds | threads | collector WAL MB | station WAL MB | station.db MB "
              + "| conns | swipes | acked at collector | requests | errors |")
        out("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        let first = try await sample()
        samples.append(first)
        printRow(first)

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await load.heartbeats(stations: stations, every: heartbeatEvery, until: end) }
            group.addTask { await load.eventBatches(rate: batchRate, until: end) }
            group.addTask { await load.questions(rate: questionRate, until: end) }
            group.addTask { await load.logins(every: 60, until: end) }
            var next = t0 + .seconds(options.sampleSeconds)
            while next <= end {
                try await Task.sleep(until: next, clock: clock)
                guard station.process.isRunning, world.collector.process.isRunning else {
                    throw BenchError("a process exited during the soak (station \(station.process.isRunning), collector \(world.collector.process.isRunning)); "
                                     + "station log: \(station.logTail())")
                }
                let s = try await sample()
                samples.append(s)
                printRow(s)
                next = next + .seconds(options.sampleSeconds)
            }
            try await group.waitForAll()
        }
        driver.stop()

        // Everything the station committed reaches the collector: polled (bounded) until the
        // station's log has stopped growing and the collector has acknowledged all of it.
        var lastSeq: Int64 = -1
        let drainStart = clock.now
        var acked: Int64 = 0
        while true {
            let seq = try station.lastSeq()
            acked = try await collectorDB.read { db in
                try Int64.fetchOne(db, sql: "SELECT last_ack FROM stations WHERE id = ?", arguments: [SoakWorld.busyID])
            } ?? 0
            if (acked >= seq && seq == lastSeq) || clock.now - drainStart > .seconds(120) { lastSeq = seq; break }
            lastSeq = seq
            try await Task.sleep(for: .milliseconds(500))
        }
        let drainSeconds = seconds(clock.now - drainStart)
        let last = try await sample()
        printRow(last)
        try collectorDB.close()

        let written = driver.written.load(ordering: .relaxed)
        out("\nbusy station: \(written) of \(swipes) swipes written in \(fmt(runSeconds)) s; station log ends at seq \(lastSeq); "
              + "collector acknowledged \(acked) (\(acked >= lastSeq ? "all" : "NOT all") \(String(format: "%.1f", drainSeconds)) s after the load stopped)")
        out("station log by kind: \(try station.eventKinds())")
        load.stats.printTable()
        try await load.shutdown()

        // Verdicts: the highest value of the last third against the highest of the middle third.
        // High-water marks (RSS, threads, WAL files) by the highest value of each third;
        // fds and connections follow the load's bursts, so by the median of each third (a
        // leak raises the median, a burst does not).
        let series: [(String, [Double], Double, Double, Bool)] = [
            ("collector RSS (MB)", samples.map(\.collectorRSS), 0.05, 2, false),
            ("collector fds", samples.map { Double($0.collectorFDs) }, 0, 8, true),
            ("collector threads", samples.map { Double($0.collectorThreads) }, 0, 2, false),
            ("station RSS (MB)", samples.map(\.stationRSS), 0.05, 2, false),
            ("station fds", samples.map { Double($0.stationFDs) }, 0, 4, true),
            ("station threads", samples.map { Double($0.stationThreads) }, 0, 2, false),
            ("collector WAL (MB)", samples.map(\.collectorWAL), 0.10, 1, false),
            ("station WAL (MB)", samples.map(\.stationWAL), 0.10, 1, false),
            ("established connections to the collector", samples.map { Double($0.connections) }, 0.10, 10, true),
        ]
        out("\n| series | first | middle third | last third | judged by | allowed | verdict |")
        out("| --- | --- | --- | --- | --- | --- | --- |")
        var rising: [String] = []
        for (name, values, relative, absolute, median) in series {
            let v = PlateauVerdict(values, relative: relative, absolute: absolute, median: median)
            if !v.plateau { rising.append(name) }
            out("| \(name) | \(f1(values.first ?? .nan)) | \(f1(v.middle)) | \(f1(v.last)) | \(median ? "median" : "max") | "
                  + "+\(fmt(relative * 100))% +\(f1(absolute)) | \(v.plateau ? "plateau" : "**still rising**") |")
        }
        out("(station.db grows with the data it holds, \(f1(first.stationDB)) → \(f1(last.stationDB)) MB: that is the log, not a leak; it is not judged)")
        let errors = load.stats.errors.load(ordering: .relaxed)
        if errors > 0 { out("\(errors) requests failed") }
        guard rising.isEmpty, acked >= lastSeq else {
            out("\nsoak verdict: NOT steady — \(rising.isEmpty ? "" : "still rising: " + rising.joined(separator: ", "))\(acked >= lastSeq ? "" : "; the station's log did not reach the collector")")
            throw ExitCode(1)
        }
        out("\nsoak verdict: every series reached a plateau")
    }

    func readOnly() -> Configuration {
        var c = Configuration()
        c.readonly = true
        c.busyMode = .timeout(10)
        return c
    }

    // MARK: collector memory over rounds

    func memoryRounds(_ world: SoakWorld) async throws {
        let kinds = options.roundMix == "mix"
            ? SoakLoad.roundKinds
            : options.roundMix.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for k in kinds where !SoakLoad.roundKinds.contains(k) { throw ValidationError("--round-mix: unknown kind \(k)") }
        let load = SoakLoad(world: world)
        try await load.login()
        // Live state for every station and some events, so every question has something to read.
        try await load.prime(stations: options.soakStations)
        let pid = world.collector.process.processIdentifier
        out("## Collector memory: \(options.rounds) rounds of \(options.roundRequests) requests at \(options.connections) connections "
              + "(\(kinds.joined(separator: ", ")))")
        out("| round | seconds | errors | peak conns | peak RSS MB | RSS after MB | arenas | malloc'd from the system MB | in use MB | free inside malloc MB |")
        out("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        try await waitForNoConnections(world)
        let before = bench.residentMegabytes(pid: pid)
        let info0 = options.mallocInfo ? MallocInfo.read(pid: pid, dir: world.dir, trim: false) : nil
        out("| 0 (primed) | | | \(ProcessProbe.establishedConnections(port: world.collector.port)) | | \(f1(before)) | \(info0.map { "\($0.arenas)" } ?? "") | "
              + "\(info0.map { f1($0.systemMB) } ?? "") | \(info0.map { f1($0.inUseMB) } ?? "") | \(info0.map { f1($0.freeMB) } ?? "") |")
        var rss: [Double] = [before]
        var inUse: [Double] = info0.map { [$0.inUseMB] } ?? []
        for round in 1...options.rounds {
            let r = try await load.round(requests: options.roundRequests, connections: options.connections, kinds: kinds, offset: round * options.roundRequests)
            try await waitForNoConnections(world)
            let m = bench.residentMegabytes(pid: pid)
            rss.append(m)
            let info = options.mallocInfo ? MallocInfo.read(pid: pid, dir: world.dir, trim: false) : nil
            if let info { inUse.append(info.inUseMB) }
            out("| \(round) | \(String(format: "%.1f", r.seconds)) | \(r.errors) | \(r.peakConnections) | \(f1(r.peakRSS)) | \(f1(m)) | \(info.map { "\($0.arenas)" } ?? "") | "
                  + "\(info.map { f1($0.systemMB) } ?? "") | \(info.map { f1($0.inUseMB) } ?? "") | \(info.map { f1($0.freeMB) } ?? "") |")
        }
        if options.mallocInfo, let trimmed = MallocInfo.read(pid: pid, dir: world.dir, trim: true) {
            let after = bench.residentMegabytes(pid: pid)
            out("after malloc_trim(0): RSS \(f1(after)) MB (was \(f1(rss.last!)) MB); malloc holds \(f1(trimmed.systemMB)) MB from the system, "
                  + "\(f1(trimmed.inUseMB)) MB in use, \(trimmed.arenas) arenas")
        }
        try await load.shutdown()
        if let e = load.stats.firstError.withLock({ $0 }) { out("first failed request: \(e)") }
        // Rounds are few and each adds its share: a tighter tolerance than the soak's.
        let v = PlateauVerdict(rss, relative: 0.02, absolute: 1)
        out("RSS: \(f1(rss.first!)) MB primed → \(f1(rss.last!)) MB after \(options.rounds) rounds; max of middle third \(f1(v.middle)), "
              + "of last third \(f1(v.last)): \(v.plateau ? "plateau" : "still rising")")
        if inUse.count > 2 {
            let u = PlateauVerdict(inUse, relative: 0.05, absolute: 1)
            out("memory in use inside malloc: \(f1(inUse.first!)) MB primed → \(f1(inUse.last!)) MB; max of middle third \(f1(u.middle)), "
                  + "of last third \(f1(u.last)): \(u.plateau ? "flat (what grows is free memory kept by malloc, not live objects)" : "growing: look for a leak")")
        }
        if !v.plateau { throw ExitCode(1) }
    }
}

extension Soak {
    /// A round's client has closed its connections; wait (bounded) until the collector has let go of them.
    func waitForNoConnections(_ world: SoakWorld) async throws {
        let start = ContinuousClock.now
        while ProcessProbe.establishedConnections(port: world.collector.port) > 0 && ContinuousClock.now - start < .seconds(10) {
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// The last third's highest (or median) value against the middle third's, with a tolerance.
struct PlateauVerdict {
    var middle: Double, last: Double, plateau: Bool
    init(_ values: [Double], relative: Double, absolute: Double, median: Bool = false) {
        let n = values.count
        guard n >= 3 else { middle = .nan; last = .nan; plateau = true; return }
        func pick(_ part: ArraySlice<Double>) -> Double { median ? part.sorted()[part.count / 2] : part.max()! }
        middle = pick(values[(n / 3)..<(2 * n / 3)])
        last = pick(values[(2 * n / 3)...])
        plateau = last <= middle * (1 + relative) + absolute
    }
}

/// Printed and flushed at once: rows appear as they are measured, also through a pipe.
func out(_ line: String) { print(line); fflush(nil) }

func f1(_ v: Double) -> String { String(format: "%.1f", v) }

// MARK: the collector with its stations and users

final class SoakWorld: @unchecked Sendable {
    static let busyID = "soak-busy"
    static let busyToken = "yzs_soak_busy"
    static func token(_ i: Int) -> String { "yzs_soak_\(i)" }
    /// A 32 × 32 grid around Shenjiamen, about 330 m apart: the 15-minute circle finds a few.
    static func position(_ i: Int) -> (Double, Double) { (29.93 + Double(i / 32) * 0.003, 122.28 + Double(i % 32) * 0.0035) }

    let dir: String
    let stations: Int
    let collector: CollectorBench.Collector
    let officeToken: String

    init(binDir: String, dir: String, stations: Int, password: String) async throws {
        self.dir = dir
        self.stations = stations
        let path = dir + "/collector.db"
        // The stations straight into the database (as the heartbeat bench does); the office user as an operator adds one.
        let store = try SQLiteCollectorStore(path: path)
        try await store.close()
        let pool = try DatabasePool(path: path)
        try await pool.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<stations {
                let (lat, lon) = Self.position(i)
                try insert.execute(arguments: ["soak-\(i)", "站\(i)", "district-\(i / 50)", 12, lat, lon, Tokens.hash(Self.token(i))])
            }
            try insert.execute(arguments: [Self.busyID, "繁忙站", "busy", 40, 29.9, 122.2, Tokens.hash(Self.busyToken)])
        }
        try pool.close()
        FileManager.default.createFile(atPath: dir + "/admin.toml", contents: Data("""
            [storage]
            url = "sqlite://\(path)"
            """.utf8))
        let add = Process()
        add.executableURL = URL(fileURLWithPath: binDir + "/yizhan-collector")
        add.arguments = ["user", "add", "--config", dir + "/admin.toml", "--name", "office", "--role", "office"]
        let input = Pipe(), output = Pipe()
        add.standardInput = input
        add.standardOutput = output
        add.standardError = FileHandle.nullDevice
        try add.run()
        input.fileHandleForWriting.write(Data((password + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        add.waitUntilExit()
        guard add.terminationStatus == 0, let token = text.split(separator: "\n").last.map(String.init), token.hasPrefix("yzu_") else {
            throw BenchError("yizhan-collector user add failed (\(add.terminationStatus)): \(text)")
        }
        officeToken = token
        collector = try await CollectorBench.Collector(binDir: binDir, dir: dir, storage: "sqlite://\(path)")
    }
}

// MARK: the busy station

final class BusyStation: @unchecked Sendable {
    let process = Process()
    let readers: [SimulatedLineReader]
    let dataDir: String
    let log: String

    init(binDir: String, dir: String, collector: String, readers count: Int, token: String) async throws {
        dataDir = dir + "/station"
        log = dir + "/station.log"
        readers = try (0..<count).map { try SimulatedLineReader(link: dir + "/door-\($0).tty") }
        FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
        FileManager.default.createFile(atPath: dir + "/station.token", contents: Data((token + "\n").utf8))
        let readerTables = (0..<count).map {
            """
            [[readers]]
            name = "door-\($0)"
            protocol = "line"
            device = "\(dir)/door-\($0).tty"
            baud = 921600
            """
        }.joined(separator: "\n")
        // Compressed time: no debounce (a card comes back within milliseconds), heartbeats at the minimum.
        FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data("""
            [station]
            id = "\(SoakWorld.busyID)"
            capacity = 40
            data_dir = "\(dataDir)"
            [visits]
            debounce_seconds = 0
            [http]
            listen = "127.0.0.1:0"
            [privacy]
            region_key_file = "\(dir)/region.key"
            \(readerTables)
            [[amenities]]
            kind = "microwave"
            [[amenities]]
            kind = "water_dispenser"
            [uplink]
            collector = "\(collector)"
            token_file = "\(dir)/station.token"
            heartbeat_seconds = 5
            [log]
            level = "warning"
            """.utf8))
        let notify = try DatagramSocket(path: dir + "/notify.sock")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.executableURL = URL(fileURLWithPath: binDir + "/yizhan-station")
        process.arguments = ["--config", dir + "/station.toml"]
        var environment = ProcessInfo.processInfo.environment
        environment["NOTIFY_SOCKET"] = dir + "/notify.sock"
        process.environment = environment
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        var ready = false
        while let m = notify.receive(timeoutMilliseconds: 30_000) { if m.hasPrefix("READY=1") { ready = true; break } }
        guard ready else { stop(); throw BenchError("no READY=1 from the busy station: \(logTail())") }
        // Every reader open (its reader_up event is in the log) before the first swipe.
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        let t0 = ContinuousClock.now
        while try await db.read({ try Int.fetchOne($0, sql: "SELECT count(DISTINCT reader) FROM events WHERE kind = 'reader_up'") }) ?? 0 < count {
            guard ContinuousClock.now - t0 < .seconds(30) else { stop(); throw BenchError("the readers did not come up: \(logTail())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        try db.close()
    }

    func lastSeq() throws -> Int64 {
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? db.close() }
        return try db.read { try Int64.fetchOne($0, sql: "SELECT max(seq) FROM events") } ?? 0
    }

    /// How many events of each kind the station logged.
    func eventKinds() throws -> String {
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? db.close() }
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").map { "\($0[0] as String) \($0[1] as Int)" }
        }.joined(separator: ", ")
    }

    func logTail() -> String { String((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "") }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
        for r in readers { r.close() }
    }
}

/// Writes the swipes on a thread of its own, paced to spread `total` over `seconds`: a
/// card checks in, and checks out after twenty others came (about twenty inside).
final class SwipeDriver: @unchecked Sendable {
    let readers: [SimulatedLineReader]
    let total: Int
    let seconds: Double
    let written = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(readers: [SimulatedLineReader], total: Int, seconds: Double) {
        self.readers = readers; self.total = total; self.seconds = seconds
    }

    func start() {
        let t = Thread { [self] in
            defer { done.signal() }
            let start = ContinuousClock.now
            var inside: [Int] = [], head = 0, nextCard = 0, n = 0
            let cards = 5000
            while n < total && !stopping.load(ordering: .relaxed) {
                let elapsed = Double((ContinuousClock.now - start).components.seconds) + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
                let target = min(total, Int(elapsed / seconds * Double(total)) + 1)
                while n < target {
                    let card: Int
                    if inside.count - head >= 20 || (total - n) <= inside.count - head {
                        card = inside[head]; head += 1
                        if head > 4096 { inside.removeFirst(head); head = 0 }
                    } else {
                        card = nextCard % cards; nextCard += 1
                        inside.append(card)
                    }
                    // A card always at the same reader: swipes of one card at two readers a few
                    // milliseconds apart (no person does that) may be decided out of order.
                    readers[card % readers.count].present(number: String(31_000_000 + card), name: "")
                    n += 1
                }
                written.store(n, ordering: .relaxed)
                usleep(2000)
            }
            written.store(n, ordering: .relaxed)
        }
        t.name = "soak-swipes"
        t.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        done.wait()
    }
}

// MARK: load on the collector

final class RequestStats: Sendable {
    struct Kind { var ok = 0, errors = 0; var latencies: [Double] = [] }
    let kinds = Mutex<[String: Kind]>([:])
    let total = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let firstError = Mutex<String?>(nil)

    func record(_ kind: String, latency: Double, ok: Bool, error: String? = nil) {
        total.add(1, ordering: .relaxed)
        if !ok {
            errors.add(1, ordering: .relaxed)
            if let error { firstError.withLock { if $0 == nil { $0 = "\(kind): \(error)" } } }
        }
        kinds.withLock { k in
            var s = k[kind] ?? Kind()
            if ok { s.ok += 1 } else { s.errors += 1 }
            s.latencies.append(latency)
            k[kind] = s
        }
    }

    func printTable() {
        out("\n| request | count | errors | p50 | p99 |")
        out("| --- | --- | --- | --- | --- |")
        for (name, s) in kinds.withLock({ $0 }).sorted(by: { $0.key < $1.key }) {
            let sorted = s.latencies.sorted()
            out("| \(name) | \(s.ok + s.errors) | \(s.errors) | \(ms(percentile(sorted, 0.5))) | \(ms(percentile(sorted, 0.99))) |")
        }
        if let e = firstError.withLock({ $0 }) { out("first error: \(e)") }
    }
}

final class SoakLoad: Sendable {
    let world: SoakWorld
    let stats = RequestStats()
    /// Each station's next event seq.
    private let seqs: Mutex<[Int64]>
    private let session = Mutex<String?>(nil)
    /// The dashboard's client: a login answers 303 with the cookie, which must not be followed.
    private let browser: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.redirectConfiguration = .disallow
        c.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    /// The stations' and the office's client: idle connections close after 5 s, so the
    /// collector's connection count follows the load instead of the pool's longest burst.
    private let api: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(5), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        c.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    static let roundKinds = ["stations", "districts", "usage-day", "usage-hour", "nearby", "heartbeat", "events", "page"]
    static let questionKinds = ["stations", "districts", "usage-day", "usage-hour", "nearby", "nearby", "page", "overview"]

    init(world: SoakWorld) {
        self.world = world
        seqs = Mutex(Array(repeating: 0, count: world.stations))
    }

    func shutdown() async throws {
        try await browser.shutdown()
        try await api.shutdown()
    }

    var url: String { world.collector.url }

    // MARK: requests

    func request(_ kind: String, _ i: Int) -> HTTPClientRequest {
        let n = world.stations
        var r: HTTPClientRequest
        switch kind {
        case "heartbeat":
            r = post("/api/v1/ingest/heartbeat", token: SoakWorld.token(i % n), body: heartbeat(i % n, occupancy: i % 12))
        case "events":
            let s = (i * 7919) % n
            let first = seqs.withLock { s2 in defer { s2[s] += 2 }; return s2[s] + 1 }
            r = post("/api/v1/ingest/events", token: SoakWorld.token(s), body: events(s, first: first))
        case "stations": r = get("/api/v1/stations")
        case "districts": r = get("/api/v1/districts")
        case "usage-day": r = get("/api/v1/usage?district=district-\(i % max(1, n / 50))&bucket=day")
        case "usage-hour": r = get("/api/v1/usage?station=soak-\(i % n)&bucket=hour")
        case "nearby":
            let (lat, lon) = SoakWorld.position(i % n)
            r = get("/api/v1/nearby?lat=\(lat + 0.001)&lon=\(lon + 0.001)&amenity=microwave")
        case "page": r = page("/stations/soak-\(i % n)")
        default: r = page("/")
        }
        return r
    }

    private func get(_ path: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url + path)
        r.headers.add(name: "Authorization", value: "Bearer \(world.officeToken)")
        return r
    }

    private func page(_ path: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url + path)
        if let cookie = session.withLock({ $0 }) { r.headers.add(name: "Cookie", value: cookie) }
        return r
    }

    private func post(_ path: String, token: String, body: String) -> HTTPClientRequest {
        var r = HTTPClientRequest(url: url + path)
        r.method = .POST
        r.headers.add(name: "Authorization", value: "Bearer \(token)")
        r.headers.add(name: "Content-Type", value: "application/json")
        r.body = .bytes(ByteBuffer(string: body))
        return r
    }

    private func heartbeat(_ s: Int, occupancy: Int) -> String {
        let time = RFC3339.format(Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)), offset: .china)
        return #"{"station_id":"soak-\#(s)","time":"\#(time)","occupancy":\#(occupancy),"capacity":12,"open":true,"readers":[{"name":"door","state":"up"}],"amenities":{"microwave":"ok","water_dispenser":"ok","toilet":"out_of_order"},"backlog":0,"last_ack":0,"last_seq":0,"version":"soak"}"#
    }

    private func events(_ s: Int, first: Int64) -> String {
        let time = RFC3339.format(Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)), offset: .china)
        let key = Tokens.hash("card-\(s)-\(first % 40)")
        return #"{"station_id":"soak-\#(s)","events":[{"seq":\#(first),"time":"\#(time)","kind":"check_in","card_key":"\#(key)","reader":"door","occupancy":1,"stay_seconds":null,"detail":null,"card_hint":null},{"seq":\#(first + 1),"time":"\#(time)","kind":"check_out","card_key":"\#(key)","reader":"door","occupancy":0,"stay_seconds":600,"detail":null,"card_hint":null}]}"#
    }

    /// Sends one request on `client` and records its answer.
    func send(_ kind: String, _ request: HTTPClientRequest, client: HTTPClient? = nil, timeout: TimeAmount = .seconds(30)) async {
        let t = ContinuousClock.now
        do {
            let response = try await (client ?? (kind == "page" || kind == "overview" ? browser : api))
                .execute(request, timeout: timeout)
            _ = try await response.body.collect(upTo: 32 << 20)
            stats.record(kind, latency: seconds(ContinuousClock.now - t), ok: response.status.code < 300,
                         error: response.status.code < 300 ? nil : "HTTP \(response.status.code)")
        } catch {
            stats.record(kind, latency: seconds(ContinuousClock.now - t), ok: false, error: "\(error)")
        }
    }

    /// A dashboard login (bcrypt on the collector): the session cookie for the page views.
    func login() async throws {
        var r = HTTPClientRequest(url: url + "/login")
        r.method = .POST
        r.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        r.body = .bytes(ByteBuffer(string: "name=office&password=soak-office-password"))
        let t = ContinuousClock.now
        let response = try await browser.execute(r, timeout: .seconds(30))
        _ = try await response.body.collect(upTo: 1 << 20)
        guard response.status == .seeOther, let cookie = response.headers["Set-Cookie"].first?.split(separator: ";").first else {
            stats.record("login", latency: seconds(ContinuousClock.now - t), ok: false, error: "HTTP \(response.status.code)")
            throw BenchError("dashboard login answered \(response.status)")
        }
        stats.record("login", latency: seconds(ContinuousClock.now - t), ok: true)
        session.withLock { $0 = String(cookie) }
    }

    // MARK: open-loop schedules

    /// Starts `body(i)` at `rate` a second until `end`, whatever the answers do.
    private func openLoop(rate: Double, until end: ContinuousClock.Instant, _ body: @escaping @Sendable (Int) async -> Void) async {
        guard rate > 0 else { return }
        let clock = ContinuousClock()
        let t0 = clock.now
        await withDiscardingTaskGroup { group in
            var i = 0
            while true {
                let due = t0 + .seconds(Double(i) / rate)
                if due >= end { break }
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                let n = i
                group.addTask { await body(n) }
                i += 1
            }
        }
    }

    func heartbeats(stations: Int, every: Double, until end: ContinuousClock.Instant) async {
        await openLoop(rate: Double(stations) / every, until: end) { i in await self.send("heartbeat", self.request("heartbeat", i)) }
    }

    func eventBatches(rate: Double, until end: ContinuousClock.Instant) async {
        await openLoop(rate: rate, until: end) { i in await self.send("events", self.request("events", i)) }
    }

    func questions(rate: Double, until end: ContinuousClock.Instant) async {
        await openLoop(rate: rate, until: end) { i in
            let kind = Self.questionKinds[i % Self.questionKinds.count]
            await self.send(kind, self.request(kind, i / Self.questionKinds.count))
        }
    }

    /// An office worker logs in now and then (a new session each time).
    func logins(every: Double, until end: ContinuousClock.Instant) async {
        await openLoop(rate: 1 / every, until: end) { i in if i > 0 { try? await self.login() } }
    }

    /// One heartbeat from every station and a batch from each, 50 at a time, on a client
    /// of its own that closes its connections afterwards.
    func prime(stations: Int) async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        for kind in ["heartbeat", "events"] {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<stations {
                    if i >= 50 { try await group.next() }
                    group.addTask { await self.send(kind, self.request(kind, i), client: client) }
                }
                try await group.waitForAll()
            }
        }
        try await client.shutdown()
        let errors = stats.errors.load(ordering: .relaxed)
        guard errors == 0 else { throw BenchError("priming failed: \(stats.firstError.withLock { $0 } ?? "")") }
    }

    struct Round { var seconds: Double; var errors: Int; var peakConnections: Int; var peakRSS: Double }

    /// `requests` requests over `connections` connections at once, as `ab -n 600 -c 300`
    /// does: each of `connections` workers sends its share one after the other, through a
    /// new client that closes its connections at the end.
    func round(requests: Int, connections: Int, kinds: [String], offset: Int) async throws -> Round {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)
        c.timeout = .init(connect: .seconds(120), read: .seconds(120))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        let errorsBefore = stats.errors.load(ordering: .relaxed)
        let peak = PeakCounter(), peakRSS = PeakCounter()
        let port = world.collector.port, pid = world.collector.process.processIdentifier
        let t0 = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Watch the connections and the collector's RSS while the round runs.
                while !Task.isCancelled {
                    let n = ProcessProbe.establishedConnections(port: port), kb = ProcessProbe.residentKilobytes(pid)
                    peak.value.withLock { $0 = max($0, n) }
                    peakRSS.value.withLock { $0 = max($0, kb) }
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
            await withDiscardingTaskGroup { workers in
                for w in 0..<min(connections, requests) {
                    workers.addTask {
                        for i in stride(from: w, to: requests, by: connections) {
                            let kind = kinds[i % kinds.count]
                            await self.send(kind, self.request(kind, offset + i / kinds.count), client: client, timeout: .seconds(120))
                        }
                    }
                }
            }
            group.cancelAll()
        }
        let elapsed = seconds(ContinuousClock.now - t0)
        try await client.shutdown()
        return Round(seconds: elapsed, errors: stats.errors.load(ordering: .relaxed) - errorsBefore,
                     peakConnections: peak.value.withLock { $0 }, peakRSS: Double(peakRSS.value.withLock { $0 }) / 1024)
    }
}

final class PeakCounter: Sendable { let value = Mutex<Int>(0) }

// MARK: what /proc says

enum ProcessProbe {
    static func fds(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// The whole of a /proc file: they claim size 0 and come a page per read(2).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let status = read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func threads(_ pid: Int32) -> Int {
        guard let status = read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }) else { return -1 }
        return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
    }

    static func megabytes(_ path: String) -> Double {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0) / 1_048_576
    }

    /// Established TCP connections whose local port is `port` (the server's side of each).
    static func establishedConnections(port: Int) -> Int {
        let hexPort = String(format: ":%04lX", port)
        var n = 0
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = read(file) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if f.count > 3, f[1].hasSuffix(hexPort), f[3] == "01" { n += 1 }
            }
        }
        return n
    }
}

/// glibc's own account of the heap (`malloc_info`), read from the running collector
/// through gdb; optionally `malloc_trim(0)` first.
struct MallocInfo {
    var arenas: Int
    /// Bytes malloc holds from the kernel (arenas' heaps and mmapped chunks).
    var systemMB: Double
    /// Of those, in free chunks inside malloc (reusable, not returned).
    var freeMB: Double
    var inUseMB: Double { systemMB - freeMB }

    static func read(pid: Int32, dir: String, trim: Bool) -> MallocInfo? {
        let out = dir + "/malloc-info-\(UInt32.random(in: 0...UInt32.max)).xml"
        var commands = ["call (int)malloc_trim(0)"]
        if !trim { commands = [] }
        commands += ["call (void*)fopen(\"\(out)\", \"w\")", "call (int)malloc_info(0, $\(trim ? 2 : 1))", "call (int)fclose($\(trim ? 2 : 1))"]
        let arguments = ["-p", "\(pid)", "-batch", "-nx", "--readnever"] + commands.flatMap { ["-ex", $0] }
        // Not through Foundation's Process: its children inherit the bench's blocked signals,
        // and gdb waits for a SIGCHLD that never comes (the collector stays stopped).
        guard let gdb = spawnWithDefaultSignals("/usr/bin/gdb", arguments, output: dir + "/gdb.log") else { return nil }
        // gdb stops the collector while it calls into it: never leave it stopped.
        let deadline = Date() + 60
        var status: Int32 = 0
        while waitpid(gdb, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(gdb, SIGKILL)
                waitpid(gdb, &status, 0)
                kill(pid, SIGCONT)
                FileHandle.standardError.write(Data("gdb did not finish in 60 s: \((try? String(contentsOfFile: dir + "/gdb.log", encoding: .utf8))?.suffix(3000) ?? "")\n".utf8))
                return nil
            }
            usleep(20_000)
        }
        defer { unlink(out) }
        guard let xml = try? String(contentsOfFile: out, encoding: .utf8), let tail = xml.range(of: "</heap>", options: .backwards) else { return nil }
        let arenas = xml.components(separatedBy: "<heap nr=").count - 1
        let summary = String(xml[tail.upperBound...])
        func size(_ tag: String) -> Double {
            guard let r = summary.range(of: tag), let s = summary[r.upperBound...].range(of: "size=\""),
                  let e = summary[s.upperBound...].firstIndex(of: "\"") else { return 0 }
            return (Double(summary[s.upperBound..<e]) ?? 0) / 1_048_576
        }
        let free = size("<total type=\"fast\"") + size("<total type=\"rest\"")
        let system = size("<system type=\"current\"") + size("<total type=\"mmap\"")
        return MallocInfo(arenas: arenas, systemMB: system, freeMB: free)
    }
}

/// posix_spawn with every signal unblocked and at its default, standard input from
/// /dev/null, standard output and error appended to `output`.
func spawnWithDefaultSignals(_ path: String, _ arguments: [String], output: String) -> pid_t? {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp { free(p) } }
    var pid = pid_t()
    return posix_spawn(&pid, path, &actions, &attributes, argv, envp) == 0 ? pid : nil
}
