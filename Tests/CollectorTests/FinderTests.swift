import CompressNIO
import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import YizhanCore
@testable import YizhanCollector

/// The public finder and open data over real HTTP against a collector on port 0: what is
/// offered first, the GeoJSON feed's shape, ETags and 304, no cookie anywhere, 400s for bad
/// questions, 429 after the burst, the page without JavaScript, and the onward list in the
/// heartbeat answer.
@Suite struct FinderTests {
    struct Answer { var status: Int; var headers: [(String, String)]; var body: String; var bytes: ByteBuffer = ByteBuffer()
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    /// A client that neither asks for nor undoes compression (`HTTPClient.shared` does both).
    static let plainClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: HTTPClient.Configuration())

    func fetch(_ url: String, headers: [(String, String)] = [], plain: Bool = false) async throws -> Answer {
        var request = HTTPClientRequest(url: url)
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        let response = try await (plain ? Self.plainClient : HTTPClient.shared).execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        return Answer(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                      body: String(buffer: bytes), bytes: bytes)
    }

    /// Polls until `condition` holds (the index follows heartbeats within a second).
    func eventually(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting for \(what)")
    }

    static let lat = 29.95, lon = 122.30
    // id, metres north (0.001° ≈ 111 m), occupancy, open, microwave
    static let world: [(String, Double, Int, Bool, AmenityStatus)] = [
        ("near-full", 0.001, 6, true, .ok),
        ("near-closed", 0.0015, 0, false, .ok),
        ("near-broken", 0.002, 1, true, .outOfOrder),
        ("good-600m", 0.0054, 2, true, .ok),
        ("good-900m", 0.0081, 0, true, .degraded),
    ]

    /// Registers the world's stations and sends one heartbeat from each; returns their tokens.
    @discardableResult
    func populate(_ url: String, _ store: SQLiteCollectorStore) async throws -> [String: String] {
        var tokens: [String: String] = [:]
        for (id, north, _, _, _) in Self.world {
            let t = Tokens.generate(prefix: "yzs_")
            try await store.addStation(StationRecord(id: id, name: "驿站 \(id)", region: RegionPath(parsing: "浙江省/舟山市/普陀区")!,
                                                     address: "沈家门 <\(id)> 路", capacity: 6, latitude: Self.lat + north, longitude: Self.lon),
                                       tokenHash: Tokens.hash(t))
            tokens[id] = t
        }
        _ = try await beat(url, tokens)
        return tokens
    }

    /// A heartbeat from every station; their answers' bodies by station.
    func beat(_ url: String, _ tokens: [String: String]) async throws -> [String: String] {
        var answers: [String: String] = [:]
        for (id, _, occupancy, open, microwave) in Self.world {
            let hb = Heartbeat(stationID: id, time: RFC3339.format(.now(), offset: .china), occupancy: occupancy, capacity: 6, open: open,
                               readers: [], amenities: ["microwave": microwave.rawValue, "toilet-2": "ok"], backlog: 0, lastAck: 0,
                               lastSeq: 0, version: "t", openingHours: ["07:00-22:00"])
            let r = try await post(url + "/api/v1/ingest/heartbeat", token: tokens[id]!, body: try JSONEncoder().encode(hb))
            #expect(r.status == 200, "\(r.body)")
            answers[id] = r.body
        }
        return answers
    }

