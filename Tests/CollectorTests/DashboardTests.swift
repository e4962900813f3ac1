import AsyncHTTPClient
import Foundation
import HummingbirdBcrypt
import NIOCore
import NIOHTTP1
import Testing
import YizhanCore
import YizhanTestSupport
@testable import YizhanCollector

/// The office dashboard over real HTTP: the login, sessions, the station table, a station's
/// charts, managers limited to their stations, the read API through the browser session.
@Suite struct DashboardTests {
    static let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))

    struct Page { var status: Int; var headers: HTTPHeaders; var body: String }

    func request(_ url: String, _ method: HTTPMethod = .GET, cookie: String? = nil, form: [String: String]? = nil) async throws -> Page {
        var r = HTTPClientRequest(url: url)
        r.method = method
        if let cookie { r.headers.add(name: "Cookie", value: cookie) }
        if let form {
            r.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            r.body = .bytes(ByteBuffer(string: form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")))
        }
        let response = try await Self.client.execute(r, timeout: .seconds(20))
        return Page(status: Int(response.status.code), headers: response.headers, body: String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    func login(_ url: String, _ name: String) async throws -> String {
        let page = try await request(url + "/login", .POST, form: ["name": name, "password": "correct horse"])
        #expect(page.status == 303)
        return String(try #require(page.headers.first(name: "Set-Cookie")).split(separator: ";")[0])
    }

    @Test func officeAndManagersSeeTheirStationsWithCharts() async throws {
        try await withCollector { url, store in
            let scenario = Scenario(seed: 5)
            for (id, district) in [("p-1", "普陀"), ("p-2", "普陀"), ("d-1", "定海")] {
                try await store.addStation(StationRecord(id: id, name: "站\(id)", district: district, capacity: 6), tokenHash: "h-" + id)
                _ = try await store.ingest(station: id, events: scenario.events(for: id).map(\.ingested))
            }
            let hash = Bcrypt.hash("correct horse", cost: 4)
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: hash, tokenHash: "t1")
            try await store.addUser(UserRecord(name: "li", role: .manager, stations: ["p-1"]), passwordHash: hash, tokenHash: "t2")

            for path in ["/", "/stations/p-1"] {
                let page = try await request(url + path)
                #expect(page.status == 303 && page.headers.first(name: "Location") == "/login", "\(path)")
            }
            #expect(try await request(url + "/login", .POST, form: ["name": "office", "password": "wrong"]).status == 401)
            let ok = try await request(url + "/login", .POST, form: ["name": "office", "password": "correct horse"])
            for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] { #expect(ok.headers.first(name: "Set-Cookie")?.contains(attribute) == true) }

            let office = try await login(url, "office")
            let overview = try await request(url + "/", cookie: office)
            #expect(overview.status == 200 && overview.body.contains("<html lang=\"zh-CN\">"))
            for id in ["p-1", "p-2", "d-1"] { #expect(overview.body.contains("/stations/\(id)")) }
            #expect(overview.body.contains("<td>普陀</td><td>2</td>"), "the district roll-up")
            #expect(overview.body.contains(#"<meta http-equiv="refresh" content="30">"#), "the station table keeps itself live")
            let station = try await request(url + "/stations/p-1", cookie: office)
            #expect(station.status == 200)
            #expect(station.body.components(separatedBy: "<svg").count - 1 == 5, "five charts drawn on the server")
            #expect(!station.body.contains("<script"))
            #expect(station.headers.first(name: "Content-Security-Policy")?.contains("default-src 'none'") == true)
            // The read API answers the browser session too.
            #expect(try await request(url + "/api/v1/stations", cookie: office).status == 200)

            let manager = try await login(url, "li")
            let mine = try await request(url + "/", cookie: manager)
            #expect(mine.body.contains("/stations/p-1") && !mine.body.contains("/stations/p-2") && !mine.body.contains("/stations/d-1"))
            #expect(try await request(url + "/stations/p-2", cookie: manager).status == 404)
            let api = try await request(url + "/api/v1/stations", cookie: manager)
            #expect(api.body.contains("\"p-1\"") && !api.body.contains("\"p-2\""))

            // Logging out needs the session's CSRF token.
            #expect(try await request(url + "/logout", .POST, cookie: office, form: ["csrf": "forged"]).status == 403)
            let csrf = try #require(overview.body.firstMatch(of: /name="csrf" value="([0-9a-f]+)"/).map { String($0.1) })
            #expect(try await request(url + "/logout", .POST, cookie: office, form: ["csrf": csrf]).status == 303)
            #expect(try await request(url + "/", cookie: office).status == 303)
        }
    }

    /// Sessions are in the database: a login made through one collector is good on another
    /// collector on the same database (a restart, or a load balancer without sticky routing).
    @Test func aLoginOutlivesTheCollectorThatMadeIt() async throws {
        let scratch = Scratch()
        let path = scratch.path + "/collector.db"
        let setup = try SQLiteCollectorStore(path: path)
        try await setup.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: Bcrypt.hash("correct horse", cost: 4), tokenHash: "t1")
        try await setup.close()
        let carried = Carried("")
        try await withCollector(databasePath: path) { url, _ in carried.value = try await login(url, "office") }
        try await withCollector(databasePath: path) { url, _ in
            let cookie = carried.value
            let page = try await request(url + "/", cookie: cookie)
            #expect(page.status == 200 && page.body.contains("office"), "\(page.status)")
            // Logging out ends it for every collector: the cookie no longer opens a page.
            let csrf = try #require(page.body.firstMatch(of: /name="csrf" value="([0-9a-f]{64})"/).map { String($0.1) })
            var r = HTTPClientRequest(url: url + "/logout")
            r.method = .POST
            r.headers.add(name: "Cookie", value: cookie)
            r.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            r.headers.add(name: "Origin", value: "https://" + url.dropFirst("http://".count))
            r.body = .bytes(ByteBuffer(string: "csrf=\(csrf)"))
            #expect(try await Self.client.execute(r, timeout: .seconds(10)).status.code == 303, "an https origin of the same host is the same site")
        }
        try await withCollector(databasePath: path) { url, _ in
            let status = try await request(url + "/", cookie: carried.value).status
            #expect(status == 303, "logged out everywhere")
        }
    }

    @Test func formsFromAnotherSiteAreRefused() async throws {
        try await withCollector { url, store in
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: Bcrypt.hash("correct horse", cost: 4), tokenHash: "t1")
            for (name, value) in [("Origin", "https://evil.example"), ("Sec-Fetch-Site", "cross-site")] {
                var r = HTTPClientRequest(url: url + "/login")
                r.method = .POST
                r.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
                r.headers.add(name: name, value: value)
                r.body = .bytes(ByteBuffer(string: "name=office&password=correct+horse"))
                let response = try await Self.client.execute(r, timeout: .seconds(10))
                #expect(response.status.code == 403 && response.headers.first(name: "Set-Cookie") == nil, "\(name)")
            }
        }
    }
}
