import Foundation
import PostgresNIO
import Testing
import YizhanCore
@testable import YizhanCollector

/// Group commit, on both stores: batches that arrive together are written in one
/// transaction with their rollup deltas summed per row. The rollups must be exactly what
/// the same batches written one by one make, duplicates and failures included.
@Suite struct GroupIngestContractTests {
    /// Twelve stations on three streets of one district, and one in another city.
    static let stations: [(id: String, region: String)] =
        (1...12).map { ("g-\($0)", "浙江省/舟山市/普陀区/街道\($0 % 3)") } + [("c-1", "浙江省/杭州市/西湖区")]
    static let regions = ["", "浙江省", "浙江省/舟山市", "浙江省/舟山市/普陀区", "浙江省/杭州市", "浙江省/杭州市/西湖区"]
        + (0..<3).map { "浙江省/舟山市/普陀区/街道\($0)" }

    static func addStations(_ store: any CollectorStore) async throws {
        for s in stations {
            try await store.addStation(StationRecord(id: s.id, name: s.id, region: RegionPath(parsing: s.region)!, capacity: 6), tokenHash: "h-" + s.id)
        }
    }

    /// Each station's events in uneven batches, in the station's order.
    static func batches(_ scenario: Scenario) -> [String: [[IngestedEvent]]] {
        var out: [String: [[IngestedEvent]]] = [:]
        for s in stations {
            let events = scenario.events(for: s.id).map(\.ingested)
            var i = 0, k = 0
            while i < events.count {
                let n = min(events.count - i, 5 + (k * 13) % 40)
                out[s.id, default: []].append(Array(events[i..<i + n]))
                i += n; k += 1
            }
        }
        return out
    }

    /// Every rollup row of the stations and their regions, sketches as bytes.
    static func snapshot(_ store: any CollectorStore) async throws -> [String] {
        var out: [String] = []
        for table in RollupTable.allCases {
            for key in table.keyColumn == "region" ? regions : stations.map(\.id) {
                for r in try await store.storedRollups(table, key: key, from: 0, to: 4_000_000_000_000) {
                    out.append("\(table.rawValue) \(key) \(r.start) \(r.figures.columns) \(Hex.encode(r.workers.bytes))")
                }
            }
        }
        return out
    }

    static func stats(_ store: any CollectorStore) -> IngestGroupStats {
        (store as? SQLiteCollectorStore)?.ingestGroupStats ?? (store as? PostgresCollectorStore)?.ingestGroupStats ?? IngestGroupStats()
    }

