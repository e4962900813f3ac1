import AsyncHTTPClient
import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// The office's read endpoints over real HTTP: usage (JSON and CSV), the district
/// roll-up and the 15-minute service circle, each behind a user token.
@Suite struct QueryTests {
    struct Users { var office: String; var manager: String }

    func provision(_ store: SQLiteCollectorStore, _ stations: [StationRecord], managerOf: [String]) async throws -> (Users, [String: String]) {
        var tokens: [String: String] = [:]
        for s in stations {
            let t = Tokens.generate(prefix: "yzs_")
            try await store.addStation(s, tokenHash: Tokens.hash(t))
            tokens[s.id] = t
        }
        let users = Users(office: Tokens.generate(prefix: "yzu_"), manager: Tokens.generate(prefix: "yzu_"))
        try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(users.office))
        try await store.addUser(UserRecord(name: "li", role: .manager, stations: managerOf), passwordHash: "x", tokenHash: Tokens.hash(users.manager))
        return (users, tokens)
    }

    @Test func usageByHourAndDayAsJSONAndCSV() async throws {
        try await withCollector { url, store in
            let scenario = Scenario(seed: 3)
            let (users, _) = try await provision(store, [StationRecord(id: "p-1", name: "p-1", district: "普陀", capacity: 6),
                                                         StationRecord(id: "p-2", name: "p-2", district: "普陀", capacity: 6),
                                                         StationRecord(id: "d-1", name: "d-1", district: "定海", capacity: 6)], managerOf: ["p-1"])
            for id in ["p-1", "p-2", "d-1"] { _ = try await store.ingest(station: id, events: scenario.events(for: id).map(\.ingested)) }

            let r = try await get(url + "/api/v1/usage?station=p-1&from=2026-11-21&to=2026-11-21&bucket=hour", token: users.office)
            #expect(r.status == 200, "\(r.body)")
            let body = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
            let buckets = body["buckets"] as! [[String: Any]]
            #expect(buckets.count == 24)
            #expect(buckets.first?["start"] as? String == "2026-11-21T00:00:00.000+08:00")
            // The figures computed from the log itself (now is later than the scenario).
            let q = try UsagePeriod(from: RFC3339.parse("2026-11-21T00:00:00+08:00", defaultOffset: .utc)!,
                                    to: RFC3339.parse("2026-11-22T00:00:00+08:00", defaultOffset: .utc)!, bucket: .hour, offset: .china)
            let expected = LogOracle(scenario: scenario, stations: ["p-1"], now: .now()).report(q)
            #expect(buckets.map { $0["visits"] as! Int } == expected.buckets.map(\.visits))
            #expect(buckets.map { $0["unique_workers"] as! Int } == expected.buckets.map(\.uniqueWorkers))
            #expect(buckets.map { $0["peak_occupancy"] as! Int } == expected.buckets.map(\.peakOccupancy))
            #expect(buckets.map { $0["mean_stay_seconds"] as? Int } == expected.buckets.map { $0.meanStaySeconds.map(Int.init) })
            #expect((body["totals"] as! [String: Any])["visits"] as? Int == expected.totals.visits)
            #expect(expected.totals.visits > 10)

            // By district and day; the CSV has the same figures.
            let district = "%E6%99%AE%E9%99%80"   // 普陀
            let d = try await get(url + "/api/v1/usage?district=\(district)&from=2026-11-20&to=2026-11-22", token: users.office)
            #expect(d.status == 200)
            #expect((try JSONSerialization.jsonObject(with: Data(d.body.utf8)) as! [String: Any])["stations"] as? [String] == ["p-1", "p-2"])
            let csv = try await getFull(url + "/api/v1/usage?district=\(district)&from=2026-11-20&to=2026-11-22&format=csv", token: users.office)
            #expect(csv.status == 200)
            #expect(csv.headers["Content-Type"]?.hasPrefix("text/csv") == true)
            #expect(csv.headers["Content-Disposition"]?.contains("attachment; filename=\"usage-") == true)
            let lines = csv.body.split(separator: "\r\n")
            #expect(lines.first == "\u{FEFF}start,visits,unique_workers,peak_occupancy,mean_stay_seconds,rejected_full,bad_reads,fault_reports,amenity_downtime_seconds,ratings,mean_rating")
            #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("\"2026-11-") }, "text fields are quoted")
            #expect(lines.count == 4)
            let dayBuckets = (try JSONSerialization.jsonObject(with: Data(d.body.utf8)) as! [String: Any])["buckets"] as! [[String: Any]]
            #expect(lines.dropFirst().map { Int($0.split(separator: ",")[1])! } == dayBuckets.map { $0["visits"] as! Int })

            // Who may ask what, and questions that make no sense.
            #expect(try await get(url + "/api/v1/usage?station=p-1", token: nil).status == 401)
            #expect(try await get(url + "/api/v1/usage?station=p-1", token: users.manager).status == 200)
            #expect(try await get(url + "/api/v1/usage?station=p-2", token: users.manager).status == 403)
            #expect(try await get(url + "/api/v1/usage?station=nope", token: users.office).status == 404)
            let mine = try await get(url + "/api/v1/usage?from=2026-11-20&to=2026-11-22", token: users.manager)
            #expect(mine.body.contains("\"stations\":[\"p-1\"]"), "a manager's totals cover only their stations")
            for (query, status, code) in [("bucket=fortnight", 400, "bad_query"), ("from=yesterday", 400, "bad_query"),
                                          ("from=2026-11-22&to=2026-11-20", 400, "bad_query"),
                                          ("from=2020-01-01&to=2026-01-01&bucket=hour", 422, "range_too_large"),
                                          ("format=xml", 400, "bad_query"), ("district=nowhere", 404, "unknown_district")] {
                let bad = try await get(url + "/api/v1/usage?" + query, token: users.office)
                #expect(bad.status == status && bad.body.contains("\"error\":\"\(code)\""), "\(query): \(bad.status) \(bad.body)")
            }
        }
    }

    @Test func theServiceCircleFindsTheNearestOpenStationWithRoomAndTheAmenity() async throws {
        try await withCollector { url, store in
            // Around Shenjiamen, Zhoushan: 0.001° of latitude is about 111 m.
            let (lat, lon) = (29.9500, 122.3000)
            func at(_ dLat: Double) -> (Double, Double) { (lat + dLat, lon) }
            let specs: [(String, Double, Int, Bool, AmenityStatus?)] = [
                // id, metres north, occupancy, open, microwave
                ("near-full", 0.001, 6, true, .ok),
                ("near-closed", 0.002, 0, false, .ok),
                ("near-broken", 0.003, 1, true, .outOfOrder),
                ("good-600m", 0.0054, 2, true, .ok),
                ("good-900m", 0.0081, 0, true, .degraded),
                ("offline", 0.004, 0, true, .ok),
                ("far", 0.05, 0, true, .ok),
            ]
            let stations = specs.map { StationRecord(id: $0.0, name: $0.0, district: "普陀", capacity: 6, latitude: at($0.1).0, longitude: lon) }
            let (users, tokens) = try await provision(store, stations, managerOf: ["good-900m"])
            for (id, _, occupancy, open, microwave) in specs where id != "offline" {
                let hb = Heartbeat(stationID: id, time: RFC3339.format(.now(), offset: .china), occupancy: occupancy, capacity: 6, open: open,
                                   readers: [.init(name: "door", state: "up")], amenities: microwave.map { ["microwave": $0.rawValue] } ?? [:],
                                   backlog: 0, lastAck: 0, lastSeq: 0, version: "t")
                #expect(try await post(url + "/api/v1/ingest/heartbeat", token: tokens[id]!, body: try JSONEncoder().encode(hb)).status == 200)
            }
            let r = try await get(url + "/api/v1/nearby?lat=\(lat)&lon=\(lon)&amenity=microwave", token: users.office)
            #expect(r.status == 200)
            let found = (try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: [[String: Any]]])["stations"]!
            #expect(found.map { $0["id"] as! String } == ["good-600m", "good-900m"])
            #expect(found.first?["distance_m"] as? Int == 600 && found.first?["walk_minutes"] as? Int == 8 && found.first?["free"] as? Int == 4)
            // Without an amenity the broken microwave does not matter; a wider circle reaches further.
            let any = try await get(url + "/api/v1/nearby?lat=\(lat)&lon=\(lon)&radius_m=10000&limit=10", token: users.office)
            #expect(any.body.range(of: #""id":"near-broken".*"id":"good-600m".*"id":"good-900m".*"id":"far""#, options: .regularExpression) != nil, "\(any.body)")
            #expect(!any.body.contains("near-full") && !any.body.contains("near-closed") && !any.body.contains("\"offline\""))
            // A manager's circle holds only their stations.
            let mine = try await get(url + "/api/v1/nearby?lat=\(lat)&lon=\(lon)", token: users.manager)
            #expect(mine.body.contains("good-900m") && !mine.body.contains("good-600m"))
            for q in ["lat=91&lon=0", "lon=122", "lat=a&lon=1", "lat=1&lon=1&amenity=Micro%20wave", "lat=1&lon=1&radius_m=0"] {
                let bad = try await get(url + "/api/v1/nearby?" + q, token: users.office)
                #expect(bad.status == 400 && bad.body.contains("\"error\":\"bad_query\""), "\(q)")
            }
            // The district roll-up counts the same live state.
            let d = try await get(url + "/api/v1/districts", token: users.office)
            #expect(d.body.contains(#"{"capacity":42,"district":"普陀","faults":2,"occupancy":9,"online":6,"stations":7}"#), "\(d.body)")
        }
    }

    @Test func heartbeatsWithBadAmenitiesOrTimesAreRefused() async throws {
        try await withCollector { url, store in
            let (_, tokens) = try await provision(store, [StationRecord(id: "s", name: "s", capacity: 6)], managerOf: ["s"])
            for (amenities, time) in [(["microwave": "exploded"], "2026-11-23T12:00:00Z"), (["Micro wave": "ok"], "2026-11-23T12:00:00Z"),
                                      (["microwave": "ok"], "noon")] {
                let hb = Heartbeat(stationID: "s", time: time, occupancy: 1, capacity: 6, open: true, readers: [], amenities: amenities,
                                   backlog: 0, lastAck: 0, lastSeq: 0, version: "t")
                let r = try await post(url + "/api/v1/ingest/heartbeat", token: tokens["s"]!, body: try JSONEncoder().encode(hb))
                #expect(r.status == 422 && r.body.contains("invalid_heartbeat"), "\(amenities) \(time)")
            }
            // Opening hours are checked too, and kept in the live state when good.
            for (hours, status) in [(["25:00-26:00"], 422), (Array(repeating: "06:00-07:00", count: 9), 422), (["06:00-22:00"], 200)] {
                let hb = Heartbeat(stationID: "s", time: RFC3339.format(.now(), offset: .utc), occupancy: 1, capacity: 6, open: true, readers: [],
                                   amenities: [:], backlog: 0, lastAck: 0, lastSeq: 0, version: "t", openingHours: hours)
                let r = try await post(url + "/api/v1/ingest/heartbeat", token: tokens["s"]!, body: try JSONEncoder().encode(hb))
                #expect(r.status == status, "\(hours): \(r.body)")
            }
        }
    }
}

struct FullReply { var status: Int; var headers: [String: String]; var body: String }

func getFull(_ url: String, token: String?) async throws -> FullReply {
    var request = HTTPClientRequest(url: url)
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
    var headers: [String: String] = [:]
    for h in response.headers { headers[h.name] = h.value }
    return FullReply(status: Int(response.status.code), headers: headers, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
}
