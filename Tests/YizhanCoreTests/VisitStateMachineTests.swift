import Testing
@testable import YizhanCore

@Suite struct VisitStateMachineTests {
    let t0 = CivilTime(year: 2026, month: 7, day: 15, hour: 12).timestamp(offset: .china)
    let a = CardKey(hex: "aa"), b = CardKey(hex: "bb"), c = CardKey(hex: "cc")

    /// Decides and applies, as the recorder does after a commit.
    func swipe(_ m: inout VisitStateMachine, _ card: CardKey, at seconds: Int64) -> [EventKind] {
        let events = m.decideSwipe(card: card, hint: "hint", reader: "door", now: t0 + .seconds(seconds))
        events.forEach { m.apply($0) }
        return events.map(\.kind)
    }

    @Test func toggleModeChecksInAndOut() {
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10))
        #expect(swipe(&m, a, at: 0) == [.checkIn])
        #expect(m.occupancy == 1)
        let out = m.decideSwipe(card: a, hint: "h", reader: "door", now: t0 + .seconds(600))
        #expect(out.map(\.kind) == [.checkOut])
        #expect(out[0].staySeconds == 600)
        #expect(out[0].occupancy == 0)
        out.forEach { m.apply($0) }
        #expect(m.occupancy == 0)
    }

    @Test func swipesInsideTheDebounceWindowAreDuplicates() {
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10, debounce: .seconds(10)))
        #expect(swipe(&m, a, at: 0) == [.checkIn])
        #expect(swipe(&m, a, at: 5) == [.duplicate])
        #expect(m.occupancy == 1)
        #expect(swipe(&m, a, at: 11) == [.checkOut])
        #expect(swipe(&m, a, at: 15) == [.duplicate], "the check-out restarts the window")
    }

    @Test func aClockSteppedBackwardsDoesNotMakeEverySwipeADuplicate() {
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10, debounce: .seconds(10)))
        #expect(swipe(&m, a, at: 3600) == [.checkIn])
        // NTP corrects the clock by an hour backwards.
        let out = m.decideSwipe(card: a, hint: "h", reader: "door", now: t0 + .seconds(5))
        #expect(out.map(\.kind) == [.checkOut])
        #expect(out[0].staySeconds == 0, "never a negative stay")
    }

    @Test func capacityDeniesOrAdmits() {
        var deny = VisitStateMachine(policy: VisitPolicy(capacity: 2, whenFull: .deny))
        _ = swipe(&deny, a, at: 0); _ = swipe(&deny, b, at: 1)
        #expect(deny.isFull)
        #expect(swipe(&deny, c, at: 2) == [.rejectedFull])
        #expect(deny.occupancy == 2)
        #expect(swipe(&deny, a, at: 20) == [.checkOut], "leaving is always possible when full")
        #expect(swipe(&deny, c, at: 21) == [.checkIn])

        var admit = VisitStateMachine(policy: VisitPolicy(capacity: 1, whenFull: .admit))
        _ = swipe(&admit, a, at: 0)
        let over = admit.decideSwipe(card: b, hint: "h", reader: "door", now: t0 + .seconds(1))
        #expect(over.map(\.kind) == [.checkIn])
        #expect(over[0].detail == "over_capacity")
    }

    @Test func maximumStayChecksOutAutomatically() {
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10, maximumStay: .seconds(3600)))
        _ = swipe(&m, a, at: 0)
        _ = swipe(&m, b, at: 1800)
        #expect(m.decideTick(now: t0 + .seconds(3599)).isEmpty)
        #expect(m.nextDeadline() == t0 + .seconds(3600))
        let due = m.decideTick(now: t0 + .seconds(3700))
        #expect(due.map(\.cardKey) == [a])
        #expect(due[0].kind == .autoCheckOut)
        #expect(due[0].staySeconds == 3600)
        #expect(due[0].detail == "maximum_stay")
        #expect(due[0].occupancy == 1)
        due.forEach { m.apply($0) }
        #expect(m.occupancy == 1)
    }

    @Test func entryOnlyModeAssumesAStay() {
        var m = VisitStateMachine(policy: VisitPolicy(mode: .entryOnly, capacity: 10, assumedStay: .seconds(1800)))
        #expect(swipe(&m, a, at: 0) == [.checkIn])
        #expect(swipe(&m, a, at: 600) == [.checkOut, .checkIn], "came back: the first visit ends")
        #expect(m.occupancy == 1)
        let due = m.decideTick(now: t0 + .seconds(600 + 1800))
        #expect(due.map(\.detail) == ["assumed_stay"])
    }

    @Test func openingHoursRefuseCheckInsButNotCheckOuts() throws {
        let hours = try OpeningHours(parsing: ["07:00-12:30"], offset: .china)
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10, hours: hours, checkOutAtClosing: false))
        let morning = CivilTime(year: 2026, month: 7, day: 15, hour: 12, minute: 0).timestamp(offset: .china)
        let afternoon = morning + .seconds(3600)
        m.decideSwipe(card: a, hint: "h", reader: "door", now: morning).forEach { m.apply($0) }
        #expect(m.decideSwipe(card: b, hint: "h", reader: "door", now: afternoon).map(\.kind) == [.outsideHours])
        #expect(m.decideSwipe(card: a, hint: "h", reader: "door", now: afternoon).map(\.kind) == [.checkOut])
    }

    @Test func closingTimeChecksEveryoneOut() throws {
        let hours = try OpeningHours(parsing: ["07:00-22:00"], offset: .china)
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10, hours: hours))
        let evening = CivilTime(year: 2026, month: 7, day: 15, hour: 21, minute: 50).timestamp(offset: .china)
        m.decideSwipe(card: a, hint: "h", reader: "door", now: evening).forEach { m.apply($0) }
        #expect(m.decideTick(now: evening + .seconds(300)).isEmpty)
        let closing = m.decideTick(now: evening + .seconds(600))
        #expect(closing.map(\.detail) == ["closing"])
    }

    @Test func closeDayChecksOutEveryoneThenMarksTheDay() {
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 10))
        _ = swipe(&m, a, at: 0); _ = swipe(&m, b, at: 1)
        let events = m.decideCloseDay(now: t0 + .seconds(100), by: "yizhanctl")
        #expect(events.map(\.kind) == [.autoCheckOut, .autoCheckOut, .dayClosed])
        #expect(events.map(\.occupancy) == [1, 0, 0])
        events.forEach { m.apply($0) }
        #expect(m.occupancy == 0)
    }

    @Test func stateRebuildsFromTheLog() {
        var live = VisitStateMachine(policy: VisitPolicy(capacity: 10))
        var log: [StationEvent] = []
        for (card, at) in [(a, 0), (b, 5), (a, 6), (c, 30), (a, 40), (b, 100)] as [(CardKey, Int64)] {
            let events = live.decideSwipe(card: card, hint: "h", reader: "door", now: t0 + .seconds(at))
            events.forEach { live.apply($0) }
            log += events
        }
        var rebuilt = VisitStateMachine(policy: VisitPolicy(capacity: 10))
        log.forEach { rebuilt.apply($0) }
        #expect(rebuilt.inside == live.inside)
        #expect(rebuilt.occupancy == log.last?.occupancy)
        // Debounce state comes back too: a swipe right after the restart is still a duplicate.
        #expect(rebuilt.decideSwipe(card: b, hint: "h", reader: "door", now: t0 + .seconds(101)).map(\.kind) == [.duplicate])
    }
}

