import Foundation
import Testing
import YizhanCore
@testable import YizhanStation

/// The station's side of reconciliation: per-day counts up to the acknowledged event, and
/// the events of a range to send again.
@Suite struct EventStoreReconciliationTests {
    let dir = TemporaryDirectory()
    // 2026-11-23T22:00:00+08:00
    let t0 = RFC3339.parse("2026-11-23T22:00:00+08:00", defaultOffset: .china)!

    @Test func dayCountsStopAtTheAcknowledgedEventAndSkipQuarantined() throws {
        let store = try EventStore(path: dir.file("s.db"), stationID: "a")
        // 10 events on the 23rd (one per 10 minutes from 22:00), 10 on the 24th (from 00:00 local).
        let events = (0..<20).map { i in
            StationEvent(time: t0 + .seconds(Int64(i < 10 ? i * 600 : 7200 + (i - 10) * 600)), kind: .checkIn, cardKey: nil, cardHint: nil,
                         reader: "door", occupancy: i)
        }
        try store.append(events)
        let now = t0 + .seconds(86_400)
        #expect(try store.dayCounts(now: now, offset: .china).isEmpty, "nothing acknowledged yet")
        try store.setAcknowledged(15)
        try store.quarantine(first: 3, last: 3, reason: "refused", now: now)
        let counts = try store.dayCounts(now: now, offset: .china)
        #expect(counts == [DayCount(day: "2026-11-23", firstSeq: 1, lastSeq: 10, count: 9),
                           DayCount(day: "2026-11-24", firstSeq: 11, lastSeq: 15, count: 5)])
        #expect(counts.allSatisfy { $0.isValid })
        #expect(try store.dayCounts(now: now + .seconds(8 * 86_400), offset: .china).isEmpty, "only the last 7 days")
        #expect(try store.events(resending: 2...5).map(\.seq) == [2, 4, 5], "a quarantined event is never sent again")
    }
}
