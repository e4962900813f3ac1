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
