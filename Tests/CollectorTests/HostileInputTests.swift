import AsyncHTTPClient
import CompressNIO
import Foundation
import HummingbirdBcrypt
import NIOCore
import Testing
import YizhanCore
import YizhanTestSupport
@testable import YizhanCollector

/// What an attacker (or a broken station) found, each reproduced over real HTTP: none of
/// it may crash the collector, lock the office out, burn its CPU or hold it open.
@Suite struct HostileInputTests {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    func addStation(_ store: SQLiteCollectorStore, _ id: String) async throws -> String {
        let token = Tokens.generate(prefix: "yzs_")
        try await store.addStation(StationRecord(id: id, name: id, capacity: 12), tokenHash: Tokens.hash(token))
        return token
    }

    func addOffice(_ store: SQLiteCollectorStore, name: String = "office", password: String = "correct horse") async throws -> String {
        let token = Tokens.generate(prefix: "yzu_")
        try await store.addUser(UserRecord(name: name, role: .office, stations: []), passwordHash: Bcrypt.hash(password, cost: 4), tokenHash: Tokens.hash(token))
        return token
    }

    func event(_ seq: Int64, stay: Int64? = nil, time: String = "2026-11-20T12:00:00.000+08:00", kind: String = "check_out") -> String {
        #"{"seq":\#(seq),"time":"\#(time)","kind":"\#(kind)","occupancy":0\#(stay.map { ",\"stay_seconds\":\($0)" } ?? "")}"#
    }

