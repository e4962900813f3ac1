import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// Region questions over real HTTP: region= at any level, rankings, comparisons, and an
/// office user scoped to a region.
@Suite struct RegionQueryTests {
    static let stations = [
        StationRecord(id: "p-1", name: "沈家门站", region: RegionPath(parsing: "浙江省/舟山市/普陀区/沈家门街道")!, capacity: 6),
        StationRecord(id: "p-2", name: "东港站", region: RegionPath(parsing: "浙江省/舟山市/普陀区/东港街道")!, capacity: 3),
        StationRecord(id: "d-1", name: "定海站", region: RegionPath(parsing: "浙江省/舟山市/定海区")!, capacity: 6),
        StationRecord(id: "h-1", name: "杭州站", region: RegionPath(parsing: "浙江省/杭州市")!, capacity: 6),
    ]

    @Test func regionsRankingsAndScopedOfficeUsers() async throws {
        try await withCollector { url, store in
            let scenario = Scenario(seed: 5)
            let office = Tokens.generate(prefix: "yzu_"), zhoushan = Tokens.generate(prefix: "yzu_")
            for s in Self.stations {
                try await store.addStation(s, tokenHash: Tokens.hash(Tokens.generate(prefix: "yzs_")))
                _ = try await store.ingest(station: s.id, events: scenario.events(for: s.id).map(\.ingested))
            }
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(office))
            try await store.addUser(UserRecord(name: "zs", role: .office, stations: [], region: RegionPath(parsing: "浙江省/舟山市")),
                                    passwordHash: "x", tokenHash: Tokens.hash(zhoushan))
            func json(_ path: String, _ token: String) async throws -> [String: Any] {
                let r = try await get(url + path, token: token)
                #expect(r.status == 200, "\(path): \(r.body)")
                return try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
            }
            func visits(_ body: [String: Any]) -> Int { (body["totals"] as! [String: Any])["visits"] as! Int }
            let period = "from=2026-11-20&to=2026-11-22"
            let putuo = "region=%E6%B5%99%E6%B1%9F%E7%9C%81/%E8%88%9F%E5%B1%B1%E5%B8%82/%E6%99%AE%E9%99%80%E5%8C%BA"  // 浙江省/舟山市/普陀区
            // A region covers its stations, and its answer is the sum of theirs.
            let region = try await json("/api/v1/usage?\(putuo)&\(period)", office)
            #expect(region["region"] as? String == "浙江省/舟山市/普陀区" && region["station_count"] as? Int == 2)
            let one = try await json("/api/v1/usage?station=p-1&\(period)", office), two = try await json("/api/v1/usage?station=p-2&\(period)", office)
            #expect(visits(region) == visits(one) + visits(two) && visits(region) > 0)
            #expect((region["estimated"] as? [String]) == ["peak_occupancy"], "a few dozen cards are exact; the peak of two stations is summed")
            #expect(region["previous"] is [String: Any] && region["year_earlier"] is [String: Any])
            let change = ((region["previous"] as! [String: Any])["change"] as! [String: Any])
            #expect(change.keys.contains("visits"))
            // The nation by week and month, the default scope of an office user.
            let weeks = try await json("/api/v1/usage?\(period)&bucket=week", office)
            #expect((weeks["buckets"] as! [[String: Any]]).first?["start"] as? String == "2026-11-16T00:00:00.000+08:00", "weeks start on Monday")
            // The same days as the week from Monday the 16th.
            let days = try await json("/api/v1/usage?from=2026-11-16&to=2026-11-22&bucket=day", office)
            #expect(visits(weeks) == visits(days) && visits(days) == (days["buckets"] as! [[String: Any]]).map { $0["visits"] as! Int }.reduce(0, +))
            #expect(weeks["station_count"] as? Int == 4)

            // A user of 舟山市 sees its three stations and nothing of 杭州市.
            let theirs = try await json("/api/v1/usage?\(period)", zhoushan)
            #expect(theirs["station_count"] as? Int == 3 && theirs["region"] as? String == "浙江省/舟山市")
            #expect(try await get(url + "/api/v1/usage?region=%E6%B5%99%E6%B1%9F%E7%9C%81&\(period)", token: zhoushan).status == 403)
            #expect(try await get(url + "/api/v1/usage?station=h-1&\(period)", token: zhoushan).status == 404)
            let listed = try await json("/api/v1/stations", zhoushan)
            #expect(Set((listed["stations"] as! [[String: Any]]).map { $0["id"] as! String }) == ["p-1", "p-2", "d-1"])
            #expect(try await get(url + "/api/v1/usage?region=%E4%B8%8A%E6%B5%B7%E5%B8%82&\(period)", token: office).status == 404, "上海市 has no station")

            // Rankings: by visits, most first; per seat; JSON and CSV agree.
            let ranked = try await json("/api/v1/rankings?region=%E6%B5%99%E6%B1%9F%E7%9C%81&\(period)&by=visits", office)
            let rows = ranked["stations"] as! [[String: Any]]
            #expect(rows.count == 4 && rows.map { $0["rank"] as! Int } == [1, 2, 3, 4])
            let values = rows.map { $0["value"] as! Double }
            let province = try await json("/api/v1/usage?region=%E6%B5%99%E6%B1%9F%E7%9C%81&\(period)", office)
            #expect(values == values.sorted(by: >) && values.reduce(0, +) == Double(visits(province)))
            let perSeat = try await json("/api/v1/rankings?\(period)&by=visits_per_seat&order=asc&limit=2", office)
            let seats = (perSeat["stations"] as! [[String: Any]]).map { $0["value"] as! Double }
            #expect(seats.count == 2 && seats[0] <= seats[1])
            let csv = try await getFull(url + "/api/v1/rankings?\(period)&by=rejected_full&format=csv", token: office)
            #expect(csv.status == 200 && csv.body.hasPrefix("\u{FEFF}rank,id,name,region,capacity,value,"))
            #expect(csv.body.contains("\"浙江省/舟山市/普陀区/东港街道\""))
            for (query, status) in [("by=popularity", 400), ("order=up", 400), ("limit=0", 400), ("limit=5000", 400), ("region=a%00b", 404)] {
                let bad = try await get(url + "/api/v1/rankings?" + query, token: office)
                #expect(bad.status == status, "\(query): \(bad.status) \(bad.body)")
            }
        }
    }
}