    @Test func nearbyOffersRoomAndAWorkingAmenityFirstWithETagsAndNoCookies() async throws {
        try await withCollector { url, store in
            try await populate(url, store)
            let q = url + "/open/v1/nearby?lat=\(Self.lat)&lon=\(Self.lon)&amenity=microwave&limit=10"
            var ids: [String] = []
            try await eventually("the index to hold the heartbeats") {
                let r = try await fetch(q)
                let stations = (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: [[String: Any]]])?["stations"] ?? []
                ids = stations.map { $0["id"] as! String }
                return ids.count == 4
            }
            #expect(ids == ["good-600m", "good-900m", "near-full", "near-broken"])
            let r = try await fetch(q)
            #expect(r.status == 200 && r.header("Set-Cookie") == nil)
            #expect(r.body.contains(#""available":true,"distance_m":600"#) && r.body.contains(#""walk_minutes":10"#), "\(r.body)")
            #expect(r.header("Cache-Control") == "private, max-age=5")
            let etag = try #require(r.header("ETag"))
            #expect(etag.hasPrefix("\"") && !etag.hasPrefix("W/"))
            let again = try await fetch(q, headers: [("If-None-Match", etag)])
            #expect(again.status == 304 && again.body.isEmpty && again.header("ETag") == etag)
            #expect(try await fetch(q, headers: [("If-None-Match", "\"other\"")]).status == 200)

            for bad in ["lat=91&lon=0", "lon=122", "lat=a&lon=1", "lat=nan&lon=1", "lat=1&lon=1&amenity=Micro%20wave", "lat=1&lon=1&limit=0",
                        "lat=1&lon=1&limit=21", "lat=1&lon=1&limit=x", "lat=1&lon=1&amenity=", "lat=1&lon=1&limit=", "lat=&lon=1"] {
                let e = try await fetch(url + "/open/v1/nearby?" + bad)
                #expect(e.status == 400 && e.body.contains(#""error":"bad_query""#), "\(bad): \(e.status) \(e.body)")
            }
        }
    }

    @Test func theGeoJSONFeedHasTheSpecsShapeAndAnswers304() async throws {
        try await withCollector { url, store in
            try await populate(url, store)
            var features: [[String: Any]] = []
            try await eventually("the feed to show the heartbeats") {
                let r = try await fetch(url + "/open/v1/stations.geojson")
                let doc = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
                features = doc["features"] as! [[String: Any]]
                return doc["type"] as? String == "FeatureCollection" && features.count == 5
                    && features.allSatisfy { (($0["properties"] as! [String: Any])["updated"] as? String) != nil }
            }
            let full = try #require(features.first { (($0["properties"] as! [String: Any])["id"] as! String) == "near-full" })
            let geometry = full["geometry"] as! [String: Any]
            #expect(full["type"] as? String == "Feature" && geometry["type"] as? String == "Point")
            #expect(geometry["coordinates"] as? [Double] == [Self.lon, Self.lat + 0.001])
            let p = full["properties"] as! [String: Any]
            #expect(Set(p.keys) == ["id", "name", "address", "region", "open", "capacity", "free_seats", "opening_hours", "amenities", "updated"])
            #expect(p["name"] as? String == "驿站 near-full" && p["address"] as? String == "沈家门 <near-full> 路")
            #expect(p["region"] as? String == "浙江省/舟山市/普陀区" && p["open"] as? Bool == true && p["capacity"] as? Int == 6)
            #expect(p["free_seats"] as? Int == 0 && p["opening_hours"] as? [String] == ["07:00-22:00"])
            #expect(p["amenities"] as? [String: String] == ["microwave": "ok", "toilet": "ok"])
            let closed = features.first { (($0["properties"] as! [String: Any])["id"] as! String) == "near-closed" }!["properties"] as! [String: Any]
            #expect(closed["open"] as? Bool == false)

            let r = try await fetch(url + "/open/v1/stations.geojson", plain: true)
            #expect(r.header("Content-Type") == "application/geo+json" && r.header("Cache-Control") == "public, max-age=10")
            #expect(r.header("Set-Cookie") == nil && r.header("Access-Control-Allow-Origin") == "*")
            let etag = try #require(r.header("ETag"))
            let conditional = try await fetch(url + "/open/v1/stations.geojson", headers: [("If-None-Match", "W/\"x\", \(etag)")], plain: true)
            #expect(conditional.status == 304 && conditional.body.isEmpty)
            #expect(!r.body.contains("card") && !r.body.contains("visit"), "nothing about people")

            // Gzip'd for the clients that accept it: the same bytes, its own ETag; either
            // ETag is current for a conditional GET.
            #expect(r.header("Vary") == "Accept-Encoding" && r.header("Content-Encoding") == nil)
            let gz = try await fetch(url + "/open/v1/stations.geojson", headers: [("Accept-Encoding", "br;q=1, gzip;q=0.8")], plain: true)
            #expect(gz.status == 200 && gz.header("Content-Encoding") == "gzip" && gz.header("Vary") == "Accept-Encoding")
            #expect(gz.header("ETag") == String(etag.dropLast()) + "-gz\"" && gz.header("Cache-Control") == "public, max-age=10")
            var compressed = gz.bytes
            let inflated = try compressed.decompress(with: .gzip())
            #expect(String(buffer: inflated) == r.body && gz.bytes.readableBytes < r.bytes.readableBytes / 2,
                    "\(gz.bytes.readableBytes) bytes gzip'd, \(r.bytes.readableBytes) plain")
            // A gzip client holding either representation is told it is current, by its own ETag.
            for tag in [etag, gz.header("ETag")!] {
                let again = try await fetch(url + "/open/v1/stations.geojson", headers: [("Accept-Encoding", "gzip"), ("If-None-Match", tag)], plain: true)
                #expect(again.status == 304 && again.bytes.readableBytes == 0 && again.header("Content-Encoding") == nil)
                #expect(again.header("ETag") == tag && again.header("Vary") == "Accept-Encoding")
            }
            let refused = try await fetch(url + "/open/v1/stations.geojson", headers: [("Accept-Encoding", "gzip;q=0, identity")], plain: true)
            #expect(refused.header("Content-Encoding") == nil && refused.body == r.body)
            // Without gzip the gzip'd ETag is not current: the plain body comes.
            let mismatch = try await fetch(url + "/open/v1/stations.geojson", headers: [("If-None-Match", gz.header("ETag")!)], plain: true)
            #expect(mismatch.status == 200 && mismatch.header("ETag") == etag && mismatch.body == r.body)
        }
    }

    @Test func acceptEncodingIsReadAsRFC9110Says() {
        #expect(CollectorHTTP.acceptsGzip("gzip") && CollectorHTTP.acceptsGzip("deflate, GZIP;q=0.5") && CollectorHTTP.acceptsGzip("x-gzip"))
        #expect(CollectorHTTP.acceptsGzip("*") && CollectorHTTP.acceptsGzip("br, *;q=0.1"))
        #expect(!CollectorHTTP.acceptsGzip(nil) && !CollectorHTTP.acceptsGzip("") && !CollectorHTTP.acceptsGzip("br, deflate"))
        #expect(!CollectorHTTP.acceptsGzip("gzip;q=0") && !CollectorHTTP.acceptsGzip("gzip; q=0.000, *") && !CollectorHTTP.acceptsGzip("*;q=0"))
        #expect(!CollectorHTTP.acceptsGzip("*, gzip;q=0"), "gzip refused by name, whatever * says")
    }

    @Test func thePageWorksWithoutJavaScriptAndSetsNoCookie() async throws {
        try await withCollector { url, store in
            try await populate(url, store)
            let q = url + "/find?lat=\(Self.lat)&lon=\(Self.lon)&amenity=microwave"
            try await eventually("the page to list the stations") { try await fetch(q).body.contains("驿站 good-900m") }
            let page = try await fetch(q)
            #expect(page.status == 200 && page.header("Set-Cookie") == nil)
            #expect(page.header("Content-Type") == "text/html; charset=utf-8")
            #expect(page.header("Content-Security-Policy")?.contains("default-src 'none'") == true)
            #expect(page.body.utf8.count < 30_000, "\(page.body.utf8.count) bytes")
            // Available first, in order; the full and broken ones only in the second list.
            let first = try #require(page.body.range(of: "驿站 good-600m")), second = try #require(page.body.range(of: "驿站 good-900m"))
            let others = try #require(page.body.range(of: "id=\"others\""))
            #expect(first.lowerBound < second.lowerBound && second.lowerBound < others.lowerBound)
            #expect(page.body.range(of: "驿站 near-full")!.lowerBound > others.lowerBound)
            #expect(!page.body.contains("near-closed"))
            #expect(page.body.contains("步行约 10 分钟") && page.body.contains("空位 4"))
            #expect(page.body.contains("沈家门 &lt;good-600m&gt; 路"), "escaped")
            #expect(page.body.contains("geo:29.9554,122.3?q=29.9554,122.3(%E9%A9%BF%E7%AB%99%20good-600m)"))
            #expect(page.body.contains("https://uri.amap.com/marker?position=122.3,29.9554&amp;name=%E9%A9%BF%E7%AB%99%20good-600m&amp;coordinate=wgs84"))
            #expect(page.body.contains("baidumap://map/marker?location=29.9554,122.3&amp;title="))
            #expect(!page.body.contains("http://") && !page.body.contains("<img"), "nothing fetched from elsewhere")
            // The region way in, and a bad question as a page.
            let region = try await fetch(url + "/find?region=%E6%B5%99%E6%B1%9F%E7%9C%81%2F%E8%88%9F%E5%B1%B1%E5%B8%82")
            #expect(region.status == 200 && region.body.contains("驿站 good-900m") && !region.body.contains("驿站 near-full"))
            let start = try await fetch(url + "/find")
            #expect(start.status == 200 && start.body.contains("<option value=\"浙江省/舟山市\">"))
            let bad = try await fetch(url + "/find?lat=1")
            #expect(bad.status == 400 && bad.body.contains("lat and lon go together") && bad.header("Set-Cookie") == nil)
            let script = try await fetch(url + "/find.js")
            #expect(script.status == 200 && script.body.contains("getCurrentPosition") && script.header("Set-Cookie") == nil)
        }
    }

    @Test func theHeartbeatAnswerCarriesTheNearestOpenStationsWithRoom() async throws {
        try await withCollector { url, store in
            let tokens = try await populate(url, store)
            var answer = HeartbeatAnswer()
            try await eventually("the onward list") {
                let answers = try await beat(url, tokens)
                answer = try JSONDecoder().decode(HeartbeatAnswer.self, from: Data(answers["near-full"]!.utf8))
                return answer.onward?.count == 3
            }
            // near-broken has room (no amenity asked); near-closed is closed; itself left out.
            #expect(answer.onward?.map(\.id) == ["near-broken", "good-600m", "good-900m"])
            #expect(answer.onward?.first?.walkMinutes == 2 && answer.onward?.first?.freeSeats == 5)
        }
    }

    @Test func publicEndpointsAnswer429WithRetryAfterAfterTheBurst() async throws {
        try await withCollector(configuration: "[public]\nrequests_per_second = 1\nburst = 5\n") { url, _ in
            // The burst is always granted; after it, requests come faster than one a second
            // refills, so a 429 follows (asked until it does: a slow machine only delays it).
            var statuses: [Int] = []
            var last: Answer?
            let paths = ["/open/v1/stations.geojson", "/find", "/open/v1/nearby?lat=1&lon=1", "/find.js", "/find"]
            for i in 0..<60 where last == nil {
                let r = try await fetch(url + paths[i % paths.count])
                statuses.append(r.status)
                if r.status == 429 { last = r }
            }
            #expect(statuses.prefix(5).allSatisfy { $0 == 200 } && statuses.last == 429, "\(statuses)")
            let refused = try #require(last)
            #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 1 && refused.body.contains("too_many_requests"))
            #expect(try await fetch(url + "/healthz").status == 200, "only the public endpoints are limited")
        }
    }
}

