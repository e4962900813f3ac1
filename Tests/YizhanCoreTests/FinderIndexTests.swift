import Testing
@testable import YizhanCore

/// The finder's index: who is offered first, who never, how far and how long a walk, and
/// that the grid finds what a look at every station would.
@Suite struct FinderIndexTests {
    let now = Timestamp(secondsSinceEpoch: 1_795_000_000)
    let offline = Duration.seconds(180)
    // Shenjiamen, Zhoushan; 0.001° of latitude is about 111 m.
    let lat = 29.95, lon = 122.30

    func station(_ id: String, north: Double, east: Double = 0, capacity: Int = 6, occupancy: Int = 0, open: Bool = true,
                 microwave: AmenityStatus? = .ok, seen: Duration? = .seconds(10)) -> FinderStation {
        FinderStation(id: id, name: id, latitude: lat + north, longitude: lon + east, capacity: capacity, occupancy: occupancy, open: open,
                      amenities: microwave.map { ["microwave": $0] } ?? [:], lastSeen: seen.map { now - $0 })
    }

    @Test func roomAndAWorkingAmenityFirstThenFullOnesClosedAndOfflineNever() {
        let index = FinderIndex(stations: [
            station("near-full", north: 0.001, occupancy: 6),
            station("near-closed", north: 0.0015, open: false),
            station("near-broken", north: 0.002, microwave: .outOfOrder),
            station("near-offline", north: 0.0025, seen: .seconds(600)),
            station("never-seen", north: 0.0026, seen: nil),
            station("good-600m", north: 0.0054),
            station("good-900m", north: 0.0081, microwave: .degraded),
            station("far", north: 0.5),
        ], generation: 1, builtAt: now)
        let found = index.nearest(latitude: lat, longitude: lon, amenity: "microwave", limit: 10, now: now, offlineAfter: offline)
        #expect(found.map(\.station.id) == ["good-600m", "good-900m", "near-full", "near-broken"])
        #expect(found.map(\.available) == [true, true, false, false])
        #expect(found[0].distanceMeters == 600 && found[0].freeSeats == 6 && found[0].amenity == .ok)
        // 600 m × 1.3 / 80 m a minute = 9.75, rounded up.
        #expect(found[0].walkMinutes == 10)
        // Without an amenity the broken microwave does not matter.
        let any = index.nearest(latitude: lat, longitude: lon, limit: 3, now: now, offlineAfter: offline)
        #expect(any.map(\.station.id) == ["near-broken", "good-600m", "good-900m"])
        // A limit of two available stations never reaches the full one; 20 km leaves "far" (55 km) out.
        #expect(index.nearest(latitude: lat, longitude: lon, limit: 2, now: now, offlineAfter: offline).map(\.station.id) == ["near-broken", "good-600m"])
        #expect(!found.contains { $0.station.id == "far" })
        #expect(index.nearest(latitude: lat, longitude: lon, limit: 3, now: now, offlineAfter: offline, excluding: "near-broken")
            .map(\.station.id) == ["good-600m", "good-900m", "near-full"])
        #expect(index.station("good-600m")?.name == "good-600m" && index.station("nope") == nil)
    }

    @Test func theGridFindsWhatLookingAtEveryStationFinds() {
        // A pseudo-random city of 3,000 stations over 60 × 60 km, some full, some closed.
        var rng = SplitMix(seed: 7)
        var stations: [FinderStation] = []
        for i in 0..<3000 {
            stations.append(station("s\(i)", north: rng.unit() * 0.54 - 0.27, east: rng.unit() * 0.62 - 0.31,
                                    occupancy: Int(rng.unit() * 8), open: rng.unit() > 0.1))
        }
        let index = FinderIndex(stations: stations, generation: 1, builtAt: now)
        for _ in 0..<200 {
            let (qLat, qLon) = (lat + rng.unit() * 0.6 - 0.3, lon + rng.unit() * 0.7 - 0.35)
            let got = index.nearest(latitude: qLat, longitude: qLon, limit: 5, now: now, offlineAfter: offline)
            let usable = stations.filter { $0.open && $0.capacity > $0.occupancy }
                .map { (id: $0.id, d: Int(GeoDistance.meters(qLat, qLon, $0.latitude, $0.longitude).rounded())) }
                .filter { $0.d <= 20_000 }
                .sorted { ($0.d, $0.id) < ($1.d, $1.id) }
            #expect(got.filter(\.available).map(\.station.id) == Array(usable.prefix(5).map(\.id)))
        }
    }

    @Test func liveUpdatesKeepTheGridAndAnswerLikeAFreshBuild() {
        var rng = SplitMix(seed: 11)
        var stations = (0..<2000).map { i in
            station("s\(i)", north: rng.unit() * 0.3 - 0.15, east: rng.unit() * 0.3 - 0.15, occupancy: Int(rng.unit() * 6))
        }
        let index = FinderIndex(stations: stations.shuffled(using: &rng), generation: 1, builtAt: now)
        #expect(index.stations.map(\.id) == stations.map(\.id).sorted(), "kept by id, the feed's order")
        let before = stations
        // A third of the stations fill up, close or lose their microwave.
        var changes: [FinderStation] = []
        for i in stride(from: 0, to: 2000, by: 3) {
            var s = stations[i]
            switch i % 9 { case 0: s.occupancy = s.capacity; case 3: s.open = false; default: s.amenities = ["microwave": .outOfOrder] }
            stations[i] = s
            changes.append(s)
        }
        let updated = index.updating(changes, generation: 2, builtAt: now)
        #expect(updated?.grid === index.grid, "no new grid for live changes")
        #expect(updated?.generation == 2)
        let fresh = FinderIndex(stations: stations, generation: 3, builtAt: now)
        for _ in 0..<100 {
            let (qLat, qLon) = (lat + rng.unit() * 0.3 - 0.15, lon + rng.unit() * 0.3 - 0.15)
            #expect(updated?.nearest(latitude: qLat, longitude: qLon, amenity: "microwave", limit: 5, now: now, offlineAfter: offline)
                == fresh.nearest(latitude: qLat, longitude: qLon, amenity: "microwave", limit: 5, now: now, offlineAfter: offline))
        }
        // The original is untouched (requests may still be reading it).
        #expect(index.stations == before.sorted { $0.id < $1.id })
        #expect(updated?.station("s0")?.occupancy == stations[0].capacity && index.station("s0")?.occupancy != stations[0].capacity)
        // A station the index does not hold, or one that moved, needs a new build.
        #expect(index.updating([station("new", north: 0)], generation: 2, builtAt: now) == nil)
        var moved = stations[1]; moved.latitude += 0.01
        #expect(index.updating([moved], generation: 2, builtAt: now) == nil)
    }

    @Test func distancesAgreeWithTheGreatCircleAndWalksAreRoundedUp() {
        // 0.01° of latitude is 1,111.95 m on the mean sphere.
        #expect(abs(GeoDistance.meters(30, 120, 30.01, 120) - 1111.95) < 0.1)
        // 0.01° of longitude at 30° N: 1111.95 × cos 30° = 962.97 m.
        #expect(abs(GeoDistance.meters(30, 120, 30, 120.01) - 962.97) < 0.2)
        #expect(abs(GeoDistance.cosine(Double.pi / 3) - 0.5) < 1e-12)
        #expect(WalkEstimate.minutes(straightLineMeters: 0) == 1)
        #expect(WalkEstimate.minutes(straightLineMeters: 800) == 13)   // 1,040 m of street
        #expect(FinderStation.kind(ofID: "toilet-2") == "toilet" && FinderStation.kind(ofID: "first_aid") == "first_aid")
        #expect(FinderStation.byKind(["toilet-1": .outOfOrder, "toilet-2": .degraded, "microwave": .closed])
            == ["toilet": .degraded, "microwave": .closed])
    }

    @Test func freeSeatsAreUnknownWhileOffline() {
        let s = station("a", north: 0, occupancy: 2, seen: .seconds(200))
        #expect(s.freeSeats(now: now, offlineAfter: offline) == nil)
        #expect(station("b", north: 0, occupancy: 2).freeSeats(now: now, offlineAfter: offline) == 4)
    }
}

