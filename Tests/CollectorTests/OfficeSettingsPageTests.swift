import Foundation
import Testing
import YizhanCore
import YizhanWeb
@testable import YizhanCollector

/// The dashboard's office settings parts rendered from hand-built models: the audit page,
/// a station's sync line, the region page's out-of-sync list; hostile values escaped.
@Suite struct OfficeSettingsPageTests {
    static let hostile = DashboardPageRenderTests.hostile
    static let escaped = DashboardPageRenderTests.escaped
    let renderer = OfficePages.renderer
    let session = OfficeSession(user: UserRecord(name: "office", role: .office, stations: []), csrf: String(repeating: "cd", count: 32))

    func sync(_ id: String, applied: Int64?, error: String?, desired: Int64 = 4) -> SettingsSync {
        var record = StationRecord(id: id, name: id, region: RegionPath(parsing: "浙江省")!, capacity: 10)
        record.live = LiveState(open: true, capacity: 10, amenities: [:], readers: [], backlog: 0, lastSeq: 0, version: "t", clockSkewSeconds: 0,
                                settingsRevision: applied, settingsError: error, settingsPinned: ["capacity"])
        return SettingsSync(station: record, rows: [OfficeSettingRow(scope: .region(RegionPath(parsing: "浙江省")!), key: .capacity, value: "30", revision: desired)])
    }

    @Test func theAuditPageListsEveryActionWithItsCSV() {
        let entries = [
            AuditEntry(id: 2, at: Timestamp(millisecondsSinceEpoch: 1_784_505_600_000), actor: "cli:root", action: "notice.add", scope: "region",
                       target: "浙江省", detail: "notice 1: 高温预警" + Self.hostile),
            AuditEntry(id: 1, at: Timestamp(millisecondsSinceEpoch: 1_784_505_500_000), actor: "alice", action: "settings.set", scope: "region",
                       target: "", detail: "capacity=30"),
        ]
        let html = renderer.render(OfficeAuditPage.make(entries, offset: .china, session: session))
        #expect(html.contains("<title>操作记录 Audit log · 驿站 Yizhan</title>"))
        #expect(html.contains("<tr><td>2026-07-20T08:00:00.000+08:00</td><td>cli:root</td><td>notice.add</td><td>region 浙江省</td><td>notice 1: 高温预警\(Self.escaped)</td></tr>"))
        #expect(html.contains("<td>全国 nation</td><td>capacity=30</td>"))
        #expect(html.contains(#"<a href="/api/v1/audit?format=csv&amp;limit=100000">"#))
        #expect(!html.contains("<script"))
        let empty = renderer.render(OfficeAuditPage.make([], offset: .china, session: session))
        #expect(empty.contains("没有记录 Nothing recorded yet"))
    }

    @Test func aStationPageSaysWhetherItAppliesTheOfficeSettings() {
        let refused = SettingsSyncRow(sync("p-1", applied: 3, error: "revision 4: capacity=0" + Self.hostile), name: "p-1")
        let html = renderer.render(["settingsSync": refused], template: "office-station-sync")
        #expect(html.contains("期望 desired 4 · 已应用 applied 3 · <span class=\"offline\">未同步 out of sync</span> · 拒绝 refused: revision 4: capacity=0\(Self.escaped) · 本地固定 pinned: capacity"))
        let fine = SettingsSyncRow(sync("p-1", applied: 4, error: nil), name: "p-1")
        #expect(renderer.render(["settingsSync": fine], template: "office-station-sync").contains("已应用 applied 4 · 已同步 in sync"))
    }

    @Test func theRegionPageListsTheStationsOutOfSync() {
        let rows = [SettingsSyncRow(sync("p-1", applied: nil, error: nil), name: "沈家门站"),
                    SettingsSyncRow(sync("p-2", applied: 3, error: "capacity=0: no"), name: "东港站")]
        let html = renderer.render(["outOfSync": rows], template: "office-out-of-sync")
        #expect(html.contains(#"<tr><td><a href="/stations/p-1">沈家门站</a></td><td>4</td><td>–</td><td>等待 waiting</td></tr>"#))
        #expect(html.contains(#"<tr><td><a href="/stations/p-2">东港站</a></td><td>4</td><td>3</td><td>拒绝 refused: capacity=0: no</td></tr>"#))
        let none = renderer.render(["outOfSync": [SettingsSyncRow]()], template: "office-out-of-sync")
        #expect(none.contains("所有站点已应用 Every station applies the office settings.") && !none.contains("<table"))
    }
}
