import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// Office settings, notices and the audit log: both stores give the same answers.
@Suite struct OfficeStoreContractTests {
    let t0 = Timestamp(millisecondsSinceEpoch: 1_784_505_600_000)  // 2026-07-20T00:00:00Z

    func addStation(_ store: any CollectorStore, _ id: String, _ region: String) async throws {
        try await store.addStation(StationRecord(id: id, name: id, region: RegionPath(parsing: region)!, capacity: 10), tokenHash: "h-" + id)
    }

    @Test(arguments: StoreKind.available)
    func settingsTakeTheNextRevisionAndAreAudited(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            try await addStation(store, "s1", "浙江省/舟山市")
            #expect(try await store.settingRows().isEmpty)
            let r1 = try await store.setSettings(.region(RegionPath(parsing: "浙江省")!), [.capacity: "20", .openingHours: "06:00-22:00"],
                                                 actor: "cli:root", at: t0)
            let r2 = try await store.setSettings(.station("s1"), [.capacity: "35"], actor: "alice", at: t0 + .seconds(1))
            #expect(r1 == 2 && r2 == 3)  // one revision per row written
            let removal: [OfficeSettingKey: String?] = [.capacity: nil]
            let r3 = try await store.setSettings(.station("s1"), removal, actor: "alice", at: t0 + .seconds(2))
            #expect(r3 == 4)
            let rows = try await store.settingRows().sorted { $0.revision < $1.revision }
            #expect(rows.map(\.key) == [.capacity, .openingHours, .capacity])
            #expect(rows.last == OfficeSettingRow(scope: .station("s1"), key: .capacity, value: nil, revision: 4))
            let regions = try await store.stationRegions()
            #expect(regions == ["s1": RegionPath(parsing: "浙江省/舟山市")!])
            let doc = OfficeSettingsResolver.resolve(rows, station: "s1", region: regions["s1"]!)
            #expect(doc == OfficeSettingsDocument(revision: 4, settings: ["capacity": "20", "opening_hours": "06:00-22:00"]))

            let audit = try await store.auditLog(limit: 10)
            #expect(audit.map(\.action) == ["settings.set", "settings.set", "settings.set"])
            #expect(audit.first?.actor == "alice")
            #expect(audit.first?.detail == "capacity=(removed)")
            #expect(audit.last?.detail == "capacity=20 opening_hours=06:00-22:00")
            #expect(audit.last?.scope == "region" && audit.last?.target == "浙江省")
            #expect(audit.last?.at == t0)
            #expect(try await store.auditLog(limit: 1).count == 1)

            // A second collector on the same data continues the counter.
            let r4 = try await withSecondStore(url) { other in
                try await other.setSettings(.region(.nation), [.maximumStayMinutes: "120"], actor: "bob", at: t0 + .seconds(3))
            }
            #expect(r4 == 5)
        }
    }

    @Test(arguments: StoreKind.available)
    func noticesAreStoredListedAndEnded(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await addStation(store, "s1", "浙江省/舟山市")
            try await addStation(store, "s2", "广东省")
            let regional = NoticeRecord(audience: .region(RegionPath(parsing: "浙江省")!), zh: "高温预警：今日驿站延长开放至22:00", en: "Heat: open until 22:00",
                                        from: t0, until: t0 + .seconds(3600), createdBy: "cli:root", createdAt: t0)
            let id1 = try await store.addNotice(regional, actor: "cli:root")
            let listed = NoticeRecord(audience: .stations(["s1", "s2"]), zh: "停水", en: nil, from: t0, until: t0 + .seconds(7200),
                                      createdBy: "alice", createdAt: t0)
            let id2 = try await store.addNotice(listed, actor: "alice")
            #expect(id2 > id1)
            var expected = regional
            expected.id = id1
            #expect(try await store.notice(id: id1) == expected)
            #expect(try await store.notices(endingAfter: t0 + .seconds(10)).map(\.id) == [id2, id1])
            #expect(try await store.notices(endingAfter: t0 + .seconds(3600)).map(\.id) == [id2])
            #expect(try await store.notice(id: id2)?.audience == .stations(["s1", "s2"]))

            let ended = try #require(try await store.endNotice(id: id2, actor: "bob", at: t0 + .seconds(60)))
            #expect(ended.until == t0 + .seconds(60) && ended.endedAt == t0 + .seconds(60))
            #expect(try await store.notices(endingAfter: t0 + .seconds(61)).map(\.id) == [id1])
            #expect(try await store.notices(endingAfter: nil).count == 2)
            #expect(try await store.endNotice(id: 999_999, actor: "bob", at: t0) == nil)

            let audit = try await store.auditLog(limit: 10)
            #expect(audit.map(\.action) == ["notice.end", "notice.add", "notice.add"])
            #expect(audit[0].actor == "bob" && audit[0].scope == "stations" && audit[0].target == "s1,s2" && audit[0].detail == "notice \(id2)")
            #expect(audit[2].detail.hasPrefix("notice \(id1): 高温预警"))
            // Scoped visibility: an office user of 浙江省 sees the regional notice's entry only.
            let regions = try await store.stationRegions()
            #expect(audit.filter { $0.isVisible(within: RegionPath(parsing: "浙江省")!, stationRegions: regions) }.map(\.action) == ["notice.add"])
        }
    }
}