    /// All stations at once, each batch sent twice at the same moment (a retry racing the
    /// original) and half the stations' batches through a second collector as well: the
    /// rollups equal those of the batches written one by one, and each event counts once.
    @Test(arguments: StoreKind.available) func concurrentGroupsEqualBatchesOneByOne(_ kind: StoreKind) async throws {
        let scenario = Scenario(seed: 23)
        let batches = Self.batches(scenario)
        let total = batches.values.joined().map(\.count).reduce(0, +)
        var expected: [String] = []
        try await withStore(kind) { store, _ in
            try await Self.addStations(store)
            for s in Self.stations { for b in batches[s.id]! { _ = try await store.ingest(station: s.id, events: b) } }
            #expect(Self.stats(store).largest == 1, "one at a time: groups of one")
            expected = try await Self.snapshot(store)
            #expect(try await RollupMaintenance.check(store) == [])
        }
        #expect(expected.count > 300)
        try await withStore(kind) { store, url in
            try await Self.addStations(store)
            let counted = try await withSecondStore(url) { second in
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for (i, s) in Self.stations.enumerated() {
                        group.addTask {
                            var n = 0
                            for b in batches[s.id]! {
                                async let first = store.ingest(station: s.id, events: b)
                                async let again = store.ingest(station: s.id, events: b)
                                async let other = i % 2 == 0 ? second.ingest(station: s.id, events: b) : 0
                                let (x, y, z) = try await (first, again, other)
                                #expect(x + y + z == b.count, "a batch counts once however many times it arrives")
                                n += x + y + z
                            }
                            return n
                        }
                    }
                    return try await group.reduce(0, +)
                }
            }
            #expect(counted == total)
            let stats = Self.stats(store)
            #expect(stats.largest > 1 && stats.groups < stats.batches, "batches arriving together were written together: \(stats)")
            let got = try await Self.snapshot(store)
            #expect(got.count == expected.count)
            for (a, b) in zip(got, expected) where a != b { Issue.record("grouped \(a)\none by one \(b)"); break }
            #expect(got == expected)
            #expect(try await RollupMaintenance.check(store) == [])
        }
    }

    /// Batches of one station that reach the store together, carrying the same numbers at
    /// different times (a month apart): each number is stored and counted once, by the first
    /// batch of the group that carries it, and the rollups match the raw log.
    @Test(arguments: StoreKind.available) func aGroupCarryingOneNumberAtTwoTimesStoresItOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 6), tokenHash: "h")
            let t0 = RFC3339.parse("2026-09-10T12:00:00+08:00", defaultOffset: .utc)!
            func visits(_ numbers: ClosedRange<Int64>, daysLater: Int) -> [IngestedEvent] {
                numbers.map { IngestedEvent(seq: $0, time: t0 + .seconds(Int64(daysLater) * 86_400 + $0 * 60), kind: "check_in",
                                            cardKey: String(repeating: "a", count: 63) + "\($0 % 10)", reader: "door", occupancy: 1,
                                            staySeconds: nil, detail: nil) }
            }
            var round: Int64 = 0, stored = 0
            // Until the burst shared a group (its first batch may be written alone while the
            // others queue behind it).
            while Self.stats(store).largest < 2 && round < 20 {
                let base = round * 100
                let burst = [visits(base + 1...base + 5, daysLater: 0), visits(base + 3...base + 8, daysLater: 40),
                             visits(base + 5...base + 10, daysLater: 0), visits(base + 1...base + 10, daysLater: 20)]
                let counts = try await withThrowingTaskGroup(of: Int.self) { group in
                    for b in burst { group.addTask { try await store.ingest(station: "s", events: b) } }
                    return try await group.reduce(0, +)
                }
                #expect(counts == 10, "round \(round): each of the ten numbers counted once")
                stored += 10
                round += 1
            }
            #expect(Self.stats(store).largest >= 2, "the batches shared a group in \(round) rounds")
            #expect(try await store.eventCount(station: "s") == stored)
            #expect(try await RollupMaintenance.check(store) == [])
        }
    }

    /// A batch that cannot be stored fails alone: the batches written in the same group are
    /// stored and counted once.
    @Test(arguments: StoreKind.available) func aFailingBatchFailsAloneInItsGroup(_ kind: StoreKind) async throws {
        let scenario = Scenario(seed: 5)
        let batches = Self.batches(scenario)
        try await withStore(kind) { store, _ in
            try await Self.addStations(store)
            var round = 0
            // Until the failing batch has shared a group (the first batch of a burst may be
            // written alone while the others queue behind it).
            while Self.stats(store).splits == 0 && round < 20 {
                let results = try await withThrowingTaskGroup(of: (String, Result<Int, any Error>).self) { group in
                    for s in Self.stations {
                        guard let b = batches[s.id]!.dropFirst(round).first else { continue }
                        group.addTask { (s.id, await outcome { try await store.ingest(station: s.id, events: b) }) }
                    }
                    // Neither store can write it: SQLite refuses the unknown station (a foreign
                    // key), PostgreSQL the NUL byte in a text value.
                    let ghost = batches["g-1"]![0].map { e in
                        var bad = e
                        bad.detail = "bad\u{0}detail"
                        return bad
                    }
                    group.addTask { ("ghost", await outcome { try await store.ingest(station: "ghost", events: ghost) }) }
                    return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
                }
                for (id, result) in results {
                    if id == "ghost" {
                        #expect(throws: (any Error).self) { try result.get() }
                    } else {
                        #expect(try result.get() == batches[id]![round].count, "\(id) round \(round)")
                    }
                }
                round += 1
            }
            #expect(Self.stats(store).splits > 0, "the failing batch shared a group in \(round) rounds")
            for s in Self.stations {
                #expect(try await store.eventCount(station: s.id) == batches[s.id]!.prefix(round).map(\.count).reduce(0, +))
            }
            #expect(try await RollupMaintenance.check(store) == [])
        }
    }
}

private func outcome<T: Sendable>(_ body: () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}