/// Deterministic pseudo-random numbers for tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// The public endpoints' limit per address.
@Suite struct TokenBucketLimiterTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    @Test func aBurstThenTheRefillRateAndAWaitThatSaysWhenToComeBack() {
        var l = TokenBucketLimiter(policy: .init(perSecond: 2, burst: 3, maximumKeys: 10))
        for _ in 0..<3 { #expect(l.take("a", now: t0) == .allow) }
        #expect(l.take("a", now: t0) == .wait(.milliseconds(500)))
        #expect(l.take("b", now: t0) == .allow, "another address has its own bucket")
        #expect(l.take("a", now: t0 + .milliseconds(250)) == .wait(.milliseconds(250)))
        #expect(l.take("a", now: t0 + .milliseconds(500)) == .allow)
        #expect(l.take("a", now: t0 + .milliseconds(500)) == .wait(.milliseconds(500)))
        // Idle long enough, the bucket is full again but never fuller than the burst.
        let later = t0 + .seconds(3600)
        for _ in 0..<3 { #expect(l.take("a", now: later) == .allow) }
        #expect(l.take("a", now: later) != .allow)
    }

    @Test func theTableStaysBoundedWhateverTheNumberOfAddresses() {
        var l = TokenBucketLimiter(policy: .init(perSecond: 1, burst: 2, maximumKeys: 100))
        for i in 0..<10_000 { _ = l.take("10.0.\(i / 256).\(i % 256)", now: t0 + .milliseconds(Int64(i))) }
        #expect(l.count <= 100)
        // The newest keep their state: the last address used both its tokens.
        _ = l.take("hot", now: t0 + .seconds(20)); _ = l.take("hot", now: t0 + .seconds(20))
        #expect(l.take("hot", now: t0 + .seconds(20)) != .allow)
    }
}