@Suite struct TimeTests {
    @Test func rfc3339FormatsInTheStationOffset() {
        let t = Timestamp(millisecondsSinceEpoch: 1_795_408_805_120)  // 2026-11-23T04:40:05.120Z
        #expect(RFC3339.format(t, offset: .utc) == "2026-11-23T04:40:05.120Z")
        #expect(RFC3339.format(t, offset: .china) == "2026-11-23T12:40:05.120+08:00")
    }

    @Test func rfc3339ParsesFullAndLocalForms() {
        let t = Timestamp(millisecondsSinceEpoch: 1_795_408_805_120)
        #expect(RFC3339.parse("2026-11-23T12:40:05.120+08:00", defaultOffset: .utc) == t)
        #expect(RFC3339.parse("2026-11-23T04:40:05.12Z", defaultOffset: .china) == t)
        #expect(RFC3339.parse("2026-11-23", defaultOffset: .china) == CivilTime(year: 2026, month: 11, day: 23).timestamp(offset: .china))
        #expect(RFC3339.parse("2026-11-23 12:40", defaultOffset: .china) == Timestamp(millisecondsSinceEpoch: 1_795_408_800_000))
        #expect(RFC3339.parse("2026-02-30", defaultOffset: .china) == nil)
        #expect(RFC3339.parse("yesterday", defaultOffset: .china) == nil)
        #expect(RFC3339.parse("2026-11-23T25:00", defaultOffset: .china) == nil)
    }

    @Test func civilTimeRoundTripsAndWeekdays() {
        for ms: Int64 in [0, -1, 951_782_400_000, 1_795_408_805_120, 4_102_444_800_000] {
            let t = Timestamp(millisecondsSinceEpoch: ms)
            #expect(CivilTime(t, offset: .china).timestamp(offset: .china) == t)
        }
        #expect(CivilTime(year: 2026, month: 11, day: 23).weekday == 1)  // a Monday
    }

    @Test func openingHoursAcrossMidnight() throws {
        let h = try OpeningHours(parsing: ["20:00-06:00"], offset: .china)
        func at(_ hour: Int) -> Timestamp { CivilTime(year: 2026, month: 1, day: 1, hour: hour).timestamp(offset: .china) }
        #expect(h.isOpen(at: at(23)))
        #expect(h.isOpen(at: at(5)))
        #expect(!h.isOpen(at: at(12)))
        #expect(throws: OpeningHoursError(text: "7:00-12:00")) { try OpeningHours(parsing: ["7:00-12:00"], offset: .china) }
        #expect(try OpeningHours(parsing: ["00:00-24:00"], offset: .china).isAlwaysOpen)
    }
}
