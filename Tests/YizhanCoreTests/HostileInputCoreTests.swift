import Testing
@testable import YizhanCore

/// The core's share of hostile input: strict times, bounded figures, sums that cannot
/// trap, the login throttle and password rules.
@Suite struct HostileInputCoreTests {
    let now = RFC3339.parseStrict("2026-11-23T12:00:00+08:00")!

    func record(_ seq: Int64, time: String = "2026-11-23T10:00:00.000+08:00", kind: String = "check_out", occupancy: Int = 0,
                stay: Int64? = nil, reader: String? = nil, detail: String? = nil) -> EventRecord {
        EventRecord(RecordedEvent(seq: seq, event: StationEvent(time: RFC3339.parseStrict("2026-11-23T10:00:00+08:00")!, kind: .checkIn, occupancy: occupancy)),
                    offset: .china).with { $0.time = time; $0.kind = kind; $0.staySeconds = stay; $0.reader = reader; $0.detail = detail }
    }

    @Test func strictTimesAreRFC3339DateTimesAndNothingElse() {
        let good = ["2026-11-23T10:00:00Z", "2026-11-23T10:00:00.5+08:00", "2026-11-23t10:00:00.123456789-05:30", "2024-02-29T23:59:59+14:00"]
        for t in good { #expect(RFC3339.parseStrict(t) != nil, "\(t)") }
        #expect(RFC3339.parseStrict("2026-11-23T10:00:00.5+08:00") == RFC3339.parseStrict("2026-11-23T02:00:00.500Z"))
        let bad = ["2026-11-23T10:00:00++1:00", "2026-11-23T10:00:60Z", "2026-11-23T10:00:00+08:00 ", " 2026-11-23T10:00:00Z",
                   "2026-11-23 10:00:00Z", "2026-11-23T10:00Z", "2026-11-23T10:00:00", "2026-11-23T10:00:00.Z", "2025-02-29T10:00:00Z",
                   "0000-01-01T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T10:00:00+15:00", "2026-11-23T10:00:00+0800",
                   "2026-11-23T10:00:00.1234567890Z", "+026-11-23T10:00:00Z", "2026-1-23T10:00:00Z", ""]
        for t in bad { #expect(RFC3339.parseStrict(t) == nil, "\(t)") }
        #expect(UTCOffset(parsing: "++1:00") == nil && UTCOffset(parsing: "+-1:00") == nil && UTCOffset(parsing: "+08:00") != nil)
        // The lenient form (what people type) refuses a leap second and a signed offset digit too.
        #expect(RFC3339.parse("2026-11-23T10:00:60", defaultOffset: .china) == nil)
        #expect(RFC3339.parse("2026-11-23 10:00", defaultOffset: .china) != nil)
    }

    @Test func everyFigureIsBoundedAtIngest() throws {
        #expect(throws: Never.self) { try IngestValidation.validate([record(1, stay: 7 * 86_400)], now: now) }
        for bad in [record(1, stay: 4_611_686_018_427_387_904), record(1, stay: 7 * 86_400 + 1), record(1, stay: -1),
                    record(Int64.max), record(IngestLimits.maximumSeq + 1), record(0), record(1, occupancy: 100_001), record(1, occupancy: -1),
                    record(1, time: "2026-11-23T10:00:00++1:00"), record(1, time: "2019-12-31T23:59:59Z"), record(1, time: "2026-12-01T00:00:00Z"),
                    record(1, reader: "a\u{0}b"), record(1, reader: String(repeating: "r", count: 65)), record(1, kind: "explode")] {
            #expect(throws: IngestRejection.self) { try IngestValidation.validate([bad], now: now) }
        }
        let tooMany = (1...5001).map { record(Int64($0)) }
        #expect { try IngestValidation.validate(tooMany, now: now) } throws: { ($0 as? IngestRejection)?.reason == .tooLarge }
    }

    @Test func heartbeatsAreBounded() {
        func hb(_ edit: (inout Heartbeat) -> Void) -> Heartbeat {
            var h = Heartbeat(stationID: "s", time: "2026-11-23T10:00:00Z", occupancy: 1, capacity: 10, open: true, readers: [],
                              amenities: ["microwave": "ok"], backlog: 0, lastAck: 0, lastSeq: 0, version: "0.1.0")
            edit(&h); return h
        }
        #expect(throws: Never.self) { try IngestValidation.validate(hb { _ in }) }
        for bad in [hb { $0.backlog = .max }, hb { $0.lastSeq = -1 }, hb { $0.time = "2026-11-23T10:00:60Z" }, hb { $0.version = "1\u{0}" },
                    hb { $0.amenities = ["microwave": "broken"] }, hb { $0.capacity = 100_001 }] {
            #expect(throws: IngestRejection.self) { try IngestValidation.validate(bad) }
        }
    }

    @Test func noSumTrapsWhateverIsStored() {
        let day = RFC3339.parseStrict("2026-11-23T00:00:00+08:00")!
        let q = try! UsagePeriod(from: day, to: day + .seconds(86_400), bucket: .hour, offset: .china)
        let events = [Int64.max, Int64.max, 4_611_686_018_427_387_904, 600].enumerated().map { i, stay in
            UsageEvent(station: "a", seq: Int64(i + 1), time: day + .seconds(3600 + i), kind: "check_out", cardKey: nil, occupancy: Int.max / 2, staySeconds: stay, detail: nil)
        }
        let hours = RollupBuilder.deltas(events: events, openOutages: [:]).hours
        var rows = hours.map { RollupRow(start: $0.key, figures: $0.value.figures, workers: HyperLogLog()) }
        // Rows summed past any bound (a region of absurd stations) still do not trap.
        var huge = RollupFigures(columns: Array(repeating: Int64.max, count: RollupFigures.columnNames.count))
        huge.add(huge, peak: .sum)
        rows.append(RollupRow(start: day.millisecondsSinceEpoch + 7_200_000, figures: huge, workers: HyperLogLog()))
        let r = UsageReportBuilder.report(q, rows: rows, outages: [], now: day + .seconds(86_400), peakIsSummed: false)
        #expect(r.buckets[1].meanStaySeconds == 600)
        #expect(r.buckets[1].peakOccupancy == IngestLimits.maximumOccupancy + 1, "clamped, then one more before the departure")
        #expect(r.buckets[2].visits == Int.max && r.totals.visits == Int.max)
        #expect(Int64.max.saturatingAdd(1) == .max && Int64.min.saturatingAdd(-1) == .min && Int64(2).saturatingAdd(3) == 5)
    }

    @Test func stationsNeverReportAStayPastTheirLimit() {
        var policy = VisitPolicy(capacity: 5, maximumStay: .seconds(3600))
        policy.checkOutAtClosing = false
        var m = VisitStateMachine(policy: policy)
        let t0 = RFC3339.parseStrict("2026-11-23T08:00:00+08:00")!
        let card = CardKey(hex: String(repeating: "7", count: 64))
        for e in m.decideSwipe(card: card, hint: "1234", reader: "door", now: t0) { m.apply(e) }
        // The daemon was down for three days: the check-out still says at most an hour.
        let out = m.decideSwipe(card: card, hint: "1234", reader: "door", now: t0 + .seconds(3 * 86_400))
        #expect(out.allSatisfy { ($0.staySeconds ?? 0) <= 3600 }, "\(out)")
        #expect(out.contains { $0.staySeconds == 3600 })
        let closed = m.decideCloseDay(now: t0 + .seconds(86_400), by: "li")
        #expect(closed.allSatisfy { ($0.staySeconds ?? 0) <= 3600 })
    }

    @Test func gzipTrailersAreChecked() {
        // gzip of "hello\n" (RFC 1952 member, from gzip -n).
        let member: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
                               0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00]
        let hello = Array("hello\n".utf8)
        #expect(GzipMember.trailerMatches(compressed: member, inflated: hello))
        #expect(!GzipMember.trailerMatches(compressed: member + [0], inflated: hello))
        #expect(!GzipMember.trailerMatches(compressed: member.dropLast(8), inflated: hello))
        #expect(!GzipMember.trailerMatches(compressed: member, inflated: Array("hello!".utf8)))
        #expect(!GzipMember.trailerMatches(compressed: [UInt8](), inflated: [UInt8]()))
    }

    // MARK: logins

    @Test func failuresForUnknownNamesNeverSlowARealAccount() {
        var t = LoginThrottle()
        var clock = now
        for i in 0..<200 {
            if case .proceed = t.begin(account: nil, address: "10.0.0.\(i % 250)", now: clock) {} // unknown names, many addresses
            clock = clock + .milliseconds(10)
        }
        guard case .proceed(let r) = t.begin(account: "office", address: "10.9.9.9", now: clock) else { Issue.record("the office was throttled"); return }
        t.succeeded(r)
    }

    @Test func delaysGrowPerAccountAndPerAddressAndSuccessResets() {
        let policy = LoginThrottle.Policy(accountAllowance: 3, addressAllowance: 5, firstDelay: .seconds(2), maximumDelay: .seconds(60))
        var t = LoginThrottle(policy: policy)
        var clock = now
        func attempt(_ account: String?, _ address: String) -> LoginThrottle.Decision { t.begin(account: account, address: address, now: clock) }
        // Three free failures on "li" from three addresses, then a 2 s wait for "li" only.
        for a in ["a", "b", "c"] { guard case .proceed = attempt("li", a) else { Issue.record("refused early"); return } }
        #expect(attempt("li", "d") == .wait(.seconds(2)))
        guard case .proceed = attempt("wang", "d") else { Issue.record("another account was slowed"); return }
        // After the wait, each further failure doubles it.
        clock = clock + .seconds(2)
        guard case .proceed = attempt("li", "e") else { Issue.record("not allowed after the wait"); return }
        #expect(attempt("li", "f") == .wait(.seconds(4)))
        clock = clock + .seconds(4)
        guard case .proceed(let ok) = attempt("li", "g") else { Issue.record("not allowed after the wait"); return }
        t.succeeded(ok)
        guard case .proceed = attempt("li", "h") else { Issue.record("a success did not reset the account"); return }
        // An address failing on any names: five free, then waits that grow up to the cap.
        for _ in 0..<5 { _ = attempt(nil, "x") }
        guard case .wait(let first) = attempt(nil, "x") else { Issue.record("address not throttled"); return }
        clock = clock + first
        _ = attempt(nil, "x")
        guard case .wait(let second) = attempt(nil, "x") else { Issue.record("address not throttled"); return }
        #expect(second > first)
        for _ in 0..<40 { clock = clock + .seconds(61); _ = attempt(nil, "x") }
        guard case .wait(let capped) = attempt(nil, "x") else { Issue.record("address not throttled"); return }
        #expect(capped <= .seconds(60))
        // Forgotten after an hour without failures.
        clock = clock + .seconds(3601)
        t.prune(now: clock)
        #expect(t.trackedKeys == 0)
    }

    @Test func attemptsAreReservedBeforeHashing() {
        var t = LoginThrottle()
        // Twenty-five guesses arrive together: none has been hashed yet.
        let decisions = (0..<25).map { _ in t.begin(account: "office", address: "10.0.0.1", now: now) }
        let proceeding = decisions.filter { if case .proceed = $0 { true } else { false } }.count
        #expect(proceeding == LoginThrottle.Policy().accountAllowance)
    }

    @Test func keysStayBounded() {
        var t = LoginThrottle(policy: .init(maximumKeys: 100))
        for i in 0..<10_000 { _ = t.begin(account: nil, address: "a\(i)", now: now + .milliseconds(i)) }
        #expect(t.trackedKeys <= 100)
    }

    @Test func passwordsWithANULOrTooLongAreRefused() {
        #expect(throws: PasswordRules.Problem.containsNUL) { try PasswordRules.checkSubmitted("right\u{0}junk") }
        #expect(throws: PasswordRules.Problem.tooLong) { try PasswordRules.checkSubmitted(String(repeating: "密", count: 25)) }  // 75 bytes
        #expect(throws: PasswordRules.Problem.tooShort) { try PasswordRules.checkNew("short") }
        #expect(throws: Never.self) { try PasswordRules.checkNew("correct horse battery") }
    }
}

extension EventRecord {
    func with(_ edit: (inout EventRecord) -> Void) -> EventRecord { var r = self; edit(&r); return r }
}

@Suite struct CSVTests {
    @Test func fieldsAreQuotedAndFormulaSafe() {
        #expect(CSV.field("plain") == "\"plain\"")
        #expect(CSV.field("say \"hi\", then\r\nleave") == "\"say \"\"hi\"\", then\r\nleave\"")
        for formula in ["=1+2", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            #expect(CSV.field(formula).hasPrefix("\"'"), "\(formula)")
        }
        #expect(CSV.field("-12") == "\"-12\"", "a negative number is not a formula")
        #expect(CSV.field(nil) == "" && CSV.number(Optional<Int>.none) == "" && CSV.number(42) == "42")
        #expect(CSV.line(["a", "b"]) == "a,b\r\n")
        #expect(CSV.byteOrderMark.utf8.elementsEqual([0xEF, 0xBB, 0xBF]))
    }
}
