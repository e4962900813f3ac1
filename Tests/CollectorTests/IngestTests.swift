import AsyncHTTPClient
import CompressNIO
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Testing
import YizhanCore
@testable import YizhanCollector

final class Scratch: Sendable {
    let path: String
    init() {
        var bytes = Array((FileManager.default.temporaryDirectory.path + "/yizhan-collector-XXXXXX").utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

final class PortBox: Sendable {
    private let v = Atomic<Int>(0)
    func set(_ p: Int) { v.store(p, ordering: .relaxed) }
    var port: Int { v.load(ordering: .relaxed) }
}

/// A collector on port 0 with a SQLite store in a temporary directory.
/// `configuration` is collector.toml text added to a 64 KB body limit.
/// `databasePath`: an existing database to open instead of a new one.
func withCollector(configuration: String = "", databasePath: String? = nil,
                   _ body: @Sendable (_ url: String, _ store: SQLiteCollectorStore) async throws -> Void) async throws {
    try await withCollectorHTTP(configuration: configuration, databasePath: databasePath) { url, store, _ in try await body(url, store) }
}

/// `withCollector`, with the collector's `CollectorHTTP` too (its caches, its live copy).
func withCollectorHTTP(configuration: String = "", databasePath: String? = nil,
                       _ body: @Sendable (_ url: String, _ store: SQLiteCollectorStore, _ http: CollectorHTTP) async throws -> Void) async throws {
    let scratch = Scratch()
    var config = try CollectorConfiguration.parse(text: "[ingest]\nmax_body_kilobytes = 64\n" + configuration, file: "collector.toml")
    let store = try SQLiteCollectorStore(path: databasePath ?? scratch.path + "/collector.db", reportOffset: config.utcOffset)
    config.port = 0
    let quiet = Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })
    let box = PortBox()
    let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
    config.host = "127.0.0.1"
    let http = CollectorHTTP(store: store, configuration: config, logger: quiet)
    let app = http.application(onServerRunning: { box.set($0.localAddress?.port ?? 0); readyContinuation.yield() })
    let group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
    let task = Task { try await group.run() }
    for await _ in ready { break }
    do {
        try await body("http://127.0.0.1:\(box.port)", store, http)
    } catch {
        await group.triggerGracefulShutdown(); _ = try? await task.value
        throw error
    }
    await group.triggerGracefulShutdown()
    try await task.value
    try await store.close()
}

struct Reply { var status: Int; var body: String }

func post(_ url: String, token: String?, body: Data, gzip: Bool = false, headers: [(String, String)] = [],
          method: String = "POST") async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    request.method = method == "PUT" ? .PUT : .POST
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    request.headers.add(name: "Content-Type", value: "application/json")
    for (k, v) in headers { request.headers.add(name: k, value: v) }
    request.body = .bytes(ByteBuffer(bytes: body))
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    return Reply(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
}

func get(_ url: String, token: String?) async throws -> Reply {
    var request = HTTPClientRequest(url: url)
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    return Reply(status: Int(response.status.code), body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
}

func batch(_ station: String, _ seqs: ClosedRange<Int64>, time: String = "2026-11-23T12:00:00.000+08:00") -> Data {
    let events = seqs.map { seq in
        EventRecord(RecordedEvent(seq: seq, event: StationEvent(time: RFC3339.parse(time, defaultOffset: .utc)!, kind: .checkIn,
                                                                 cardKey: CardKey(hex: String(repeating: "a", count: 64)),
                                                                 reader: "door", occupancy: Int(seq))), offset: .china)
    }
    return try! JSONEncoder().encode(EventBatch(stationID: station, events: events))
}

@Suite struct CollectorConfigurationTests {
    @Test func theExampleConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try CollectorConfiguration.load(path: root.appendingPathComponent("config/collector.example.toml").path)
        #expect(c.port == 9090 && c.host == "0.0.0.0")
        #expect(c.storage == .sqlite(path: "/var/lib/yizhan-collector/collector.db"))
        #expect(c.maximumBodyBytes == 8192 * 1024)
        #expect(c.utcOffset == .china && c.limits.maximumConnections == 10_000 && c.limits.idleTimeout == .seconds(75))
    }

    /// The office's local time is configured, not assumed: days and dates follow it.
    @Test func theOfficesTimeZoneIsASetting() async throws {
        let c = try CollectorConfiguration.parse(text: "[reports]\nutc_offset = \"+05:00\"\n", file: "c.toml")
        #expect(c.utcOffset == UTCOffset(seconds: 5 * 3600))
        #expect(throws: (any Error).self) { try CollectorConfiguration.parse(text: "[reports]\nutc_offset = \"CST\"\n", file: "c.toml") }
        // Rollups are hourly: a day must start on an hour.
        #expect(throws: (any Error).self) { try CollectorConfiguration.parse(text: "[reports]\nutc_offset = \"+05:30\"\n", file: "c.toml") }
        try await withCollector(configuration: "[reports]\nutc_offset = \"-03:00\"\n") { url, store in
            let token = Tokens.generate(prefix: "yzu_")
            try await store.addUser(UserRecord(name: "o", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(token))
            let r = try await get(url + "/api/v1/usage?from=2026-11-20&to=2026-11-20", token: token)
            #expect(r.status == 200 && r.body.contains("\"from\":\"2026-11-20T00:00:00.000-03:00\""), "\(r.body.prefix(200))")
        }
    }

    @Test func badStorageURLsSayWhatIsExpected() {
        do {
            _ = try CollectorConfiguration.parse(text: "[storage]\nurl = \"mysql://x\"\n", file: "c.toml")
            Issue.record("accepted mysql")
        } catch {
            #expect(error.description == "c.toml:2: [storage] url: expected sqlite:///path or postgres://user@host/db, got \"mysql://x\"")
        }
    }
}

@Suite struct IngestTests {
    func addStation(_ store: SQLiteCollectorStore, _ id: String) async throws -> String {
        let token = Tokens.generate(prefix: "yzs_")
        try await store.addStation(StationRecord(id: id, name: id, capacity: 12), tokenHash: Tokens.hash(token))
        return token
    }

    @Test func eventsAreStoredOnceWhateverTheRetries() async throws {
        try await withCollector { url, store in
            let token = try await addStation(store, "st-1")
            let first = try await post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 1...50))
            #expect(first.status == 200)
            #expect(first.body.contains("\"acknowledged_seq\":50"))
            // The same batch again (a lost acknowledgement), and overlapping ones at once.
            let replay = try await post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 1...50))
            #expect(replay.status == 200)
            async let a = post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 40...80))
            async let b = post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 40...80))
            let (ra, rb) = try await (a, b)
            #expect(ra.status == 200 && rb.status == 200)
            #expect(try await store.eventCount(station: "st-1") == 80)
            #expect(try await store.stations().first?.lastAck == 80)
            // The live occupancy is the newest event's (batch() sets occupancy = seq) ...
            #expect(try await store.stations().first?.occupancy == 80)
            // ... and a late replay of old events does not roll it back.
            _ = try await post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 10...20))
            #expect(try await store.stations().first?.occupancy == 80)
        }
    }

    @Test func gzipBodiesAreInflatedWithinTheLimit() async throws {
        try await withCollector { url, store in
            let token = try await addStation(store, "st-1")
            var raw = ByteBuffer(bytes: batch("st-1", 1...20))
            let gz = try raw.compress(with: .gzip())
            let ok = try await post(url + "/api/v1/ingest/events", token: token, body: Data(buffer: gz), headers: [("Content-Encoding", "gzip")])
            #expect(ok.status == 200)
            // A gzip bomb: small on the wire, over the 64 KB limit inflated.
            var big = ByteBuffer(bytes: [UInt8](repeating: 0x20, count: 4 << 20))
            let bomb = try big.compress(with: .gzip())
            let refused = try await post(url + "/api/v1/ingest/events", token: token, body: Data(buffer: bomb), headers: [("Content-Encoding", "gzip")])
            #expect(refused.status == 413)
            #expect(refused.body.contains("\"error\":\"too_large\""))
            let garbage = try await post(url + "/api/v1/ingest/events", token: token, body: Data([1, 2, 3]), headers: [("Content-Encoding", "gzip")])
            #expect(garbage.status == 400)
        }
    }

    @Test func aWrongTokenStoresNothing() async throws {
        try await withCollector { url, store in
            _ = try await addStation(store, "st-1")
            for token in [nil, "yzs_wrong", ""] as [String?] {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: batch("st-1", 1...5))
                #expect(r.status == 401)
                #expect(r.body.contains("\"error\":\"unauthorized\""))
            }
            #expect(try await store.eventCount(station: "st-1") == 0)
            // Another station's token cannot write for st-1.
            let other = try await addStation(store, "st-2")
            let cross = try await post(url + "/api/v1/ingest/events", token: other, body: batch("st-1", 1...5))
            #expect(cross.status == 403)
            #expect(try await store.eventCount(station: "st-1") == 0)
        }
    }

    @Test func badBodiesGet4xxWithAJSONCodeNever5xx() async throws {
        try await withCollector { url, store in
            let token = try await addStation(store, "st-1")
            let cases: [(Data, Int, String)] = [
                (Data("{not json".utf8), 400, "bad_body"),
                (Data(#"{"station_id":"st-1","events":[]}"#.utf8), 422, "empty_batch"),
                (batch("st-1", 1...3) + Data(), 200, ""),
                (Data(#"{"station_id":"st-1","events":[{"seq":5,"time":"2026-11-23T12:00:00Z","kind":"check_in","occupancy":1},{"seq":4,"time":"2026-11-23T12:00:00Z","kind":"check_in","occupancy":1}]}"#.utf8), 422, "out_of_order"),
                (Data(#"{"station_id":"st-1","events":[{"seq":9,"time":"yesterday","kind":"check_in","occupancy":1}]}"#.utf8), 422, "invalid_event"),
                (Data(#"{"station_id":"st-1","events":[{"seq":9,"time":"1999-01-01T00:00:00Z","kind":"check_in","occupancy":1}]}"#.utf8), 422, "invalid_event"),
                (Data(#"{"station_id":"st-1","events":[{"seq":9,"time":"2026-11-23T12:00:00Z","kind":"explode","occupancy":1}]}"#.utf8), 422, "invalid_event"),
                (Data(#"{"station_id":"st-1","events":[{"seq":9,"time":"2026-11-23T12:00:00Z","kind":"check_in","occupancy":1,"card_key":"nothex"}]}"#.utf8), 422, "invalid_event"),
                (Data(repeating: 0x20, count: 200 * 1024), 413, "too_large"),
            ]
            for (body, status, code) in cases {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: body)
                #expect(r.status == status, "\(r.body)")
                if !code.isEmpty { #expect(r.body.contains("\"error\":\"\(code)\""), "\(r.body)") }
            }
            #expect(try await store.eventCount(station: "st-1") == 3)
            let unknown = try await get(url + "/api/v1/nothing", token: nil)
            #expect(unknown.status == 404)
            #expect(unknown.body.contains("\"error\":\"not_found\""))
        }
    }

    @Test func heartbeatsSetTheLiveStateAndUsersSeeOnlyTheirStations() async throws {
        try await withCollector { url, store in
            let t1 = try await addStation(store, "st-1")
            _ = try await addStation(store, "st-2")
            let office = Tokens.generate(prefix: "yzu_"), manager = Tokens.generate(prefix: "yzu_")
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(office))
            try await store.addUser(UserRecord(name: "li", role: .manager, stations: ["st-1"]), passwordHash: "x", tokenHash: Tokens.hash(manager))
            let hb = Heartbeat(stationID: "st-1", time: "2026-11-23T12:00:00.000+08:00", occupancy: 7, capacity: 12, open: true,
                               readers: [], amenities: [:], backlog: 0, lastAck: 0, lastSeq: 0, version: "t")
            #expect(try await post(url + "/api/v1/ingest/heartbeat", token: t1, body: try JSONEncoder().encode(hb)).status == 200)
            #expect(try await get(url + "/api/v1/stations", token: nil).status == 401)
            #expect(try await get(url + "/api/v1/stations", token: t1).status == 401, "a station token is not a user token")
            let all = try await get(url + "/api/v1/stations", token: office)
            #expect(all.status == 200)
            #expect(all.body.contains("\"id\":\"st-1\"") && all.body.contains("\"id\":\"st-2\""))
            #expect(all.body.contains("\"occupancy\":7"))
            #expect(all.body.contains("\"online\":true"))
            let mine = try await get(url + "/api/v1/stations", token: manager)
            #expect(mine.body.contains("\"id\":\"st-1\"") && !mine.body.contains("\"id\":\"st-2\""))
        }
    }
}
