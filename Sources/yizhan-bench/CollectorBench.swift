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
import YizhanStation
#if canImport(Glibc)
import Glibc
#endif

/// The collector under load: the release binary as a process, driven over loopback HTTP.
struct CollectorBench {
    let binDir: String
    let scratch: () throws -> String
    let postgresURL: String?
    let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

    static let http: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        c.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    // MARK: a collector process

    final class Collector {
        let process = Process()
        let port: Int
        let storage: String
        init(binDir: String, dir: String, storage: String, extraConfiguration: String = "") async throws {
            self.storage = storage
            port = freeLoopbackPort()
            let config = dir + "/collector-\(port).toml"
            FileManager.default.createFile(atPath: config, contents: Data("""
                [http]
                listen = "127.0.0.1:\(port)"
                [storage]
                url = "\(storage)"
                [log]
                level = "warning"
                \(extraConfiguration)
                """.utf8))
            process.executableURL = URL(fileURLWithPath: binDir + "/yizhan-collector")
            process.arguments = ["serve", "--config", config]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            for _ in 0..<200 {
                if (try? await CollectorBench.http.get(url: "http://127.0.0.1:\(port)/healthz").get())?.status == .ok { return }
                try await Task.sleep(for: .milliseconds(50))
            }
            throw BenchError("the collector did not answer /healthz")
        }
        var url: String { "http://127.0.0.1:\(port)" }
        func stop() { kill(process.processIdentifier, SIGTERM); process.waitUntilExit() }
    }

    func withStore<T: Sendable>(_ storage: String, _ body: (any CollectorStore) async throws -> T) async throws -> T {
        try await CollectorStores.with(storage, logger: quiet, body)
    }

    /// A new empty database: a SQLite file, or a fresh PostgreSQL database.
    func freshStorage(_ kind: String, dir: String) async throws -> String {
        guard kind == "postgres", let admin = postgresURL else { return "sqlite://\(dir)/collector.db" }
        let name = "yizhan_bench_\(UInt32.random(in: 0...UInt32.max))"
        try await postgres(admin) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
        return admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
    }

