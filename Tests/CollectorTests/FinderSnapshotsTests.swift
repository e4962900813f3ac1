import Testing
@testable import YizhanCore
@testable import YizhanCollector

/// The finder's snapshot over a real store: heartbeats update the index without reading
/// the store again, a station without a position never makes it reload, a new station does.
@Suite struct FinderSnapshotsTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    func heartbeat(_ id: String, at: Timestamp, occupancy: Int, open: Bool = true) -> HeartbeatRecord {
        HeartbeatRecord(station: id, at: at, occupancy: occupancy, live: LiveState(
            open: open, capacity: 6, amenities: ["microwave-1": .ok], readers: [], backlog: 0, lastSeq: 0, version: "t", clockSkewSeconds: 0))
    }

    func add(_ store: any CollectorStore, _ id: String, placed: Bool) async throws {
        try await store.addStation(StationRecord(id: id, name: id, capacity: 6, latitude: placed ? 29.95 : nil, longitude: placed ? 122.3 : nil),
                                   tokenHash: Tokens.hash(Tokens.generate(prefix: "yzs_")))
    }

    @Test func heartbeatsUpdateInPlaceAndOnlyANewStationReloads() async throws {
        try await withStore(.sqlite) { store, _ in
            try await add(store, "placed", placed: true)
            try await add(store, "unplaced", placed: false)
            let buffer = HeartbeatBuffer(store: store)
            let snapshots = FinderSnapshots(store: store, heartbeats: buffer)
            // As the collector does with every heartbeat it accepts.
            func accept(_ h: HeartbeatRecord) { buffer.add(h); snapshots.note(h) }
            try await snapshots.refresh(now: t0)
            #expect(snapshots.reloads == 1)
            let first = try await snapshots.current(now: t0)
            #expect(first.stations.map(\.id) == ["placed"])

            // Heartbeats from both, every second for a while: the placed one's free seats
            // follow; the unplaced one's never cause a reload (it would be every second).
            for second in 1...5 {
                let at = t0 + .seconds(Int64(second))
                accept(heartbeat("unplaced", at: at, occupancy: 1))
                accept(heartbeat("placed", at: at, occupancy: second))
                try await snapshots.refresh(now: at)
                let index = try await snapshots.current(now: at)
                #expect(index.station("placed")?.occupancy == second && index.station("placed")?.lastSeen == at)
                #expect(index.station("placed")?.amenities == ["microwave": .ok])
                #expect(index.grid === first.grid && index.generation > first.generation)
            }
            #expect(snapshots.reloads == 1)

            // An older heartbeat (another collector's, delayed) does not undo a newer one.
            snapshots.note(heartbeat("placed", at: t0 + .seconds(2), occupancy: 0))
            try await snapshots.refresh(now: t0 + .seconds(7))
            #expect(try await snapshots.current(now: t0 + .seconds(7)).station("placed")?.occupancy == 5)

            // A station added since (another process wrote the store) is read at its first heartbeat.
            try await add(store, "added", placed: true)
            accept(heartbeat("added", at: t0 + .seconds(8), occupancy: 2))
            try await snapshots.refresh(now: t0 + .seconds(9))
            #expect(snapshots.reloads == 2)
            let index = try await snapshots.current(now: t0 + .seconds(9))
            #expect(index.stations.map(\.id) == ["added", "placed"])
            #expect(index.station("added")?.occupancy == 2 && index.station("placed")?.occupancy == 5)
        }
    }
}
