import Testing
@testable import YizhanCore

/// The station's rules beyond visits, in one state: one rating per check-out within its
/// window, one kiosk report per amenity a minute, amenity changes; and the same state
/// rebuilt from the log after a restart.
@Suite struct StationStateTests {
    let t0 = RFC3339.parseStrict("2026-11-23T08:00:00+08:00")!
    let card = CardKey(hex: String(repeating: "a", count: 64))
    let microwave = AmenityDefinition(id: "microwave", kind: "microwave")

    func state() -> StationState { StationState(policy: VisitPolicy(capacity: 5), amenities: [microwave]) }

    func swipe(_ s: inout StationState, at t: Timestamp) -> [StationEvent] {
        let events = s.visits.decideSwipe(card: card, hint: "1234", reader: "door", now: t)
        s.apply(events)
        return events
    }

    @Test func oneRatingPerCheckOutInsideItsWindow() {
        var s = state()
        #expect(throws: StationState.Refusal.noCheckOutToRate) { try s.decide(.rating(score: 5), at: t0) }
        _ = swipe(&s, at: t0)
        _ = swipe(&s, at: t0 + .seconds(600))           // check-out
        #expect(throws: StationState.Refusal.invalidScore) { try s.decide(.rating(score: 6), at: t0 + .seconds(601)) }
        let rated = try? s.decide(.rating(score: 4), at: t0 + .seconds(610))
        #expect(rated?.kind == .rating && rated?.detail == "score=4")
        #expect(throws: StationState.Refusal.noCheckOutToRate) { try s.decide(.rating(score: 4), at: t0 + .seconds(611)) }
        _ = swipe(&s, at: t0 + .seconds(700))
        _ = swipe(&s, at: t0 + .seconds(800))
        #expect(throws: StationState.Refusal.noCheckOutToRate) { try s.decide(.rating(score: 3), at: t0 + .seconds(861)) }
    }

    @Test func kioskReportsAreThrottledPerAmenity() throws {
        var s = state()
        let first = try s.decide(.faultReport(id: "microwave", note: "cold"), at: t0)
        #expect(first.kind == .faultReport && s.board.entry("microwave")?.openReports == 1)
        #expect(throws: StationState.Refusal.alreadyReported) { try s.decide(.faultReport(id: "microwave", note: nil), at: t0 + .seconds(30)) }
        #expect(throws: StationState.Refusal.amenity(.unknownAmenity("kettle"))) { try s.decide(.faultReport(id: "kettle", note: nil), at: t0) }
        _ = try s.decide(.faultReport(id: "microwave", note: nil), at: t0 + .seconds(61))
        #expect(s.board.entry("microwave")?.openReports == 2)
        // A manager's change answers the reports.
        _ = try s.decide(.amenity(id: "microwave", status: .outOfOrder, by: "li", note: nil), at: t0 + .seconds(62))
        #expect(s.board.entry("microwave")?.openReports == 0 && s.board.entry("microwave")?.status == .outOfOrder)
    }

    @Test func theStateRebuiltFromTheLogDecidesTheSame() throws {
        var live = state()
        var log: [StationEvent] = swipe(&live, at: t0)
        log += swipe(&live, at: t0 + .seconds(300))
        log.append(try live.decide(.faultReport(id: "microwave", note: nil), at: t0 + .seconds(301)))
        var rebuilt = StationState(policy: VisitPolicy(capacity: 5), amenities: [microwave],
                                   amenityLog: log.filter { $0.kind == .faultReport || $0.kind == .amenity }, visitLog: log)
        #expect(rebuilt.occupancy == live.occupancy && rebuilt.unratedCheckOut == live.unratedCheckOut)
        #expect(throws: StationState.Refusal.alreadyReported) { try rebuilt.decide(.faultReport(id: "microwave", note: nil), at: t0 + .seconds(320)) }
        #expect((try? rebuilt.decide(.rating(score: 5), at: t0 + .seconds(330)))?.kind == .rating)
    }
}