    func postgres<T: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }

    // MARK: ingest against a bare bulk insert

    struct IngestFigures { var ingest: Double; var bare: Double; var events: Int; var stations: Int }

    /// `stations` stations each send their share of `events` in gzip'd batches of 500, all at
    /// once; then the same rows go into the same database by a bare insert of 500-row batches.
    func ingest(kind: String, stations: Int = 20, events: Int = 200_000) async throws -> IngestFigures {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = try await freshStorage(kind, dir: dir)
        var tokens: [String] = []
        try await withStore(storage) { store in
            for i in 0..<stations {
                let token = "yzs_bench_ingest_\(i)"
                try await store.addStation(StationRecord(id: "st-\(i)", name: "st-\(i)", capacity: 12), tokenHash: Tokens.hash(token))
                try await store.addStation(StationRecord(id: "bare-\(i)", name: "bare-\(i)", capacity: 12), tokenHash: Tokens.hash(token + "-bare"))
                tokens.append(token)
            }
        }
        // The batches, encoded and compressed before the clock starts, as the stations keep them.
        let perStation = events / stations
        let start = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) - .seconds(86_400)
        func rows(_ station: Int) -> [EventRecord] {
            (1...perStation).map { i in
                let seq = Int64(i)
                let inside = i % 2 == 1
                return EventRecord(RecordedEvent(seq: seq, event: StationEvent(
                    time: start + .milliseconds(seq * 250), kind: inside ? .checkIn : .checkOut,
                    cardKey: CardKey(hex: Tokens.hash("card-\(station)-\(i % 97)")), reader: "door", occupancy: inside ? 1 : 0,
                    staySeconds: inside ? nil : 250)), offset: .china)
            }
        }
        var bodies: [[ByteBuffer]] = []
        var records: [[EventRecord]] = []
        for s in 0..<stations {
            let r = rows(s)
            records.append(r)
            bodies.append(try stride(from: 0, to: r.count, by: 500).map { i in
                var raw = ByteBuffer(bytes: try JSONEncoder().encode(EventBatch(stationID: "st-\(s)", events: Array(r[i..<min(i + 500, r.count)]))))
                return try raw.compress(with: .gzip())
            })
        }
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        let t0 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<stations {
                let (url, token, batches) = (collector.url, tokens[s], bodies[s])
                group.addTask {
                    for body in batches {
                        var request = HTTPClientRequest(url: url + "/api/v1/ingest/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.body = .bytes(body)
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { throw BenchError("ingest answered \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let ingestSeconds = seconds(ContinuousClock.now - t0)
        collector.stop()

        // The bare insert: the same rows, the same table, no HTTP, JSON, gzip or validation.
        let t1 = ContinuousClock.now
        if storage.hasPrefix("sqlite://") {
            var config = Configuration()
            config.busyMode = .timeout(10)
            let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)), configuration: config)
            try await pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            for s in 0..<stations {
                let mine = records[s]
                for i in stride(from: 0, to: mine.count, by: 500) {
                    try await pool.write { db in
                        let insert = try db.cachedStatement(sql: """
                            INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """)
                        for r in mine[i..<min(i + 500, mine.count)] {
                            try insert.execute(arguments: ["bare-\(s)", r.seq, start.millisecondsSinceEpoch + r.seq * 250, r.kind, r.cardKey,
                                                           r.reader, r.occupancy, r.staySeconds, r.detail])
                        }
                    }
                }
            }
            try pool.close()
        } else {
            let recordsCopy = records
            try await postgres(storage) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for s in 0..<stations {
                        let mine = recordsCopy[s]
                        group.addTask {
                            for i in stride(from: 0, to: mine.count, by: 500) {
                                let b = mine[i..<min(i + 500, mine.count)]
                                let seqs = b.map(\.seq), times = b.map { start.millisecondsSinceEpoch + $0.seq * 250 }, kinds = b.map(\.kind)
                                let keys = b.map { $0.cardKey ?? "" }, readers = b.map { $0.reader ?? "" }
                                let occ = b.map { Int64($0.occupancy) }, stays = b.map { $0.staySeconds ?? -1 }
                                try await client.query("""
                                    INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds)
                                    SELECT \("bare-\(s)"), s, t, k, NULLIF(c, ''), NULLIF(r, ''), o, NULLIF(y, -1)
                                    FROM unnest(\(seqs)::bigint[], \(times)::bigint[], \(kinds)::text[], \(keys)::text[], \(readers)::text[],
                                                \(occ)::bigint[], \(stays)::bigint[]) AS b(s, t, k, c, r, o, y)
                                    """)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        let bareSeconds = seconds(ContinuousClock.now - t1)
        let (stored, bare) = try await withStore(storage) { check in
            (try await check.eventCount(station: "st-0"), try await check.eventCount(station: "bare-0"))
        }
        guard stored == perStation, bare == perStation else { throw BenchError("stored \(stored) and \(bare), expected \(perStation)") }
        let total = perStation * stations
        return IngestFigures(ingest: Double(total) / ingestSeconds, bare: Double(total) / bareSeconds, events: total, stations: stations)
    }

    // MARK: the national network: heartbeats from many stations

    struct LoadStep { var stations: Int; var target: Double; var achieved: Double; var p50: Double; var p99: Double; var errors: Int
        var holds: Bool { errors == 0 && achieved >= target * 0.97 && p99 < 0.050 } }

    /// Every station heartbeats once a minute; 300 events a second arrive besides, one per
    /// request as a quiet station sends them. Open loop: requests leave on schedule whatever
    /// the answers do, and latency counts from the scheduled moment.
    func heartbeats(counts: [Int], seconds runSeconds: Double = 15) async throws -> [LoadStep] {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = "sqlite://\(dir)/collector.db"
        let most = counts.max()!
        // Provisioning 1M stations one by one takes a while; the bench writes them in one go.
        let store = try SQLiteCollectorStore(path: String(storage.dropFirst("sqlite://".count)))
        try await store.close()
        let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)))
        try await pool.write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO stations(id, name, district, capacity, token_hash) VALUES (?, ?, ?, 12, ?)")
            for i in 0..<most { try insert.execute(arguments: ["st-\(i)", "站\(i)", "district-\(i / 50)", Tokens.hash("yzs_hb_\(i)")]) }
        }
        try pool.close()
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        defer { collector.stop() }
        var steps: [LoadStep] = []
        var eventSeq = Array(repeating: Int64(0), count: 300)
        for count in counts.sorted() {
            let step = try await loadStep(collector: collector, stations: count, runSeconds: runSeconds, eventSeq: &eventSeq)
            steps.append(step)
            print("  \(count) stations: \(fmt(step.achieved))/\(fmt(step.target)) req/s, p50 \(ms(step.p50)), p99 \(ms(step.p99)), errors \(step.errors)")
            if !step.holds { break }
        }
        return steps
    }

    private func loadStep(collector: Collector, stations: Int, runSeconds: Double, eventSeq: inout [Int64]) async throws -> LoadStep {
        let heartbeatRate = Double(stations) / 60, eventRate = 300.0
        let rate = heartbeatRate + eventRate
        let total = Int(rate * runSeconds)
        let url = collector.url
        let recorder = LoadRecorder()
        let clock = ContinuousClock()
        let t0 = clock.now + .milliseconds(100)
        // Event requests go to stations 0..<300 with their own rising seq; the rest are heartbeats.
        var plan: [(Int, Bool, Int64)] = []
        plan.reserveCapacity(total)
        var hb = 0
        let eventEvery = rate / eventRate
        for i in 0..<total {
            if Int(Double(i + 1) / eventEvery) > Int(Double(i) / eventEvery) {
                let s = i % 300
                eventSeq[s] += 1
                plan.append((s, true, eventSeq[s]))
            } else {
                plan.append((300 + hb % (stations - 300), false, 0))
                hb += 1
            }
        }
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let time = RFC3339.format(now, offset: .china)
        let interval = 1.0 / rate
        await withTaskGroup(of: Void.self) { group in
            for (i, (station, isEvent, seq)) in plan.enumerated() {
                let due = t0 + .seconds(Double(i) * interval)
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                let late = seconds(clock.now - due)
                group.addTask {
                    recorder.lateness.withLock { $0.append(late) }
                    var request = HTTPClientRequest(url: url + (isEvent ? "/api/v1/ingest/events" : "/api/v1/ingest/heartbeat"))
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer yzs_hb_\(station)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    let body = isEvent
                        ? #"{"station_id":"st-\#(station)","events":[{"seq":\#(seq),"time":"\#(time)","kind":"check_in","card_key":"\#(String(repeating: "ab", count: 32))","reader":"door","occupancy":1,"stay_seconds":null,"detail":null,"card_hint":null}]}"#
                        : #"{"station_id":"st-\#(station)","time":"\#(time)","occupancy":3,"capacity":12,"open":true,"readers":[{"name":"door","state":"up"}],"amenities":{"microwave":"ok","water":"ok"},"backlog":0,"last_ack":0,"last_seq":0,"version":"bench"}"#
                    request.body = .bytes(ByteBuffer(string: body))
                    do {
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        if response.status.code >= 300 { recorder.errors.add(1, ordering: .relaxed) }
                    } catch {
                        recorder.errors.add(1, ordering: .relaxed)
                    }
                    let latency = seconds(clock.now - due)
                    recorder.latencies.withLock { $0.append(latency) }
                    if !isEvent { recorder.heartbeatLatencies.withLock { $0.append(latency) } }
                }
            }
        }
        let elapsed = seconds(clock.now - t0)
        let sorted = recorder.latencies.withLock { $0.sorted() }
        let beats = recorder.heartbeatLatencies.withLock { $0.sorted() }, late = recorder.lateness.withLock { $0.sorted() }
        print("    heartbeats p50 \(ms(percentile(beats, 0.5))) p99 \(ms(percentile(beats, 0.99))); generator lateness p50 \(ms(percentile(late, 0.5))) p99 \(ms(percentile(late, 0.99)))")
        return LoadStep(stations: stations, target: rate, achieved: Double(total) / elapsed, p50: percentile(sorted, 0.5),
                        p99: percentile(sorted, 0.99), errors: recorder.errors.load(ordering: .relaxed))
    }

    // MARK: catch-up after a week offline

    struct CatchUp { var events: Int; var seconds: Double; var stationStartSeconds: Double }

    /// A station whose log holds `events` unacknowledged events starts with a local
    /// collector: the time until the collector has acknowledged the last one.
    func catchUp(events: Int = 1_000_000, stationBinDir: String) async throws -> CatchUp {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = "sqlite://\(dir)/collector.db"
        let store = try SQLiteCollectorStore(path: dir + "/collector.db")
        try await store.addStation(StationRecord(id: "catchup", name: "catch-up", capacity: 12), tokenHash: Tokens.hash("yzs_catchup"))
        try await store.close()
        FileManager.default.createFile(atPath: dir + "/station.token", contents: Data("yzs_catchup\n".utf8))
        FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
        // The station's own store, then a week of visits written straight into it.
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        do { _ = try EventStore(path: dir + "/data/station.db", stationID: "catchup") }
        let pool = try DatabasePool(path: dir + "/data/station.db")
        let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
        let step = max(1, 6 * 86_400_000 / Int64(events))
        try await pool.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO events(time_ms, kind, card_key, card_hint, reader, occupancy, stay_seconds) VALUES (?, ?, ?, ?, 'door', ?, ?)
                """)
            for i in 0..<events {
                let inside = i % 2 == 0
                try insert.execute(arguments: [start + Int64(i) * step, inside ? "check_in" : "check_out", Tokens.hash("card-\(i / 2 % 5000)"),
                                               "3301**********123X", inside ? 1 : 0, inside ? nil : step / 1000])
            }
        }
        try pool.close()
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        defer { collector.stop() }
        FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data("""
            [station]
            id = "catchup"
            capacity = 12
            data_dir = "\(dir)/data"
            [http]
            listen = "127.0.0.1:0"
            [privacy]
            region_key_file = "\(dir)/region.key"
            [uplink]
            collector = "\(collector.url)"
            token_file = "\(dir)/station.token"
            \(ProcessInfo.processInfo.environment["BENCH_UPLINK_EXTRA"] ?? "")
            [log]
            level = "warning"
            """.utf8))
        let station = Process()
        station.executableURL = URL(fileURLWithPath: stationBinDir + "/yizhan-station")
        station.arguments = ["--config", dir + "/station.toml"]
        station.standardError = FileHandle.nullDevice
        let t0 = ContinuousClock.now
        try station.run()
        defer { kill(station.processIdentifier, SIGTERM); station.waitUntilExit() }
        let reader = try DatabaseQueue(path: dir + "/collector.db")
        while true {
            let acked = try await reader.read { try Int64.fetchOne($0, sql: "SELECT last_ack FROM stations WHERE id = 'catchup'") } ?? 0
            if acked >= Int64(events) { break }
            guard station.isRunning else { throw BenchError("the station exited (\(station.terminationStatus))") }
            guard ContinuousClock.now - t0 < .seconds(600) else { throw BenchError("no catch-up in 10 minutes (at \(acked))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let total = seconds(ContinuousClock.now - t0)
        let stored = try await reader.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE station_id = 'catchup'") } ?? 0
        // The station adds its own station_started event to the backlog.
        guard stored >= events else { throw BenchError("the collector has \(stored) events, expected \(events)") }
        return CatchUp(events: events, seconds: total, stationStartSeconds: 0)
    }
}

final class LoadRecorder: Sendable {
    let latencies = Mutex<[Double]>([])
    let heartbeatLatencies = Mutex<[Double]>([])
    /// How late the generator sent each request (its own delay, included in the latency).
    let lateness = Mutex<[Double]>([])
    let errors = Atomic<Int>(0)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

func freeLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}
