import Testing
import YizhanCore
@testable import YizhanCollector

/// A heartbeat as the collector stores it.
private func heartbeat(_ id: String, occupancy: Int, at: Timestamp) -> HeartbeatRecord {
    HeartbeatRecord(station: id, at: at, occupancy: occupancy, live: LiveState(
        open: true, capacity: 6, amenities: [:], readers: [], backlog: 0, lastSeq: 0, version: "t", clockSkewSeconds: 0))
}

/// The station list's revision on both stores, and the collector's in-memory copy of the
/// list that questions read instead of loading every station each time.
@Suite struct StationRosterTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    func record(_ id: String, region: String = "浙江省/舟山市/普陀区") -> StationRecord {
        StationRecord(id: id, name: id, region: RegionPath(parsing: region)!, capacity: 6, latitude: 29.95, longitude: 122.3)
    }

    @Test(arguments: StoreKind.available)
    func theRevisionMovesWithTheStationListAndNotWithHeartbeatsOrEvents(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let r0 = try await store.stationRosterRevision()
            try await store.addStation(record("a"), tokenHash: Tokens.hash("ta"))
            let r1 = try await store.stationRosterRevision()
            #expect(r1 > r0)
            try await store.recordHeartbeats([heartbeat("a", occupancy: 3, at: t0)])
            _ = try await store.ingest(station: "a", events: [IngestedEvent(seq: 1, time: t0, kind: "check_in", cardKey: "k1", reader: "door",
                                                                            occupancy: 1, staySeconds: nil, detail: nil)])
            #expect(try await store.stationRosterRevision() == r1, "heartbeats and events are not the station list")
            // Moved to another district by an import, and a new one imported beside it.
            _ = try await store.importStations([record("a", region: "浙江省/舟山市/定海区"), record("b")], tokenHashes: ["b": Tokens.hash("tb")])
            #expect(try await store.stationRosterRevision() > r1)
        }
    }

    @Test(arguments: StoreKind.available)
    func theCopyIsReadAgainOnlyWhenTheListChangedOrItIsOld(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(record("a"), tokenHash: Tokens.hash("ta"))
            let roster = StationRoster()
            #expect(try await roster.stations(store, now: t0).map(\.occupancy) == [0])
            // A heartbeat changes live state only: the copy is kept (questions read rollups).
            try await store.recordHeartbeats([heartbeat("a", occupancy: 4, at: t0)])
            #expect(try await roster.stations(store, now: t0 + .seconds(1)).map(\.occupancy) == [0])
            // A station added (here by the store directly, as the CLI does) is seen at once.
            try await store.addStation(record("b"), tokenHash: Tokens.hash("tb"))
            let read = try await roster.stations(store, now: t0 + .seconds(2))
            #expect(read.map(\.id) == ["a", "b"] && read.first?.occupancy == 4)
            // And the live capacity is never older than the maximum age.
            try await store.recordHeartbeats([heartbeat("a", occupancy: 5, at: t0 + .seconds(3))])
            #expect(try await roster.stations(store, now: t0 + .seconds(3)).first?.occupancy == 4)
            #expect(try await roster.stations(store, now: t0 + .seconds(2) + StationRoster.maximumAge).first?.occupancy == 5)
        }
    }
}

