import Foundation
import GRDB
import Testing
import YizhanCore
@testable import YizhanStation

@Suite struct EventStoreTests {
    let dir = TemporaryDirectory()
    let t0 = Timestamp(millisecondsSinceEpoch: 1_795_408_805_000)

    func event(_ kind: EventKind, _ seconds: Int64, card: String? = nil, occupancy: Int = 0) -> StationEvent {
        StationEvent(time: t0 + .seconds(seconds), kind: kind, cardKey: card.map(CardKey.init(hex:)), cardHint: card.map { "**\($0)" },
                     reader: "door", occupancy: occupancy)
    }

    @Test func durabilitySettingsAreWALWithSynchronousFull() throws {
        let store = try EventStore(path: dir.file("s.db"), stationID: "a")
        #expect(try store.journalMode() == "wal")
        #expect(try store.writerSynchronousMode() == 2)  // FULL, not GRDB's NORMAL
    }

    @Test func sequenceNumbersAreContiguousAcrossTransactionsAndReopens() throws {
        do {
            let store = try EventStore(path: dir.file("s.db"), stationID: "a")
            let first = try store.append([event(.checkIn, 0, card: "aa", occupancy: 1), event(.checkIn, 1, card: "bb", occupancy: 2)])
            #expect(first.map(\.seq) == [1, 2])
            #expect(try store.append([event(.checkOut, 2, card: "aa", occupancy: 1)]).map(\.seq) == [3])
        }
        let reopened = try EventStore(path: dir.file("s.db"), stationID: "a")
        #expect(try reopened.lastSeq() == 3)
        #expect(try reopened.append([event(.badRead, 3)]).map(\.seq) == [4])
        var q = EventStore.Query()
        q.limit = 10
        #expect(try reopened.events(q).map(\.seq) == [1, 2, 3, 4])
    }

    @Test func queriesFilterAndPage() throws {
        let store = try EventStore(path: dir.file("s.db"), stationID: "a")
        try store.append([event(.checkIn, 0, card: "aa", occupancy: 1), event(.checkIn, 10, card: "bb", occupancy: 2),
                          event(.checkOut, 20, card: "aa", occupancy: 1), event(.badRead, 30, occupancy: 1)])
        var q = EventStore.Query()
        q.cardKey = CardKey(hex: "aa")
        #expect(try store.events(q).map(\.event.kind) == [.checkIn, .checkOut])
        q = EventStore.Query()
        q.since = t0 + .seconds(10)
        q.until = t0 + .seconds(30)
        #expect(try store.events(q).map(\.seq) == [2, 3])
        q = EventStore.Query()
        q.kinds = [.badRead, .checkOut]
        #expect(try store.events(q).map(\.seq) == [3, 4])
        q = EventStore.Query()
        q.limit = 2
        q.after = 1
        #expect(try store.events(q).map(\.seq) == [2, 3])
        q.descending = true
        q.after = 4
        #expect(try store.events(q).map(\.seq) == [3, 2])
    }

    @Test func replayStartsWhereTheStationWasLastEmpty() throws {
        let store = try EventStore(path: dir.file("s.db"), stationID: "a")
        try store.append([event(.checkIn, 0, card: "aa", occupancy: 1), event(.checkOut, 10, card: "aa", occupancy: 0),
                          event(.checkIn, 20, card: "bb", occupancy: 1), event(.checkIn, 30, card: "cc", occupancy: 2)])
        let replay = try store.eventsForReplay(now: t0 + .seconds(3600), window: .seconds(10))
        #expect(replay.map(\.kind) == [.checkOut, .checkIn, .checkIn])
        var m = VisitStateMachine(policy: VisitPolicy(capacity: 5))
        replay.forEach { m.apply($0) }
        #expect(m.occupancy == 2)
    }

    @Test func aLogOfAnotherStationIsRefused() throws {
        _ = try EventStore(path: dir.file("s.db"), stationID: "a")
        #expect(throws: StoreError.self) { try EventStore(path: dir.file("s.db"), stationID: "b") }
    }
}
