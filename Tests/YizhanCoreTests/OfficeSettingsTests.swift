import Testing
@testable import YizhanCore

/// Office settings: which rows apply to a station, what the values may be, opening-hours
/// exceptions, and that every change gives the station a new revision.
@Suite struct OfficeSettingsTests {
    let zhejiang = RegionPath(parsing: "浙江省")!
    let zhoushan = RegionPath(parsing: "浙江省/舟山市")!
    let street = RegionPath(parsing: "浙江省/舟山市/普陀区/沈家门街道")!

    func row(_ scope: OfficeScope, _ key: OfficeSettingKey, _ value: String?, _ revision: Int64) -> OfficeSettingRow {
        OfficeSettingRow(scope: scope, key: key, value: value, revision: revision)
    }

    @Test func theDeepestRegionThenTheStationWins() {
        let rows = [
            row(.region(.nation), .capacity, "10", 1),
            row(.region(zhejiang), .capacity, "20", 2),
            row(.region(zhoushan), .openingHours, "06:00-22:00", 3),
            row(.station("s1"), .capacity, "35", 4),
            row(.region(RegionPath(parsing: "江苏省")!), .maximumStayMinutes, "60", 9),
        ]
        let s1 = OfficeSettingsResolver.resolve(rows, station: "s1", region: street)
        #expect(s1.settings == ["capacity": "35", "opening_hours": "06:00-22:00"])
        #expect(s1.revision == 4)  // 江苏省's row does not apply
        let s2 = OfficeSettingsResolver.resolve(rows, station: "s2", region: street)
        #expect(s2.settings == ["capacity": "20", "opening_hours": "06:00-22:00"])
        #expect(s2.revision == 3)
        let elsewhere = OfficeSettingsResolver.resolve(rows, station: "s3", region: RegionPath(parsing: "广东省")!)
        #expect(elsewhere.settings == ["capacity": "10"])
        #expect(elsewhere.revision == 1)
        // A region segment is whole: 浙江 is not a prefix of 浙江省.
        #expect(!OfficeScope.region(RegionPath(parsing: "浙江")!).covers(station: "x", region: zhejiang))
    }

    @Test func removingAKeyFallsBackToTheRegionAndStillBumpsTheRevision() {
        var rows = [row(.region(zhejiang), .capacity, "20", 1), row(.station("s1"), .capacity, "35", 2)]
        let before = OfficeSettingsResolver.resolve(rows, station: "s1", region: street)
        rows[1] = row(.station("s1"), .capacity, nil, 3)
        let after = OfficeSettingsResolver.resolve(rows, station: "s1", region: street)
        #expect(after.settings == ["capacity": "20"])
        #expect(after.revision > before.revision)
        // Overriding at the nation (shadowed by 浙江省 for s1) still changes its revision.
        rows.append(row(.region(.nation), .capacity, "5", 4))
        let shadowed = OfficeSettingsResolver.resolve(rows, station: "s1", region: street)
        #expect(shadowed.settings == ["capacity": "20"])
        #expect(shadowed.revision == 4)
    }

