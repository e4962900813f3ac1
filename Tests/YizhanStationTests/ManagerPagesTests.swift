import AsyncHTTPClient
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOHTTP1
import Testing
import YizhanCore
import YizhanTestSupport
@testable import YizhanStation

/// The manager pages over real HTTP: nothing without a login, sessions in cookies, forms
/// guarded by CSRF tokens, the log with filters, pages and CSV, amenities, close the day.
@Suite(.serialized) struct ManagerPagesTests {
    let dir = TemporaryDirectory()
    /// Redirects are what these tests look at: not followed.
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    struct Page { var status: Int; var headers: [(String, String)]; var body: String
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 } }

    func request(_ station: StationRuntime, _ method: HTTPMethod, _ path: String, cookie: String? = nil,
                 form: [String: String]? = nil) async throws -> Page {
        var r = HTTPClientRequest(url: "http://127.0.0.1:\(station.boundTCPPort!)\(path)")
        r.method = method
        if let cookie { r.headers.add(name: "Cookie", value: cookie) }
        if let form {
            r.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
            r.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await Self.client.execute(r, timeout: .seconds(20))
        return Page(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                    body: String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    func login(_ station: StationRuntime, _ name: String = "li", _ password: String = "correct horse") async throws -> (cookie: String, csrf: String) {
        let page = try await request(station, .POST, "/manage/login", form: ["name": name, "password": password])
        let setCookie = try #require(page.header("Set-Cookie"))
        let cookie = String(setCookie.split(separator: ";")[0])
        let overview = try await request(station, .GET, "/manage", cookie: cookie)
        let csrf = try #require(overview.body.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })
        return (cookie, csrf)
    }

    func setUp(_ station: StationRuntime) throws {
        try station.store.setManagerPassword(name: "li", hash: Bcrypt.hash("correct horse", cost: 4))
    }

    @Test func nothingWithoutALoginAndNoForgedForms() async throws {
        let config = writeConfig(in: dir, readers: "[[amenities]]\nkind = \"microwave\"\n", visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            try setUp(station)
            for path in ["/manage", "/manage/log", "/manage/log.csv", "/manage/amenities"] {
                let page = try await request(station, .GET, path)
                #expect(page.status == 303 && page.header("Location") == "/manage/login", "\(path)")
            }
            let anonymous = try await request(station, .POST, "/manage/amenity", form: ["amenity": "microwave", "status": "closed", "csrf": "x"])
            #expect(anonymous.status == 401)
            let loginPage = try await request(station, .GET, "/manage/login")
            #expect(loginPage.status == 200 && loginPage.body.contains("<html lang=\"zh-CN\">") && loginPage.body.contains("<label for=\"password\">"))

            let wrong = try await request(station, .POST, "/manage/login", form: ["name": "li", "password": "wrong password"])
            #expect(wrong.status == 401 && wrong.header("Set-Cookie") == nil)
            let unknown = try await request(station, .POST, "/manage/login", form: ["name": "nobody", "password": "correct horse"])
            #expect(unknown.status == 401)
            let ok = try await request(station, .POST, "/manage/login", form: ["name": "li", "password": "correct horse"])
            #expect(ok.status == 303 && ok.header("Location") == "/manage")
            let cookie = try #require(ok.header("Set-Cookie"))
            for attribute in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/manage"] { #expect(cookie.contains(attribute), "\(attribute)") }

            let (session, csrf) = try await login(station)
            // A forged or missing CSRF token, or a foreign origin, changes nothing.
            for form in [["amenity": "microwave", "status": "closed", "csrf": String(repeating: "0", count: 64)],
                         ["amenity": "microwave", "status": "closed"]] {
                #expect(try await request(station, .POST, "/manage/amenity", cookie: session, form: form).status == 403)
            }
            #expect(station.recorder.amenities.entry("microwave")?.status == .ok)
            let saved = try await request(station, .POST, "/manage/amenity", cookie: session,
                                          form: ["amenity": "microwave", "status": "out_of_order", "note": "门关不上", "csrf": csrf])
            #expect(saved.status == 303)
            let m = try #require(station.recorder.amenities.entry("microwave"))
            #expect(m.status == .outOfOrder && m.by == "li" && m.note == "门关不上")
            let history = try await request(station, .GET, "/manage/amenities", cookie: session)
            #expect(history.body.contains("故障 Out of order") && history.body.contains("门关不上"))

            // Logging out ends the session: the old cookie opens nothing.
            #expect(try await request(station, .POST, "/manage/logout", cookie: session, form: ["csrf": csrf]).status == 303)
            #expect(try await request(station, .GET, "/manage", cookie: session).status == 303)
        }
    }

    @Test func theLogFiltersPagesAndExportsAndTheDayCloses() async throws {
        let config = writeConfig(in: dir, readers: "", visits: "debounce_seconds = 0", capacity: 1000)
        try await withStation(configPath: config) { station in
            try setUp(station)
            for i in 0..<60 {
                station.recorder.reader("door", signalled: .card(NormalizedCardNumber(String(1_000_000 + i)), displayName: nil), at: .now())
            }
            try await eventually("60 check-ins") { try station.kinds().filter { $0 == .checkIn }.count == 60 }
            let (cookie, csrf) = try await login(station)
            let first = try await request(station, .GET, "/manage/log?kind=check_in", cookie: cookie)
            #expect(first.body.components(separatedBy: "<td>check_in</td>").count - 1 == 50)
            #expect(first.body.contains("<td>******0059</td>"), "newest first, with the masked hint")
            let next = try #require(first.body.firstMatch(of: /href="(\/manage\/log\?[^"]*after=\d+)"/).map { String($0.1) })
            let second = try await request(station, .GET, next.replacingOccurrences(of: "&amp;", with: "&"), cookie: cookie)
            #expect(second.body.components(separatedBy: "<td>check_in</td>").count - 1 == 10)
            #expect(!second.body.contains("rel=\"next\""))

            let csv = try await request(station, .GET, "/manage/log.csv?kind=check_in", cookie: cookie)
            #expect(csv.header("Content-Type")?.hasPrefix("text/csv") == true)
            let lines = csv.body.split(separator: "\r\n")
            #expect(lines.first == "\u{FEFF}seq,time,kind,card_key,card_hint,reader,occupancy,stay_seconds,detail" && lines.count == 61, "a BOM for Excel, then the header")
            #expect(lines.dropFirst().allSatisfy { $0.split(separator: ",")[2] == "\"check_in\"" }, "text fields are quoted")
            #expect(!csv.body.contains("1000059"), "no raw card number")

            #expect(try await request(station, .POST, "/manage/close-day", cookie: cookie, form: ["csrf": csrf]).status == 303)
            #expect(station.recorder.snapshot.occupancy == 0)
            #expect(try station.kinds().last == .dayClosed)
        }
    }

    /// Failures slow the account (and the address) that fails, never the login as a whole.
    @Test func wrongPasswordsSlowTheirAccountOnly() async throws {
        let config = writeConfig(in: dir, readers: "")
        try await withStation(configPath: config) { station in
            try setUp(station)
            try station.store.setManagerPassword(name: "wang", hash: Bcrypt.hash("correct horse", cost: 4))
            // Ten failures with names that do not exist: the real managers are not hurt.
            for i in 0..<10 { #expect(try await request(station, .POST, "/manage/login", form: ["name": "nobody\(i)", "password": "guess guess"]).status == 401) }
            #expect(try await request(station, .POST, "/manage/login", form: ["name": "li", "password": "correct horse"]).status == 303)
            // Guessing li's password: after five, li waits (Retry-After), wang does not.
            var locked: Page?
            for _ in 0..<8 {
                let page = try await request(station, .POST, "/manage/login", form: ["name": "li", "password": "guess guess"])
                if page.status == 429 { locked = page; break }
                #expect(page.status == 401)
            }
            let page = try #require(locked)
            #expect(Int(page.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(try await request(station, .POST, "/manage/login", form: ["name": "li", "password": "correct horse"]).status == 429)
            #expect(try await request(station, .POST, "/manage/login", form: ["name": "wang", "password": "correct horse"]).status == 303)
        }
    }

    @Test func passwordsWithANULAndOversizedFormsAreRefused() async throws {
        let config = writeConfig(in: dir, readers: "")
        try await withStation(configPath: config) { station in
            try setUp(station)
            let port = station.boundTCPPort!
            let c = try RawConnection(port: port)
            let body = "name=li&password=correct+horse%00junk"
            try c.send("POST /manage/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
            let r = await c.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: r) == 400 && !r.lowercased().contains("set-cookie"), "\(r.prefix(300))")
            let big = try await request(station, .POST, "/manage/login", form: ["name": "li", "password": String(repeating: "x", count: 20_000)])
            #expect(big.status == 413 && big.body.contains("<html"), "\(big.status)")
            // A manager password with a NUL cannot be set either.
            let socket = try RawConnection(unixSocket: station.configuration.http.socketPath)
            let json = #"{"name":"li","password":"correct horse\u0000junk"}"#
            try socket.send("POST /api/v1/manager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(json.utf8.count)\r\n\r\n\(json)")
            let set = await socket.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: set) == 422 && set.contains("weak_password"), "\(set.prefix(300))")
        }
    }

    @Test func slowAndIdleConnectionsAreClosed() async throws {
        let path = writeConfig(in: dir, readers: "")
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "listen = \"127.0.0.1:0\"", with: "listen = \"127.0.0.1:0\"\nidle_timeout_seconds = 1\nbody_timeout_seconds = 1")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        try await withStation(configPath: path) { station in
            let port = station.boundTCPPort!
            let slow = try RawConnection(port: port)
            try slow.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
            #expect(await slow.readUntilClosed(within: .seconds(15)).closed, "an unfinished head is closed")
            let idle = try RawConnection(port: port)
            try idle.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(status(of: await idle.readResponse(within: .seconds(10))) == 200)
            #expect(await idle.readUntilClosed(within: .seconds(15)).closed, "an idle keep-alive connection is closed")
            let head = try RawConnection(port: port)
            try head.send("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(status(of: await head.readResponse(within: .seconds(10))) == 200)
            // The kiosk's live stream is a response in progress, not an idle connection.
            let stream = try RawConnection(port: port)
            try stream.send("GET /kiosk/events HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await stream.readUntilClosed(within: .seconds(3)).closed == false)
        }
    }

    /// Manager sessions are kept in the station's SQLite: a daemon restart keeps the manager
    /// logged in; logging out ends it.
    @Test func aLoginOutlivesARestart() async throws {
        let config = writeConfig(in: dir, readers: "")
        let carried = Carried("")
        try await withStation(configPath: config) { station in
            try setUp(station)
            carried.value = try await login(station).cookie
        }
        try await withStation(configPath: config) { station in
            let cookie = carried.value
            let page = try await request(station, .GET, "/manage", cookie: cookie)
            #expect(page.status == 200, "\(page.status)")
            let csrf = try #require(page.body.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })
            #expect(try await request(station, .POST, "/manage/logout", cookie: cookie, form: ["csrf": csrf]).status == 303)
            #expect(try await request(station, .GET, "/manage", cookie: cookie).status == 303)
        }
    }
}