/// The finder page rendered from its view model: escaped, bilingual, and no unescaped value.
@Suite struct FindPageRenderTests {
    @Test func theFindPageEscapesStationTextsAndHasNoUnescapedValue() {
        let now = Timestamp(secondsSinceEpoch: 1_795_000_000)
        let hostile = #"<script>alert("x")</script>"#
        let index = FinderIndex(stations: [
            FinderStation(id: "a", name: hostile, address: hostile, region: "浙江省/舟山市", latitude: 29.95, longitude: 122.3, capacity: 4,
                          occupancy: 1, open: true, amenities: ["microwave": .ok], openingHours: ["07:00-22:00"], lastSeen: now),
        ], generation: 1, builtAt: now)
        let q = FinderQuery(latitude: 29.951, longitude: 122.3, amenity: "microwave", limit: 10)
        let html = OfficePages.renderer.render(FindPage.make(question: q, index: index, now: now, offlineAfter: .seconds(180)))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<html lang="zh-CN">"#))
        #expect(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"))
        #expect(html.contains("微波炉：正常 working") && html.contains("开放时间 Hours 07:00-22:00"))
        #expect(html.contains(#"<option value="microwave" selected>"#))
        #expect(html.contains("name=%3Cscript%3Ealert%28%22x%22%29%3C%2Fscript%3E"), "links carry the name percent-encoded")
        let unescaped = [OfficeTemplates.find, OfficeTemplates.findStation].flatMap { $0.matches(of: /\{\{\{[^}]*\}\}\}|\{\{&[^}]*\}\}/) }
        #expect(unescaped.isEmpty)
    }
}