    @Test func valuesAreCheckedWithReasons() throws {
        #expect(try OfficeSettingValues.normalize(.capacity, " 30 ") == "30")
        for bad in ["0", "-3", "abc", "10001", ""] {
            let e = #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.normalize(.capacity, bad) }
            #expect(e?.description.contains("capacity") == true)
        }
        #expect(try OfficeSettingValues.normalize(.maximumStayMinutes, "240") == "240")
        #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.normalize(.maximumStayMinutes, "0") }
        #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.normalize(.maximumStayMinutes, "100000") }
        #expect(try OfficeSettingValues.normalize(.openingHours, "24h") == "24h")
        #expect(try OfficeSettingValues.normalize(.openingHours, "06:00-22:00, 2026-10-01=closed,2026-07-20=06:00-23:00")
                == "06:00-22:00,2026-07-20=06:00-23:00,2026-10-01=closed")
        for bad in ["25:00-26:00", "06:00", "2026-10-01=closed", "06:00-22:00,2026-02-30=closed", "06:00-22:00,2026-07-20=late", "closed"] {
            let e = #expect(throws: OfficeSettingError.self, "\(bad)") { try OfficeSettingValues.normalize(.openingHours, bad) }
            #expect(e?.key == "opening_hours")
        }
    }

    @Test func exceptionsReplaceTheDaysHours() throws {
        let hours = try OfficeSettingValues.openingHours("06:00-22:00,2026-07-20=06:00-23:30,2026-10-01=closed", offset: .china)
        func at(_ text: String) -> Timestamp { RFC3339.parse(text, defaultOffset: .china)! }
        #expect(hours.isOpen(at: at("2026-07-19T22:30:00+08:00")) == false)
        #expect(hours.isOpen(at: at("2026-07-20T22:30:00+08:00")) == true)   // heat wave: longer
        #expect(hours.isOpen(at: at("2026-10-01T12:00:00+08:00")) == false)  // holiday: closed
        #expect(hours.isOpen(at: at("2026-10-02T12:00:00+08:00")) == true)
        // The date is the station's local date, not UTC's.
        #expect(hours.isOpen(at: at("2026-09-30T17:00:00Z")) == false)        // 01:00 on 10-01 in +08:00
        // Existing callers see the daily ranges.
        #expect(hours.specs == ["06:00-22:00"])
    }

    @Test func applyingKeepsPinnedKeysButStillChecksThem() throws {
        let base = VisitPolicy(capacity: 12)
        let doc = OfficeSettingsDocument(revision: 7, settings: ["capacity": "30", "maximum_stay_minutes": "90", "future_key": "x"])
        let applied = try OfficeSettingValues.apply(doc, to: base, pinned: [])
        #expect(applied.capacity == 30)
        #expect(applied.maximumStay == .seconds(90 * 60))
        let pinned = try OfficeSettingValues.apply(doc, to: base, pinned: [.capacity])
        #expect(pinned.capacity == 12)
        #expect(pinned.maximumStay == .seconds(90 * 60))
        let bad = OfficeSettingsDocument(revision: 8, settings: ["capacity": "0", "maximum_stay_minutes": "90"])
        #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.apply(bad, to: base, pinned: [.capacity]) }
    }

    @Test func aLowerCapacityEvictsNobody() {
        var state = StationState(policy: VisitPolicy(capacity: 3))
        let t0 = Timestamp(millisecondsSinceEpoch: 1_780_000_000_000)
        for i in 0..<3 {
            state.apply(state.visits.decideSwipe(card: CardKey(hex: String(repeating: "\(i)", count: 64)), hint: "x", reader: "door",
                                                 now: t0 + .seconds(i)))
        }
        #expect(state.occupancy == 3)
        var smaller = state.policy
        smaller.capacity = 1
        state.replacePolicy(smaller)
        #expect(state.occupancy == 3)
        let next = state.visits.decideSwipe(card: CardKey(hex: String(repeating: "9", count: 64)), hint: "x", reader: "door", now: t0 + .seconds(60))
        #expect(next.last?.kind == .rejectedFull)
    }

    @Test func noticesPeriodsAndLimits() throws {
        let now = RFC3339.parse("2026-07-20T09:30:00+08:00", defaultOffset: .china)!
        let p = try OfficeNoticeRules.check(zh: "高温预警：今日驿站延长开放至22:00", en: nil, from: nil, until: nil, now: now, offset: .china)
        #expect(p.from == now)
        #expect(RFC3339.format(p.until, offset: .china).hasPrefix("2026-07-21T00:00:00"))
        #expect(throws: OfficeNoticeError.self) { try OfficeNoticeRules.check(zh: " ", en: nil, from: nil, until: nil, now: now, offset: .china) }
        #expect(throws: OfficeNoticeError.self) {
            try OfficeNoticeRules.check(zh: String(repeating: "热", count: 201), en: nil, from: nil, until: nil, now: now, offset: .china)
        }
        #expect(throws: OfficeNoticeError.self) { try OfficeNoticeRules.check(zh: "x", en: nil, from: now, until: now - .seconds(1), now: now, offset: .china) }
        let n = OfficeNotice(id: 1, zh: "x", en: nil, from: "2026-07-20T09:00:00+08:00", until: "2026-07-20T10:00:00+08:00")
        #expect(n.isShown(at: now))
        #expect(!n.isShown(at: now + .seconds(3600)))
        #expect(n.isOver(at: now + .seconds(3600)))
    }
}