    func batchJSON(_ events: [String]) -> Data { Data(#"{"station_id":"st-1","events":[\#(events.joined(separator: ","))]}"#.utf8) }

    /// The login form as a browser posts it; `source` connects from another loopback address.
    func login(port: Int, name: String, password: String, source: String? = nil) async throws -> (status: Int?, response: String) {
        let body = "name=\(name)&password=\(password)"
        let c = try RawConnection(port: port, source: source)
        try c.send("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)")
        let r = await c.readResponse(within: .seconds(30)) ?? ""
        return (status(of: r), r)
    }

    // 1. A stay of 2^62 s was stored and every later usage question trapped.
    @Test func absurdFiguresAreRefusedAtIngestAndOldOnesCannotCrashAQuestion() async throws {
        try await withCollector { url, store in
            let token = try await addStation(store, "st-1")
            let office = try await addOffice(store)
            for bad in [event(1, stay: 4_611_686_018_427_387_904), event(1, stay: 7 * 86_400 + 1), event(1, stay: -1),
                        event(9_223_372_036_854_775_807), event((1 << 53) + 1)] {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: batchJSON([bad]))
                #expect(r.status == 422 && r.body.contains("\"error\":\"invalid_event\""), "\(bad) → \(r.body)")
            }
            #expect(try await store.eventCount(station: "st-1") == 0)
            // A row from before the bound (written past the API) is left out, not summed.
            _ = try await store.ingest(station: "st-1", events: [
                IngestedEvent(seq: 1, time: RFC3339.parseStrict("2026-11-20T11:00:00+08:00")!, kind: "check_in", cardKey: nil, reader: nil, occupancy: 1, staySeconds: nil, detail: nil),
                IngestedEvent(seq: 2, time: RFC3339.parseStrict("2026-11-20T12:00:00+08:00")!, kind: "check_out", cardKey: nil, reader: nil, occupancy: 0, staySeconds: .max, detail: nil),
                IngestedEvent(seq: 3, time: RFC3339.parseStrict("2026-11-20T12:30:00+08:00")!, kind: "check_out", cardKey: nil, reader: nil, occupancy: 0, staySeconds: 600, detail: nil),
            ])
            for query in ["bucket=day", "bucket=hour", "bucket=day&format=csv"] {
                let r = try await get(url + "/api/v1/usage?station=st-1&from=2026-11-20&to=2026-11-21&" + query, token: office)
                #expect(r.status == 200, "\(query): \(r.body)")
            }
            let r = try await get(url + "/api/v1/usage?station=st-1&from=2026-11-20&to=2026-11-21&bucket=day", token: office)
            #expect(r.body.contains("\"mean_stay_seconds\":600"), "\(r.body)")
            // The collector is still there.
            #expect(try await get(url + "/healthz", token: nil).status == 200)
        }
    }

    // 6. `to=0000-01-01` answered 200 with year -1 buckets.
    @Test func periodsOutOfRangeAre400() async throws {
        try await withCollector { url, store in
            let office = try await addOffice(store)
            for q in ["to=0000-01-01", "from=0001-01-01&to=2026-01-01", "from=2026-01-01&to=9999-12-31", "to=2100-01-02",
                      "from=2026-11-23T10:00:00%2B%2B1:00", "to=2026-13-01", "bucket=week%00"] {
                let r = try await get(url + "/api/v1/usage?" + q, token: office)
                #expect(r.status == 400 && r.body.contains("\"error\":\"bad_query\""), "\(q) → \(r.status) \(r.body)")
            }
            #expect(try await get(url + "/api/v1/usage?from=2026-11-01&to=2026-11-23", token: office).status == 200)
            // Long periods in weeks or months are questions, not nonsense: their comparisons
            // too (more days than a period may have buckets), as JSON and on the dashboard.
            for q in ["from=2016-01-01&to=2026-12-31&bucket=month", "from=2000-01-01&to=2049-12-31&bucket=week"] {
                let r = try await get(url + "/api/v1/usage?" + q, token: office)
                #expect(r.status == 200 && r.body.contains("\"previous\""), "\(q) → \(r.status) \(r.body.prefix(300))")
            }
        }
    }

    // 8. Lax parsing of what stations send.
    @Test func ingestParsesStrictly() async throws {
        try await withCollector { url, store in
            let token = try await addStation(store, "st-1")
            // Content-Type must say JSON.
            var plain = HTTPClientRequest(url: url + "/api/v1/ingest/events")
            plain.method = .POST
            plain.headers.add(name: "Authorization", value: "Bearer \(token)")
            plain.headers.add(name: "Content-Type", value: "text/plain")
            plain.body = .bytes(ByteBuffer(bytes: batchJSON([event(1, kind: "check_in")])))
            let refused = try await Self.client.execute(plain, timeout: .seconds(10))
            #expect(refused.status.code == 415)
            #expect(String(buffer: try await refused.body.collect(upTo: 1 << 16)).contains("\"error\":\"json_required\""))

            // Times: RFC 3339 date-time exactly.
            for time in ["2026-11-23T10:00:00++1:00", "2026-11-23T10:00:60+08:00", "2026-11-23T10:00:00+08:00junk", " 2026-11-23T10:00:00Z",
                         "2026-11-23 10:00:00+08:00", "2026-11-23T10:00:00", "2026-11-23T10:00:00.+08:00", "２０２６-11-23T10:00:00Z"] {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: batchJSON([event(1, time: time, kind: "check_in")]))
                #expect(r.status == 422 && r.body.contains("\"error\":\"invalid_event\""), "\(time) → \(r.status) \(r.body)")
            }
            // A NUL in text would pass SQLite and fail PostgreSQL.
            let nul = #"{"seq":1,"time":"2026-11-20T12:00:00Z","kind":"bad_read","occupancy":0,"detail":"a\u0000b"}"#
            #expect(try await post(url + "/api/v1/ingest/events", token: token, body: batchJSON([nul])).status == 422)

            // Gzip: the trailer is checked and nothing may follow it.
            var raw = ByteBuffer(bytes: batchJSON([event(1, kind: "check_in")]))
            let gz = Array(buffer: try raw.compress(with: .gzip()))
            for (name, body) in [("no trailer", Array(gz.dropLast(8))), ("junk after", gz + Array("junk".utf8)), ("wrong crc", Array(gz.dropLast(8)) + [1, 2, 3, 4] + gz.suffix(4)),
                                 ("two members", gz + gz)] {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: Data(body), headers: [("Content-Encoding", "gzip")])
                #expect(r.status == 400 && r.body.contains("\"error\":\"bad_encoding\""), "\(name) → \(r.status) \(r.body)")
            }
            #expect(try await store.eventCount(station: "st-1") == 0)
            #expect(try await post(url + "/api/v1/ingest/events", token: token, body: Data(gz), headers: [("Content-Encoding", "gzip")]).status == 200)

            // 400 bodies say what was expected, not Swift's decoding internals.
            for body in [#"{"station_id":"st-1"}"#, #"{"station_id":"st-1","events":[{"seq":"x"}]}"#, #"{"station_id":1,"events":[]}"#, "[]", "\u{0}"] {
                let r = try await post(url + "/api/v1/ingest/events", token: token, body: Data(body.utf8))
                #expect(r.status == 400 && r.body.contains("\"error\":\"bad_body\""), "\(body) → \(r.body)")
                for leak in ["DecodingError", "CodingKeys", "codingPath", "debugDescription", "Swift."] {
                    #expect(!r.body.contains(leak), "\(body) → \(r.body)")
                }
            }
            // The scheme of Authorization is case-insensitive.
            let lower = try await post(url + "/api/v1/ingest/events", token: nil, body: batchJSON([event(2, kind: "check_in")]),
                                       headers: [("Authorization", "bearer \(token)")])
            #expect(lower.status == 200, "\(lower.body)")
        }
    }

    // 5 and 8: sizes of bodies, request lines and headers; HEAD.
    @Test func oversizedRequestsAre413To431AsJSONOrAPage() async throws {
        try await withCollector { url, store in
            let port = Int(url.split(separator: ":").last!)!
            // A 9 KB login form: 413 as a page for the browser.
            let big = try RawConnection(port: port)
            let form = "name=office&password=" + String(repeating: "x", count: 9000)
            try big.send("POST /login HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(form.utf8.count)\r\n\r\n\(form)")
            let page = await big.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: page) == 413 && page.contains("text/html"), "\(page.prefix(300))")
            // ... and as JSON for an API client.
            let api = try RawConnection(port: port)
            let hb = String(repeating: " ", count: 100 * 1024)
            try? api.send("POST /api/v1/ingest/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: \(hb.utf8.count)\r\n\r\n\(hb)")
            let json = await api.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: json) == 413 || status(of: json) == 401, "\(json.prefix(300))")
            let station = try await addStation(store, "st-9")
            let api2 = try RawConnection(port: port)
            try? api2.send("POST /api/v1/ingest/heartbeat HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(station)\r\nContent-Type: application/json\r\nContent-Length: \(hb.utf8.count)\r\n\r\n\(hb)")
            let json2 = await api2.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: json2) == 413 && json2.contains("\"error\":\"too_large\""), "\(json2.prefix(300))")

            for (request, code, error) in [
                ("GET /api/v1/stations?x=\(String(repeating: "a", count: 10_000)) HTTP/1.1\r\nHost: x\r\n\r\n", 414, "uri_too_long"),
                ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "b", count: 20_000))\r\n\r\n", 431, "headers_too_large"),
                // Past the parser's own limit: answered by the parser-error handler, still JSON.
                ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: \(String(repeating: "c", count: 200_000))\r\n\r\n", 431, "headers_too_large"),
                ("GET /healthz HTTP/1.1\r\nHost: x\r\n\(String(repeating: "X-A: 1\r\n", count: 300))\r\n", 431, "headers_too_large"),
            ] {
                let c = try RawConnection(port: port)
                try? c.send(request)
                let r = await c.readResponse(within: .seconds(10)) ?? ""
                #expect(status(of: r) == code && r.contains("\"error\":\"\(error)\"") && r.lowercased().contains("application/json"), "\(code): \(r.prefix(300))")
            }
            let head = try RawConnection(port: port)
            try head.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            let h = await head.readUntilClosed(within: .seconds(10))
            #expect(status(of: h.text) == 200 && h.text.hasSuffix("\r\n\r\n"), "\(h.text)")
            #expect(try await get(url + "/healthz", token: nil).status == 200)
        }
    }

    // 2, 3 and 4: logins.
    @Test func failedLoginsNeverLockTheOfficeOut() async throws {
        try await withCollector { url, store in
            _ = try await addOffice(store)
            let port = Int(url.split(separator: ":").last!)!
            // Ten failures with names that do not exist, then the real login.
            for i in 0..<10 { #expect(try await login(port: port, name: "nobody\(i)", password: "guess").status == 401) }
            #expect(try await login(port: port, name: "office", password: "correct+horse").status == 303)
            // An attacker's address that keeps failing is slowed down, with Retry-After ...
            var throttled: String?
            for _ in 0..<40 {
                let r = try await login(port: port, name: "nobody", password: "guess", source: "127.0.0.2")
                if r.status == 429 { throttled = r.response; break }
                #expect(r.status == 401)
            }
            let retry = try #require(throttled, "the address was never throttled")
            #expect(retry.lowercased().contains("retry-after: "), "\(retry.prefix(400))")
            // ... but the office, from its own address, logs in at once.
            #expect(try await login(port: port, name: "office", password: "correct+horse").status == 303)

            // Guessing the office's password from many addresses slows the account, not the others.
            _ = try await addOffice(store, name: "other")
            var accountThrottled = false
            for i in 0..<12 {
                let r = try await login(port: port, name: "office", password: "guess", source: "127.0.1.\(i + 1)")
                if r.status == 429 { accountThrottled = true; break }
            }
            #expect(accountThrottled)
            #expect(try await login(port: port, name: "other", password: "correct+horse", source: "127.0.1.1").status == 303)
        }
    }

    @Test func aBurstOfGuessesIsCutBeforeBcrypt() async throws {
        try await withCollector { url, store in
            _ = try await addOffice(store)
            let port = Int(url.split(separator: ":").last!)!
            let statuses = try await withThrowingTaskGroup(of: Int?.self) { group in
                for _ in 0..<25 { group.addTask { try await login(port: port, name: "office", password: "wrong", source: "127.0.2.1").status } }
                return try await group.reduce(into: [Int?]()) { $0.append($1) }
            }
            // The allowance, plus at most the attempts whose 2 s, 4 s, ... wait ran out while a
            // loaded machine was still delivering the burst (exactly the allowance when they
            // arrive at once: HostileInputCoreTests.attemptsAreReservedBeforeHashing).
            let evaluated = statuses.filter { $0 == 401 }.count
            #expect(evaluated <= LoginThrottle.Policy().accountAllowance + 2, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count >= 15, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 || $0 == 503 }, "\(statuses)")
        }
    }

    @Test func aPasswordIsNotCutAtANUL() async throws {
        try await withCollector { url, store in
            _ = try await addOffice(store)
            let port = Int(url.split(separator: ":").last!)!
            let r = try await login(port: port, name: "office", password: "correct+horse%00junk")
            #expect(r.status == 400, "\(r.response.prefix(300))")
            #expect(!r.response.lowercased().contains("set-cookie"))
            #expect(try await login(port: port, name: "office", password: String(repeating: "a", count: 100)).status == 400)
        }
    }

    // 7. Connections that never finish, trickle or pile up.
    @Test func slowAndIdleConnectionsAreClosed() async throws {
        try await withCollector(configuration: "[http]\nidle_timeout_seconds = 1\nbody_timeout_seconds = 1\n") { url, store in
            let token = try await addStation(store, "st-1")
            let port = Int(url.split(separator: ":").last!)!
            // Headers that never end (slowloris).
            let slow = try RawConnection(port: port)
            try slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            #expect(await slow.readUntilClosed(within: .seconds(15)).closed, "an unfinished head is closed")
            // An idle keep-alive connection after a request.
            let idle = try RawConnection(port: port)
            try idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(status(of: await idle.readResponse(within: .seconds(10))) == 200)
            #expect(await idle.readUntilClosed(within: .seconds(15)).closed, "an idle keep-alive connection is closed")
            // HTTP/1.0 without a request.
            let old = try RawConnection(port: port)
            try old.send("GET /healthz HTTP/1.0\r\n")
            #expect(await old.readUntilClosed(within: .seconds(15)).closed)
            #expect(try await get(url + "/healthz", token: nil).status == 200)
        }
    }

    /// A body that trickles (a byte now and then, so the connection is never idle): 408
    /// when it is not all there within the body timeout.
    @Test func aTricklingBodyIsCutOff() async throws {
        try await withCollector(configuration: "[http]\nidle_timeout_seconds = 30\nbody_timeout_seconds = 1\n") { url, store in
            let token = try await addStation(store, "st-1")
            let port = Int(url.split(separator: ":").last!)!
            let trickle = try RawConnection(port: port)
            try trickle.send("POST /api/v1/ingest/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
            var answer = ""
            loop: for _ in 0..<100 {
                try? trickle.send(" ")
                switch await trickle.read(within: .milliseconds(200)) {
                case .data(let text): answer += text; if answer.contains("\r\n\r\n") { break loop }
                case .closed: break loop
                case .timedOut: continue
                }
            }
            #expect(status(of: answer) == 408 && answer.contains("body_timeout"), "\(answer)")
            #expect(try await store.eventCount(station: "st-1") == 0)
            #expect(try await get(url + "/healthz", token: nil).status == 200)
        }
    }

    /// A request answered without reading its body (an unknown route, a health check):
    /// dripping a chunk before every idle timeout used to hold the connection for ever.
    @Test func aDrippedBodyNobodyReadsIsCutOffToo() async throws {
        try await withCollector(configuration: "[http]\nidle_timeout_seconds = 1\nbody_timeout_seconds = 1\n") { url, _ in
            let port = Int(url.split(separator: ":").last!)!
            for target in ["/no-such-route", "/healthz"] {
                let drip = try RawConnection(port: port)
                try drip.send("POST \(target) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
                let started = ContinuousClock.now
                var closed = false
                // Within the body timeout and the five seconds' grace; a chunk every half second.
                while !closed, ContinuousClock.now - started < .seconds(30) {
                    try? drip.send("1\r\na\r\n")
                    if case .closed = await drip.read(within: .milliseconds(500)) { closed = true }
                }
                #expect(closed, "\(target): still open after 30 s of dripping")
            }
            #expect(try await get(url + "/healthz", token: nil).status == 200)
        }
    }

    @Test func connectionsAreLimited() async throws {
        try await withCollector(configuration: "[http]\nmax_connections = 16\nidle_timeout_seconds = 60\n") { url, _ in
            let port = Int(url.split(separator: ":").last!)!
            var held: [RawConnection] = []
            for _ in 0..<16 {
                let c = try RawConnection(port: port)
                try c.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                #expect(status(of: await c.readResponse(within: .seconds(10))) == 200)
                held.append(c)
            }
            // The 17th waits in the backlog while sixteen are open ...
            let waiting = try RawConnection(port: port)
            try waiting.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await waiting.readResponse(within: .seconds(2)) == nil)
            // ... and is served as soon as one closes.
            held.removeFirst()
            #expect(status(of: await waiting.readResponse(within: .seconds(10))) == 200)
        }
    }
}
