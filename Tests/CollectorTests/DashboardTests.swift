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

    /// The pages take every station's live state from the alert pass's copy (`LiveStations`)
    /// while it is fresh and of the current station list, with the heartbeats this collector
    /// received since laid over it; a station added since, or a copy too old, sends them
    /// back to the store.
    @Test func pagesReadTheAlertPassCopyOfTheStations() async throws {
        try await withCollectorHTTP { url, store, http in
            for id in ["p-1", "p-2"] {
                try await store.addStation(StationRecord(id: id, name: "站\(id)", region: RegionPath(parsing: "浙江省/舟山市/普陀区")!, capacity: 6), tokenHash: "h-" + id)
            }
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: Bcrypt.hash("correct horse", cost: 4), tokenHash: "t1")
            func beat(_ id: String, occupancy: Int) -> HeartbeatRecord {
                HeartbeatRecord(station: id, at: .now(), occupancy: occupancy, live: LiveState(open: true, capacity: 6, amenities: [:], readers: [], backlog: 0,
                                                                                           lastSeq: 0, version: "1", clockSkewSeconds: 0))
            }
            try await store.recordHeartbeats([beat("p-1", occupancy: 2), beat("p-2", occupancy: 1)])
            let evaluator = AlertEvaluationService(store: store, configuration: AlertsConfiguration(), offset: .china, logger: quietLogger, live: http.live)
            try await evaluator.runOnce()
            #expect(http.live.fresh(revision: try await store.stationRosterRevision(), now: .now())?.stations.count == 2)
            #expect(http.live.fresh(revision: try await store.stationRosterRevision(), now: .now() + .seconds(31)) == nil, "too old")

            // The store moves on; the page shows the pass's copy: 3 inside of 12, not 5.
            try await store.recordHeartbeats([beat("p-1", occupancy: 4)])
            let office = try await login(url, "office")
            let city = "/?region=" + "浙江省/舟山市".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            #expect(try await request(url + city, cookie: office).body.contains("<td>2</td><td>2</td><td>3 / 12</td>"))
            // A station added since: the copy is of an older list, so the page reads the store.
            try await store.addStation(StationRecord(id: "p-3", name: "站p-3", region: RegionPath(parsing: "浙江省/舟山市/普陀区")!, capacity: 6), tokenHash: "h-p-3")
            let after = try await request(url + city, cookie: office).body
            #expect(after.contains("<td>3</td><td>2</td><td>5 / 18</td>") && after.contains("3 个站点 stations"))
            // The next pass publishes the new list, and the page uses it again.
            try await evaluator.runOnce()
            try await store.recordHeartbeats([beat("p-2", occupancy: 6)])
            #expect(try await request(url + city, cookie: office).body.contains("<td>3</td><td>2</td><td>5 / 18</td>"), "p-2's 6 not yet")
            // A heartbeat this collector received is laid over the copy at once (the API
            // would show it too), and stays laid over while the store holds an older one.
            http.live.note(beat("p-2", occupancy: 5))
            #expect(try await request(url + city, cookie: office).body.contains("<td>3</td><td>2</td><td>9 / 18</td>"))
            try await evaluator.runOnce()
            #expect(try await request(url + city, cookie: office).body.contains("<td>3</td><td>2</td><td>9 / 18</td>"))
            // Once the store holds a newer one, the pass's copy has it and the noted one is let go.
            try await store.recordHeartbeats([beat("p-2", occupancy: 2)])
            try await evaluator.runOnce()
            #expect(try await request(url + city, cookie: office).body.contains("<td>3</td><td>2</td><td>6 / 18</td>"))
        }
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
            // Stations without a region are the nation's own: listed as stations.
            for id in ["p-1", "p-2", "d-1"] { #expect(overview.body.contains("/stations/\(id)?")) }
            #expect(overview.body.contains(#"<meta http-equiv="refresh" content="60">"#), "the page keeps itself live")
            let station = try await request(url + "/stations/p-1", cookie: office)
            #expect(station.status == 200)
            #expect(station.body.components(separatedBy: "<svg viewBox=\"0 0 ").count - 1 == 6, "six charts drawn on the server")
            #expect(!station.body.contains("<script"))
            #expect(station.headers.first(name: "Content-Security-Policy")?.contains("default-src 'none'") == true)
            // The read API answers the browser session too.
            #expect(try await request(url + "/api/v1/stations", cookie: office).status == 200)

            let manager = try await login(url, "li")
            let mine = try await request(url + "/", cookie: manager)
            #expect(mine.body.contains("/stations/p-1?") && !mine.body.contains("/stations/p-2") && !mine.body.contains("/stations/d-1"))
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

    static func html(_ text: String) -> String {
        text.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
    }

    /// The link whose text is `text`, unescaped.
    func href(_ page: Page, text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let m = try #require(page.body.firstMatch(of: try Regex(#"<a href="([^"]*)">"# + NSRegularExpression.escapedPattern(for: text) + "</a>")),
                             "a link to \(text)", sourceLocation: sourceLocation)
        return Self.html(String(try #require(m.output[1].substring)))
    }

    func headlineVisits(_ page: Page) -> Int? {
        page.body.firstMatch(of: /<th scope="row">到访 Visits<\/th><td class="figure">([0-9,]+)<\/td>/)
            .flatMap { Int($0.1.replacingOccurrences(of: ",", with: "")) }
    }

    /// The office drills down from the nation to a station through the child-region
    /// tables; the figures are the API's; the CSV export works with the browser session;
    /// a region user cannot leave their region, a manager sees only their stations.
    @Test func theRegionPageDrillsDownWithinWhatTheUserMaySee() async throws {
        try await withCollector { url, store in
            let scenario = Scenario(seed: 9)
            let stations = [("p-1", "浙江省/舟山市/普陀区/沈家门街道", 29.95, 122.30), ("p-2", "浙江省/舟山市/普陀区/东港街道", 29.93, 122.33),
                            ("h-1", "浙江省/杭州市/西湖区", 30.25, 120.15), ("g-1", "广东省/广州市/天河区", 23.13, 113.32)]
            for (id, region, lat, lon) in stations {
                try await store.addStation(StationRecord(id: id, name: "站\(id)", region: RegionPath(parsing: region)!, capacity: 6,
                                                         latitude: lat, longitude: lon), tokenHash: "h-" + id)
                _ = try await store.ingest(station: id, events: scenario.events(for: id).map(\.ingested))
            }
            let hash = Bcrypt.hash("correct horse", cost: 4)
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: hash, tokenHash: Tokens.hash("yzu_office"))
            try await store.addUser(UserRecord(name: "zs", role: .office, stations: [], region: RegionPath(parsing: "浙江省/舟山市")),
                                    passwordHash: hash, tokenHash: "t2")
            try await store.addUser(UserRecord(name: "li", role: .manager, stations: ["p-1", "h-1"]), passwordHash: hash, tokenHash: "t3")
            let period = "from=2026-11-20&to=2026-11-22&bucket=day"

            let office = try await login(url, "office")
            let nation = try await request(url + "/?" + period, cookie: office)
            #expect(nation.status == 200 && nation.body.contains(#"<span aria-current="page">全国 Nation</span>"#))
            #expect(nation.headers.first(name: "Content-Security-Policy") == Dashboard.csp && !nation.body.contains("<script"))
            // The headline is the API's answer to the same question.
            let api = try await get(url + "/api/v1/usage?" + period, token: "yzu_office")
            let apiVisits = try #require((try JSONSerialization.jsonObject(with: Data(api.body.utf8)) as? [String: Any])
                .flatMap { $0["totals"] as? [String: Any] }?["visits"] as? Int)
            #expect(apiVisits > 0 && headlineVisits(nation) == apiVisits)
            #expect(nation.body.contains(">广东省</a></td><td>1</td>") && nation.body.contains(">浙江省</a></td><td>3</td>"))
            #expect(nation.body.components(separatedBy: "<a href=\"/stations/").count - 1 >= 4 + 4, "the map and the ranking link every station")

            // Drill down: nation → province → city → district → street → station.
            var page = nation
            var crumbs = ["全国 Nation"]
            for name in ["浙江省", "舟山市", "普陀区", "沈家门街道"] {
                let link = try href(page, text: name)
                #expect(link.hasPrefix("/?region=") && link.contains("from=2026-11-20"), "\(link)")
                page = try await request(url + link, cookie: office)
                #expect(page.status == 200, "\(link)")
                #expect(page.body.contains(#"<span aria-current="page">\#(name)</span>"#))
                for c in crumbs { #expect(page.body.contains(">\(c)</a></li>"), "the breadcrumb links back to \(c)") }
                crumbs.append(name)
            }
            #expect(!page.body.contains("下级地区") && page.body.contains("<h2>站点 Stations</h2>") && !page.body.contains("站p-2"))
            let street = headlineVisits(page)
            let streetAPI = try await get(url + "/api/v1/usage?region=" + DashboardQuery.encode("浙江省/舟山市/普陀区/沈家门街道") + "&" + period, token: "yzu_office")
            #expect(streetAPI.body.contains("\"visits\":\(try #require(street))"))
            let stationLink = try href(page, text: "站p-1")
            #expect(stationLink == "/stations/p-1?from=2026-11-20&to=2026-11-22&bucket=day")
            let station = try await request(url + stationLink, cookie: office)
            #expect(station.status == 200 && station.body.contains(#">沈家门街道</a></li><li><span aria-current="page">站p-1</span></li></ol>"#))
            #expect(headlineVisits(station) == street, "a street with one station")

            // The exports are the API's CSV, opened with the browser session.
            for label in ["用量 Usage (day) CSV", "排名 Rankings (visits) CSV"] {
                let csv = try await request(url + (try href(nation, text: label)), cookie: office)
                #expect(csv.status == 200 && csv.headers.first(name: "Content-Type") == "text/csv; charset=utf-8", "\(label)")
                #expect(csv.body.hasPrefix("\u{FEFF}") && csv.body.contains("\r\n"), "\(label)")
            }
            // A period the page cannot show, a region that does not exist.
            #expect(try await request(url + "/?from=2026-11-23&to=2026-11-20", cookie: office).status == 400)
            #expect(try await request(url + "/?from=2025-01-01&to=2026-11-20&bucket=hour", cookie: office).status == 400)
            #expect(try await request(url + "/?region=" + DashboardQuery.encode("江苏省"), cookie: office).status == 404)

            // A region user starts at their region and cannot go above or beside it.
            let zs = try await login(url, "zs")
            let own = try await request(url + "/?" + period, cookie: zs)
            #expect(own.status == 200 && own.body.contains(#"<span aria-current="page">舟山市</span>"#))
            #expect(own.body.contains("<li>全国 Nation</li><li>浙江省</li>"), "no links to pages they may not open")
            #expect(own.body.contains(">普陀区</a></td><td>2</td>") && !own.body.contains("站h-1") && !own.body.contains("站g-1"))
            for region in ["浙江省", "广东省", "浙江省/杭州市", ""] where !region.isEmpty {
                let refused = try await request(url + "/?region=" + DashboardQuery.encode(region), cookie: zs)
                #expect(refused.status == 403 && refused.body.contains("This region is outside yours."), "\(region)")
            }
            #expect(try await request(url + "/stations/h-1", cookie: zs).status == 404)
            #expect(try await request(url + "/stations/p-2", cookie: zs).status == 200)

            // A manager's pages cover their stations only.
            let li = try await login(url, "li")
            let mine = try await request(url + "/?" + period, cookie: li)
            #expect(mine.status == 200 && mine.body.contains(">浙江省</a></td><td>2</td>") && !mine.body.contains("广东省"))
            #expect(!mine.body.contains("站p-2") && !mine.body.contains("站g-1"))
            #expect(try await request(url + "/?region=" + DashboardQuery.encode("广东省"), cookie: li).status == 404)
            #expect(try await request(url + "/?region=" + DashboardQuery.encode("浙江省/舟山市/普陀区/东港街道"), cookie: li).status == 404)
        }
    }

    /// A national page of 400 stations in 31 provinces (each with 28 days of visits) counts
    /// every province and every visit. It prints how long the page took, as a figure only:
    /// speed goals live in `make bench`, never in a timed test.
    @Test func aNationalPageCoversEveryProvince() async throws {
        try await withCollector { url, store in
            let now = Timestamp.now()
            var records: [StationRecord] = []
            var hashes: [String: String] = [:]
            for i in 0..<400 {
                let province = i % 31, city = (i / 31) % 4, district = (i / 124) % 4
                let id = String(format: "s-%04d", i)
                records.append(StationRecord(id: id, name: "驿站\(i)", region: RegionPath(segments: ["省\(province)", "市\(city)", "区\(district)", "街道\(i % 3)"]),
                                             capacity: 8 + i % 10, latitude: 22 + Double(province) * 0.6 + Double(i % 7) * 0.05,
                                             longitude: 100 + Double(province) * 0.8 + Double(i % 11) * 0.05))
                hashes[id] = "h-\(id)"
            }
            _ = try await store.importStations(records, tokenHashes: hashes)
            let started = ContinuousClock.now
            for (n, r) in records.enumerated() {
                // 28 days, one visit in and out each day, at a different hour per station.
                var events: [IngestedEvent] = []
                for d in 0..<28 {
                    let t = now - .seconds(Int64(d) * 86_400 + Int64(n % 12) * 3600 + 600)
                    let card = String(repeating: String(format: "%02x", (n * 31 + d) % 256), count: 32)
                    events.append(IngestedEvent(seq: Int64(2 * d + 1), time: t, kind: "check_in", cardKey: card, reader: "door", occupancy: 1,
                                                staySeconds: nil, detail: nil))
                    events.append(IngestedEvent(seq: Int64(2 * d + 2), time: t + .seconds(300), kind: "check_out", cardKey: card, reader: "door",
                                                occupancy: 0, staySeconds: 300, detail: nil))
                }
                _ = try await store.ingest(station: r.id, events: events)
            }
            print("national page fixture: 400 stations, 22400 events ingested in \(ContinuousClock.now - started)")
            let hash = Bcrypt.hash("correct horse", cost: 4)
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: hash, tokenHash: "t1")
            let office = try await login(url, "office")
            var times: [Duration] = []
            var body = ""
            for _ in 0..<5 {
                let start = ContinuousClock.now
                let page = try await request(url + "/", cookie: office)
                times.append(ContinuousClock.now - start)
                #expect(page.status == 200)
                body = page.body
            }
            #expect(body.contains(">省0</a></td><td>13</td>") && body.contains(">省30</a></td><td>12</td>"), "31 provinces")
            #expect(headlineVisits(Page(status: 200, headers: [:], body: body)) == 11_200)
            let sorted = times.sorted()
            let median = sorted[2]
            print("national page, 400 stations, SQLite (a figure, not a test: timing belongs in make bench): median \(median), fastest \(sorted[0]), slowest \(sorted[4]), \(body.utf8.count) bytes")
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
