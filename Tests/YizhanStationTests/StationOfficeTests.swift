import Foundation
import Logging
import Testing
import YizhanCore
@testable import YizhanStation

/// The station's side of office settings and notices: what it accepts is kept on disk and
/// applied again after a restart; what it refuses changes nothing and is reported; pinned
/// keys keep station.toml's value; notices go when they end, also without a collector.
@Suite struct StationOfficeTests {
    let quiet = Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })
    let base = VisitPolicy(capacity: 12)

    @Test func anAcceptedDocumentIsKeptAndAppliedAgainAfterARestart() throws {
        let dir = TemporaryDirectory()
        let office = StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet)
        #expect(office.startingPolicy == base)
        #expect(office.needsFetch(5))
        let policy = try office.accept(OfficeSettingsDocument(revision: 5, settings: ["capacity": "30", "opening_hours": "06:00-22:00"])).policy
        #expect(policy.capacity == 30)
        #expect(office.snapshot.revision == 5 && office.snapshot.error == nil)
        #expect(!office.needsFetch(5))

        let restarted = StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet)
        #expect(restarted.snapshot.revision == 5)
        #expect(restarted.startingPolicy.capacity == 30)
        #expect(restarted.startingPolicy.hours.specs == ["06:00-22:00"])
        // No temporary file is left beside it.
        #expect(!FileManager.default.fileExists(atPath: dir.file("office-settings.json.tmp")))
    }

    @Test func aRefusedDocumentChangesNothingAndIsNotFetchedAgain() throws {
        let dir = TemporaryDirectory()
        let office = StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet)
        _ = try office.accept(OfficeSettingsDocument(revision: 2, settings: ["capacity": "20"]))
        #expect(throws: OfficeSettingError.self) {
            try office.accept(OfficeSettingsDocument(revision: 3, settings: ["capacity": "0"]))
        }
        #expect(office.snapshot.revision == 2)
        #expect(office.snapshot.error?.contains("revision 3: capacity=0") == true)
        #expect(!office.needsFetch(3))
        #expect(office.needsFetch(4))
        #expect(StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet).startingPolicy.capacity == 20)
    }

    @Test func pinnedKeysKeepTheStationsValue() throws {
        let dir = TemporaryDirectory()
        let office = StationOffice(directory: dir.path, base: base, pinned: [.capacity], logger: quiet)
        let policy = try office.accept(OfficeSettingsDocument(revision: 1, settings: ["capacity": "30", "maximum_stay_minutes": "45"])).policy
        #expect(policy.capacity == 12 && policy.maximumStay == .seconds(45 * 60))
        #expect(office.snapshot.revision == 1 && office.snapshot.error == nil)
    }

    @Test func noticesAreKeptAndDropWhenTheyEnd() throws {
        let dir = TemporaryDirectory()
        let office = StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet)
        let now = RFC3339.parse("2026-07-20T12:00:00+08:00", defaultOffset: .china)!
        office.replaceNotices([
            OfficeNotice(id: 1, zh: "高温预警", en: nil, from: "2026-07-20T06:00:00+08:00", until: "2026-07-20T13:00:00+08:00"),
            OfficeNotice(id: 2, zh: "明天停水", en: nil, from: "2026-07-21T06:00:00+08:00", until: "2026-07-21T18:00:00+08:00"),
            OfficeNotice(id: 3, zh: "已过期", en: nil, from: "2026-07-19T06:00:00+08:00", until: "2026-07-19T18:00:00+08:00"),
        ], now: now)
        #expect(office.notices(at: now).map(\.id) == [1])
        // Restarted with no collector: the list is still there, and time alone moves it on.
        let restarted = StationOffice(directory: dir.path, base: base, pinned: [], logger: quiet)
        #expect(restarted.snapshot.notices.map(\.id) == [1, 2])
        #expect(restarted.notices(at: now + .seconds(3600)).isEmpty)
        #expect(restarted.notices(at: RFC3339.parse("2026-07-21T07:00:00+08:00", defaultOffset: .china)!).map(\.id) == [2])
    }
}