/// The in-memory copy of every station that the finder and the alert evaluator keep,
/// read again in part.
@Suite struct StationMirrorTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    @Test(arguments: StoreKind.available)
    func onlyTheStationsHeardSinceAreReadUntilTheListChanges(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            for id in ["a", "b", "c"] {
                try await store.addStation(StationRecord(id: id, name: id, capacity: 6), tokenHash: Tokens.hash("t" + id))
            }
            try await store.recordHeartbeats([heartbeat("a", occupancy: 1, at: t0 - .seconds(60)), heartbeat("b", occupancy: 2, at: t0)])
            #expect(try await store.stations(heardSince: t0 + .seconds(1)).isEmpty)
            #expect(try await store.stations(heardSince: t0).map(\.id) == ["b"])
            #expect(try await store.stations(heardSince: t0 - .seconds(60)).map(\.id) == ["a", "b"])

            let mirror = StationMirror(fullInterval: .seconds(300))
            let first = try await mirror.refresh(store, now: t0)
            #expect(first.full && first.stations.map(\.id) == ["a", "b", "c"])
            #expect(first.changed.map(\.id) == ["a", "b", "c"] && first.positions == ["a": 0, "b": 1, "c": 2])

            // A minute later b beat again: read in part (from a little before the newest
            // heartbeat read), a (silent for two minutes) not at all.
            try await store.recordHeartbeats([heartbeat("b", occupancy: 5, at: t0 + .seconds(60))])
            let second = try await mirror.refresh(store, now: t0 + .seconds(61))
            #expect(!second.full && second.changed.map(\.id) == ["b"])
            #expect(second.stations.map(\.occupancy) == [1, 5, 0])
            // Nothing new: nothing read but the overlap.
            let third = try await mirror.refresh(store, now: t0 + .seconds(62))
            #expect(!third.full && third.changed.map(\.id) == ["b"])

            // A station added: all read again, the new one included.
            try await store.addStation(StationRecord(id: "d", name: "d", capacity: 6), tokenHash: Tokens.hash("td"))
            let fourth = try await mirror.refresh(store, now: t0 + .seconds(63))
            #expect(fourth.full && fourth.stations.map(\.id) == ["a", "b", "c", "d"])
            // A full read's changes are what differs from the copy before: the new station only.
            #expect(fourth.changed.map(\.id) == ["d"] && fourth.positions["d"] == 3)
            // And after the full interval, whatever happened.
            #expect(try await mirror.refresh(store, now: t0 + .seconds(64)).full == false)
            try await store.recordHeartbeats([heartbeat("c", occupancy: 3, at: t0 + .seconds(65))])
            let fifth = try await mirror.refresh(store, now: t0 + .seconds(63 + 300))
            #expect(fifth.full && fifth.changed.map(\.id) == ["c"])
        }
    }
}

/// The alert evaluator asks for every ongoing outage at once; the answer is what asking
/// for every station by name gives.
@Suite struct OngoingOutagesTests {
    @Test(arguments: StoreKind.available)
    func everyOngoingOutageIsWhatAskingByNameGives(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)
            for id in ["a", "b", "c"] {
                try await store.addStation(StationRecord(id: id, name: id, capacity: 6), tokenHash: Tokens.hash("t" + id))
            }
            func amenity(_ seq: Int64, _ what: String, _ status: String, at: Duration) -> IngestedEvent {
                IngestedEvent(seq: seq, time: t0 + at, kind: "amenity", cardKey: nil, reader: nil, occupancy: 0, staySeconds: nil,
                              detail: "amenity=\(what) status=\(status) by=li")
            }
            _ = try await store.ingest(station: "a", events: [amenity(1, "microwave", "out_of_order", at: .seconds(0)),
                                                               amenity(2, "water", "out_of_order", at: .seconds(60))])
            _ = try await store.ingest(station: "b", events: [amenity(1, "toilet", "out_of_order", at: .seconds(0)),
                                                               amenity(2, "toilet", "ok", at: .seconds(120))])
            let all = try await store.allOngoingOutages()
            let named = try await store.ongoingOutages(["a", "b", "c"])
            func key(_ o: OngoingOutage) -> String { "\(o.station)/\(o.amenity)@\(o.since)" }
            #expect(all.map(key).sorted() == named.map(key).sorted())
            #expect(all.map { "\($0.station)/\($0.amenity)" }.sorted() == ["a/microwave", "a/water"])
        }
    }

    /// A question asks for its stations' outages by name up to a few hundred stations, and
    /// reads all and filters above: both ways give the stations' own outages only.
    @Test(arguments: StoreKind.available)
    func aQuestionGetsItsOwnStationsOutagesWhateverItsSize(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)
            let inside = (0..<(Analytics.outagesByName + 50)).map { "in-\($0)" }
            for id in inside + ["out"] {
                try await store.addStation(StationRecord(id: id, name: id, capacity: 6), tokenHash: Tokens.hash("t" + id))
            }
            for id in ["in-5", inside.last!, "out"] {
                _ = try await store.ingest(station: id, events: [IngestedEvent(seq: 1, time: t0, kind: "amenity", cardKey: nil, reader: nil,
                                                                               occupancy: 0, staySeconds: nil, detail: "amenity=water status=out_of_order by=li")])
            }
            let analytics = Analytics(store: store, offset: .china)
            let many = try await analytics.ongoingOutages(of: inside)
            #expect(many.map(\.station).sorted() == ["in-249", "in-5"].sorted() && inside.count > Analytics.outagesByName)
            let few = try await analytics.ongoingOutages(of: ["in-5", "in-6"])
            #expect(few.map(\.station) == ["in-5"])
            #expect(try await analytics.ongoingOutages(of: []).isEmpty)
        }
    }
}

