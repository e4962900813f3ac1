import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// `GET /api/v1/alerts` over real HTTP: region-scoped, by state, bad queries as JSON errors.
@Suite struct AlertAPITests {
    @Test func alertsAreScopedToTheUsersRegionAndFilteredByState() async throws {
        try await withCollector { url, store in
            for s in RegionQueryTests.stations { try await store.addStation(s, tokenHash: Tokens.hash(Tokens.generate(prefix: "yzs_"))) }
            let office = Tokens.generate(prefix: "yzu_"), zhoushan = Tokens.generate(prefix: "yzu_")
            try await store.addUser(UserRecord(name: "office", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(office))
            try await store.addUser(UserRecord(name: "zs", role: .office, stations: [], region: RegionPath(parsing: "浙江省/舟山市")),
                                    passwordHash: "x", tokenHash: Tokens.hash(zhoushan))
            let t = Timestamp(secondsSinceEpoch: 1_764_000_000)
            for (id, kind) in [("p-1", AlertKind.stationOffline), ("h-1", .clockSkew), ("d-1", .readerDown)] {
                #expect(try await store.openAlert(AlertKey(station: id, kind: kind), since: t, at: t, detail: "", messageZh: "z", messageEn: "e", deliveries: []))
            }
            #expect(try await store.resolveAlert(AlertKey(station: "d-1", kind: .readerDown), at: t + .seconds(5), deliveries: []))

            func ids(_ query: String, _ token: String) async throws -> [String] {
                let r = try await get(url + "/api/v1/alerts" + query, token: token)
                #expect(r.status == 200, "\(query): \(r.body)")
                let body = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as! [String: Any]
                return (body["alerts"] as! [[String: Any]]).map { "\($0["station"]!):\($0["alert"]!):\($0["state"]!)" }.sorted()
            }
            #expect(try await ids("", office) == ["h-1:clock_skew:open", "p-1:station_offline:open"], "open by default")
            #expect(try await ids("?state=all", office).count == 3)
            #expect(try await ids("?state=resolved", office) == ["d-1:reader_down:resolved"])
            #expect(try await ids("?state=all", zhoushan) == ["d-1:reader_down:resolved", "p-1:station_offline:open"], "only Zhoushan's")
            let hangzhou = "region=%E6%B5%99%E6%B1%9F%E7%9C%81/%E6%9D%AD%E5%B7%9E%E5%B8%82"  // 浙江省/杭州市
            #expect(try await ids("?\(hangzhou)", office) == ["h-1:clock_skew:open"])
            #expect(try await get(url + "/api/v1/alerts?\(hangzhou)", token: zhoushan).status == 403, "outside the user's region")

            let bad = try await get(url + "/api/v1/alerts?state=closed", token: office)
            #expect(bad.status == 400 && bad.body.contains(#""error":"bad_query""#))
            #expect(try await get(url + "/api/v1/alerts?limit=0", token: office).status == 400)
            #expect(try await get(url + "/api/v1/alerts", token: nil).status == 401)
        }
    }
}
