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
                          collectorRSS: ProcessProbe.residentMegabytes(c), collectorFDs: ProcessProbe.fds(c), collectorThreads: ProcessProbe.threads(c),
                          stationRSS: ProcessProbe.residentMegabytes(s), stationFDs: ProcessProbe.fds(s), stationThreads: ProcessProbe.threads(s),
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
        let before = ProcessProbe.residentMegabytes(pid)
        let info0 = options.mallocInfo ? MallocInfo.read(pid: pid, dir: world.dir, trim: false) : nil
        out("| 0 (primed) | | | \(ProcessProbe.establishedConnections(port: world.collector.port)) | | \(f1(before)) | \(info0.map { "\($0.arenas)" } ?? "") | "
              + "\(info0.map { f1($0.systemMB) } ?? "") | \(info0.map { f1($0.inUseMB) } ?? "") | \(info0.map { f1($0.freeMB) } ?? "") |")
        var rss: [Double] = [before]
        var inUse: [Double] = info0.map { [$0.inUseMB] } ?? []
        for round in 1...options.rounds {
            let r = try await load.round(requests: options.roundRequests, connections: options.connections, kinds: kinds, offset: round * options.roundRequests)
            try await waitForNoConnections(world)
            let m = ProcessProbe.residentMegabytes(pid)
            rss.append(m)
            let info = options.mallocInfo ? MallocInfo.read(pid: pid, dir: world.dir, trim: false) : nil
            if let info { inUse.append(info.inUseMB) }
            out("| \(round) | \(String(format: "%.1f", r.seconds)) | \(r.errors) | \(r.peakConnections) | \(f1(r.peakRSS)) | \(f1(m)) | \(info.map { "\($0.arenas)" } ?? "") | "
                  + "\(info.map { f1($0.systemMB) } ?? "") | \(info.map { f1($0.inUseMB) } ?? "") | \(info.map { f1($0.freeMB) } ?? "") |")
        }
        if options.mallocInfo, let trimmed = MallocInfo.read(pid: pid, dir: world.dir, trim: true) {
            let after = ProcessProbe.residentMegabytes(pid)
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