/// Two collectors writing one station's batches on PostgreSQL: the second waits for the
/// first's lock, and must then see what the first committed, the open outages included
/// (its first statement's snapshot is older than its wait; only the locked station row is
/// read fresh there).
@Suite struct PostgresIngestOrderingTests {
    @Test func aBatchWaitingForAnotherCollectorSeesTheOutageItOpened() async throws {
        try await withStore(.postgres) { store, url in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 6), tokenHash: "h")
            let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000 - 1_795_000_000 % 86_400)
            func water(_ seq: Int64, _ status: String, at: Duration) -> IngestedEvent {
                IngestedEvent(seq: seq, time: t0 + at, kind: "amenity", cardKey: nil, reader: nil, occupancy: 0, staySeconds: nil,
                              detail: "amenity=water status=\(status) by=li")
            }
            let gate = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { await gate.run() }
                defer { running.cancelAll() }
                /// Sessions waiting for an advisory lock in this database.
                func waiters() async throws -> Int {
                    var n = 0
                    for try await c in try await gate.query("""
                        SELECT count(*)::bigint FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'
                        """, logger: quietLogger).decode(Int64.self) { n = Int(c) }
                    return n
                }
                func awaitWaiters(_ n: Int) async throws {
                    let deadline = ContinuousClock.now + .seconds(30)
                    while try await waiters() < n {
                        guard ContinuousClock.now < deadline else { Issue.record("\(n) waiting ingests never showed"); return }
                        try await Task.sleep(for: .milliseconds(10))
                    }
                }
                try await withSecondStore(url) { second in
                    try await gate.withConnection { held in
                        // The station's lock, held here: both collectors' batches queue behind it
                        // in order, the one that opens the outage first.
                        try await held.query("BEGIN", logger: quietLogger)
                        try await held.query("SELECT pg_advisory_xact_lock(hashtextextended('s', 0))", logger: quietLogger)
                        async let opened = store.ingest(station: "s", events: [water(1, "out_of_order", at: .seconds(0))])
                        try await awaitWaiters(1)
                        async let closed = second.ingest(station: "s", events: [water(2, "ok", at: .seconds(3600))])
                        try await awaitWaiters(2)
                        try await held.query("COMMIT", logger: quietLogger)
                        #expect(try await opened == 1)
                        #expect(try await closed == 1)
                    }
                }
            }
            let days = try await store.rollupRows(.stations(["s"]), level: .day, from: t0 - .seconds(86_400), to: t0 + .seconds(86_400))
            #expect(days.map(\.figures.downtimeSeconds).reduce(0, +) == 3600, "the second batch closed the outage the first opened")
            #expect(try await store.ongoingOutages(["s"]).isEmpty)
            #expect(try await RollupMaintenance.check(store) == [])
        }
    }

    /// The replay guard trusts `last_ack` to be the highest number stored: a database from
    /// before that rule (here: `last_ack` set back to 0) gets it from its events at start.
    @Test func anUpgradedDatabaseGetsEachStationsHighestNumber() async throws {
        try await withStore(.postgres) { store, url in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 6), tokenHash: "h")
            let months = ["2026-08-10", "2026-09-10", "2026-10-10"].map { RFC3339.parse($0 + "T12:00:00+08:00", defaultOffset: .utc)! }
            func visit(_ seq: Int64, _ t: Timestamp) -> IngestedEvent {
                IngestedEvent(seq: seq, time: t, kind: "check_in", cardKey: String(repeating: "a", count: 64), reader: "door", occupancy: 1,
                              staySeconds: nil, detail: nil)
            }
            #expect(try await store.ingest(station: "s", events: months.enumerated().map { visit(Int64($0.offset + 1), $0.element) }) == 3)
            let raw = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { await raw.run() }
                try await raw.query("UPDATE stations SET last_ack = 0", logger: quietLogger)
                try await raw.query("DELETE FROM yizhan_migrations WHERE name = 'v9b-last-ack-highest'", logger: quietLogger)
                running.cancelAll()
            }
            let (ack, replayed, count) = try await withSecondStore(url) { upgraded -> (Int64?, Int, Int) in
                let ack = try await upgraded.stations().first?.lastAck
                return (ack, try await upgraded.ingest(station: "s", events: [visit(2, months[2])]), try await upgraded.eventCount(station: "s"))
            }
            #expect(ack == 3)
            #expect(replayed == 0 && count == 3, "number 2, in October, is a replay")
        }
    }
}
