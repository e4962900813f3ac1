import Foundation
import Testing
import YizhanTestSupport
import YizhanCore
import PostgresNIO
@testable import YizhanCollector

/// Rollups, on both stores: maintained at ingest exactly once, equal to a recomputation
/// from the raw log, answering questions as the log itself would.
@Suite struct RollupContractTests {
    static let kinds = StoreKind.available
    static let stations: [(id: String, region: String)] = [
        ("p-1", "浙江省/舟山市/普陀区/沈家门街道"), ("p-2", "浙江省/舟山市/普陀区/东港街道"), ("d-1", "浙江省/舟山市/定海区"),
    ]

    /// Uneven batches with replays, as a flaky uplink sends them.
    static func ingestFlakily(_ store: any CollectorStore, _ id: String, _ events: [IngestedEvent]) async throws {
        var i = 0
        while i < events.count {
            let n = min(events.count - i, 1 + (i * 7) % 90)
            _ = try await store.ingest(station: id, events: Array(events[i..<i + n]))
            if i % 3 == 0 { _ = try await store.ingest(station: id, events: Array(events[max(0, i - 5)..<i + n])) }
            i += n
        }
    }

    static func addStations(_ store: any CollectorStore) async throws {
        for s in stations {
            try await store.addStation(StationRecord(id: s.id, name: s.id, region: RegionPath(parsing: s.region)!, capacity: 6), tokenHash: "h-" + s.id)
        }
    }

    @Test(arguments: kinds) func questionsAnswerWhatTheLogSays(_ kind: StoreKind) async throws {
        let scenario = Scenario(seed: 7)
        try await withStore(kind) { store, _ in
            try await Self.addStations(store)
            for s in Self.stations { try await Self.ingestFlakily(store, s.id, scenario.events(for: s.id).map(\.ingested)) }
            let visible = try await store.stations()
            let office = UserRecord(name: "o", role: .office, stations: [])
            let analytics = Analytics(store: store, offset: .china)
            let day0 = scenario.day0
            let questions: [(station: String?, region: String?, from: Timestamp, to: Timestamp, bucket: UsageBucket, covers: [String])] = [
                ("p-1", nil, day0 + .seconds(86_400), day0 + .seconds(2 * 86_400), .hour, ["p-1"]),
                (nil, "浙江省/舟山市/普陀区", day0, day0 + .seconds(3 * 86_400), .day, ["p-1", "p-2"]),
                // Starting mid-way: outages carried in from before.
                (nil, "浙江省", day0 + .seconds(86_400 + 13 * 3600), scenario.now, .hour, ["p-1", "p-2", "d-1"]),
                (nil, nil, day0 - .seconds(86_400), day0 + .seconds(10 * 86_400), .week, ["p-1", "p-2", "d-1"]),
                (nil, "浙江省/舟山市", day0, day0 + .seconds(3 * 86_400), .month, ["p-1", "p-2", "d-1"]),
            ]
            for q in questions {
                let scope = try Analytics.scope(user: office, visible: visible, station: q.station, region: q.region, district: nil)
                #expect(Set(scope.stations.map(\.id)) == Set(q.covers))
                let period = try UsagePeriod(from: q.from, to: q.to, bucket: q.bucket, offset: .china)
                let answer = try await analytics.usage(scope, period: period, comparisons: false, now: scenario.now).report
                let expected = LogOracle(scenario: scenario, stations: q.covers, now: scenario.now).report(period)
                #expect(answer.buckets == expected.buckets, "\(q.station ?? q.region ?? "nation") by \(q.bucket)")
                #expect(answer.totals == expected.totals, "\(q.station ?? q.region ?? "nation") by \(q.bucket)")
                #expect(!answer.uniqueWorkersEstimated, "40 cards stay in the sketches' exact range")
                #expect(answer.totals.visits > 0 && answer.totals.amenityDowntimeSeconds > 0, "the scenario exercises the figures")
            }
        }
    }

    /// Random batches, replays, two collectors ingesting the same batches at once (a retry
    /// reaching both), and a week-old backlog arriving last: the rollups equal a
    /// recomputation from the raw log. (A station sends its events in order; outages are
    /// paired in that order.)
    @Test(arguments: kinds) func rollupsEqualARecomputationFromTheRawLog(_ kind: StoreKind) async throws {
        let scenario = Scenario(seed: 11)
        try await withStore(kind) { store, url in
            try await Self.addStations(store)
            // A backlog: p-2 was cut off a week ago; its events arrive after everything else.
            let backlog = scenario.events(for: "p-2").map(\.ingested).map { e in
                var old = e
                old.time = e.time - .seconds(7 * 86_400)
                return old
            }
            try await Self.ingestFlakily(store, "p-1", scenario.events(for: "p-1").map(\.ingested))
            let d1 = scenario.events(for: "d-1").map(\.ingested)
            let batches = stride(from: 0, to: d1.count, by: 40).map { Array(d1[$0..<min($0 + 60, d1.count)]) }
            try await withSecondStore(url) { second in
                async let a: Void = { for b in batches { _ = try await store.ingest(station: "d-1", events: b) } }()
                async let b: Void = { for b in batches { _ = try await second.ingest(station: "d-1", events: b) } }()
                _ = try await (a, b)
            }
            let before = try await store.rollupRows(.region(.nation), level: .day, from: Timestamp(secondsSinceEpoch: 0),
                                                    to: Timestamp(secondsSinceEpoch: 4_000_000_000))
            #expect(try await store.ingest(station: "p-2", events: backlog) == backlog.count)
            #expect(try await RollupMaintenance.check(store) == [], "rollups kept at ingest equal the raw log")
            let after = try await store.rollupRows(.region(.nation), level: .day, from: Timestamp(secondsSinceEpoch: 0),
                                                   to: Timestamp(secondsSinceEpoch: 4_000_000_000))
            // The backlog landed in its own days, and only there.
            let backlogDays = Set(backlog.map { RollupBuilder.day(ofHour: RollupBuilder.hour(of: $0.time.millisecondsSinceEpoch), offset: .china) })
            for row in after where !backlogDays.contains(row.start) {
                let old = before.first { $0.start == row.start }
                #expect(old?.figures == row.figures && old?.workers.bytes == row.workers.bytes)
            }
            #expect(after.filter { backlogDays.contains($0.start) }.map(\.figures.visits).reduce(0, +)
                    == Int64(backlog.filter { $0.kind == "check_in" }.count))

            // A rebuild from the raw log changes nothing; a damaged row is found, then mended.
            let nation = try await store.storedRollups(.regionHours, key: "", from: 0, to: 4_000_000_000_000)
            try await RollupMaintenance.rebuild(store)
            #expect(try await store.storedRollups(.regionHours, key: "", from: 0, to: 4_000_000_000_000).map(\.figures) == nation.map(\.figures))
            let day = try #require(try await store.storedRollups(.stationDays, key: "p-1", from: 0, to: 4_000_000_000_000).first?.start)
            try await store.replaceStationRollups(station: "p-1", from: day, to: day + 86_400_000, hours: [], outages: nil)
            let found = try await RollupMaintenance.check(store)
            #expect(!found.isEmpty && found.contains { $0.table == "rollup_station_hours" && $0.key == "p-1" })
            try await RollupMaintenance.rebuild(store, stations: ["p-1"])
            #expect(try await RollupMaintenance.check(store) == [])
        }
    }

    /// A station-day is exact; thousands of workers over a region are estimated within bounds.
    @Test(arguments: kinds) func uniqueWorkersExactWhenSmallAndCloseWhenLarge(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.addStations(store)
            let day0 = Scenario(seed: 1).day0
            var rng = SplitMix64(seed: 99)
            var all = Set<String>()
            var perStationDay: [String: Set<String>] = [:]
            for s in Self.stations {
                var events: [IngestedEvent] = []
                for i in 0..<4000 {
                    let card = Hex.encode((0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next()) })
                    let t = day0 + .seconds(Int64(i) * 60)
                    events.append(IngestedEvent(seq: Int64(i + 1), time: t, kind: "check_in", cardKey: card, reader: "door", occupancy: 1,
                                                staySeconds: nil, detail: nil))
                    all.insert(card)
                    if i < 120 { perStationDay[s.id, default: []].insert(card) }
                }
                _ = try await store.ingest(station: s.id, events: events)
            }
            let office = UserRecord(name: "o", role: .office, stations: [])
            let visible = try await store.stations()
            let analytics = Analytics(store: store, offset: .china)
            // The first two hours of one station (120 workers): exact.
            let small = try await analytics.usage(try Analytics.scope(user: office, visible: visible, station: "p-1", region: nil, district: nil),
                                                  period: try UsagePeriod(from: day0, to: day0 + .seconds(6000), bucket: .hour, offset: .china),
                                                  comparisons: false).report
            #expect(small.totals.uniqueWorkers == perStationDay["p-1"]!.count && !small.uniqueWorkersEstimated)
            let big = try await analytics.usage(try Analytics.scope(user: office, visible: visible, station: nil, region: "浙江省", district: nil),
                                                period: try UsagePeriod(from: day0, to: day0 + .seconds(4 * 86_400), bucket: .day, offset: .china),
                                                comparisons: false).report
            #expect(big.totals.visits == 12_000, "visits are exact")
            #expect(big.uniqueWorkersEstimated)
            let error = abs(Double(big.totals.uniqueWorkers - all.count)) / Double(all.count)
            #expect(error <= 0.025, "\(big.totals.uniqueWorkers) estimated for \(all.count)")
        }
    }

    /// The same batches give the same rows in both stores, sketches byte for byte.
    @Test func sqliteAndPostgresKeepIdenticalRollups() async throws {
        let scenario = Scenario(seed: 42)
        var rows: [StoreKind: [[UInt8]]] = [:]
        var figures: [StoreKind: [RollupFigures]] = [:]
        for kind in StoreKind.allCases {
            try await withStore(kind) { store, _ in
                try await Self.addStations(store)
                for s in Self.stations { try await Self.ingestFlakily(store, s.id, scenario.events(for: s.id).map(\.ingested)) }
                var r: [RollupRow<HyperLogLog>] = []
                for table in RollupTable.allCases {
                    for key in table.keyColumn == "region" ? ["", "浙江省/舟山市", "浙江省/舟山市/普陀区/东港街道"] : ["p-1", "d-1"] {
                        r += try await store.storedRollups(table, key: key, from: 0, to: 4_000_000_000_000)
                    }
                }
                rows[kind] = r.map(\.workers.bytes)
                figures[kind] = r.map(\.figures)
            }
        }
        #expect(figures[.sqlite] == figures[.postgres])
        #expect(rows[.sqlite] == rows[.postgres])
        #expect((figures[.sqlite]?.count ?? 0) > 50)
    }
}

/// Usage computed from the generated log alone, the plain way, with no rollup in between.
struct LogOracle {
    let scenario: Scenario
    let stations: [String]
    let now: Timestamp

    func report(_ period: UsagePeriod) -> UsageReport {
        let n = period.count
        var buckets = (0..<n).map { UsageFigures(start: Timestamp(millisecondsSinceEpoch: period.bounds[$0])) }
        var workers = Array(repeating: Set<String>(), count: n), all = Set<String>()
        var stay = Array(repeating: (sum: Int64(0), n: Int64(0)), count: n), ratingSum = Array(repeating: 0, count: n)
        // Peaks: each station's hour peak (the occupancy after each event, or before a departure).
        var hourPeak: [String: [Int64: Int]] = [:]
        let end = min(period.bounds.last!, now.millisecondsSinceEpoch)
        for s in stations {
            var downSince: [String: Int64] = [:]
            // An outage that ended counts whole; one still going on, up to now.
            func downtime(_ a: Int64, _ b: Int64, ongoing: Bool = false) {
                for i in 0..<n {
                    let x = max(a, period.bounds[i]), y = min(b, period.bounds[i + 1], ongoing ? end : .max)
                    if y > x { buckets[i].amenityDowntimeSeconds += (y - x) / 1000 }
                }
            }
            for g in scenario.events(for: s) {
                let e = g.ingested, t = e.time.millisecondsSinceEpoch
                let departure = e.kind == "check_out" || e.kind == "auto_check_out"
                let h = t - ((t % 3_600_000) + 3_600_000) % 3_600_000
                hourPeak[s, default: [:]][h] = max(hourPeak[s]?[h] ?? 0, e.occupancy + (departure ? 1 : 0))
                if e.kind == "amenity", case .change(let amenity, let status, _, _)? = try? AmenityEventDetail.parse(kind: e.kind, detail: e.detail) {
                    if let since = downSince[amenity], !status.isDown { downtime(since, t); downSince[amenity] = nil }
                    else if downSince[amenity] == nil, status.isDown { downSince[amenity] = t }
                }
                guard let i = period.index(of: t) else { continue }
                switch e.kind {
                case "check_in": buckets[i].visits += 1; workers[i].insert(e.cardKey!); all.insert(e.cardKey!)
                case "check_out", "auto_check_out": stay[i].sum += e.staySeconds!; stay[i].n += 1
                case "rejected_full": buckets[i].rejectedFull += 1
                case "bad_read": buckets[i].badReads += 1
                case "fault_report": buckets[i].faultReports += 1
                case "rating": buckets[i].ratings += 1; ratingSum[i] += Int(e.detail!.dropFirst("score=".count))!
                default: break
                }
            }
            for since in downSince.values { downtime(since, .max, ongoing: true) }
        }
        // Several stations: the sum of their peaks, per hour, or per day for longer buckets
        // (a week or a month takes its highest day).
        for i in 0..<n {
            if period.bucket == .hour {
                buckets[i].peakOccupancy = stations.map { hourPeak[$0]?[period.bounds[i]] ?? 0 }.reduce(0, +)
            } else {
                var day = period.bounds[i]
                while day < period.bounds[i + 1] {
                    let sum = stations.map { s in (0..<24).map { hourPeak[s]?[day + Int64($0) * 3_600_000] ?? 0 }.max()! }.reduce(0, +)
                    buckets[i].peakOccupancy = max(buckets[i].peakOccupancy, sum)
                    day += 86_400_000
                }
            }
        }
        var totals = UsageFigures(start: period.from)
        var totalStay = (sum: Int64(0), n: Int64(0)), totalRating = 0
        for i in 0..<n {
            buckets[i].uniqueWorkers = workers[i].count
            if stay[i].n > 0 { buckets[i].meanStaySeconds = (stay[i].sum + stay[i].n / 2) / stay[i].n }
            if buckets[i].ratings > 0 { buckets[i].meanRating = (Double(ratingSum[i]) / Double(buckets[i].ratings) * 100).rounded() / 100 }
            totals.visits += buckets[i].visits; totals.rejectedFull += buckets[i].rejectedFull; totals.badReads += buckets[i].badReads
            totals.faultReports += buckets[i].faultReports; totals.ratings += buckets[i].ratings
            totals.amenityDowntimeSeconds += buckets[i].amenityDowntimeSeconds
            totals.peakOccupancy = max(totals.peakOccupancy, buckets[i].peakOccupancy)
            totalStay.sum += stay[i].sum; totalStay.n += stay[i].n; totalRating += ratingSum[i]
        }
        totals.uniqueWorkers = all.count
        if totalStay.n > 0 { totals.meanStaySeconds = (totalStay.sum + totalStay.n / 2) / totalStay.n }
        if totals.ratings > 0 { totals.meanRating = (Double(totalRating) / Double(totals.ratings) * 100).rounded() / 100 }
        var report = UsageReport(buckets: buckets, totals: totals)
        report.peakIsUpperBound = stations.count > 1
        return report
    }
}

/// Raw events partitioned by month (PostgreSQL) and kept for a set time: a backlog of an old
/// month lands in its own partition; a purge removes raw events and keeps every rollup.
@Suite struct RawRetentionTests {
    @Test(arguments: StoreKind.available) func retentionRemovesRawEventsAndKeepsRollups(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            try await store.addStation(StationRecord(id: "s", name: "s", region: RegionPath(parsing: "浙江省/舟山市")!, capacity: 6), tokenHash: "h")
            // One check-in on the 10th of each month from August to November 2026, noon in China.
            let months = (8...11).map { m in RFC3339.parse("2026-\(m < 10 ? "0" : "")\(m)-10T12:00:00+08:00", defaultOffset: .utc)! }
            let events = months.enumerated().map { i, t in
                IngestedEvent(seq: Int64(i + 1), time: t, kind: "check_in", cardKey: String(repeating: "\(i)", count: 64), reader: "door",
                              occupancy: 1, staySeconds: nil, detail: nil)
            }
            // The newest first, then the old ones as a backlog: each lands in its month.
            _ = try await store.ingest(station: "s", events: [events[3]])
            _ = try await store.ingest(station: "s", events: Array(events[0..<3]))
            if kind == .postgres {
                let counts = try await postgresPartitionCounts(url)
                #expect(counts["events_2026_08"] == 1 && counts["events_2026_11"] == 1 && counts["events_default"] == 0, "\(counts)")
            }
            let all = (Timestamp(secondsSinceEpoch: 0), Timestamp(secondsSinceEpoch: 4_000_000_000))
            let before = try await store.rollupRows(.region(RegionPath(parsing: "浙江省")!), level: .day, from: all.0, to: all.1)
            #expect(before.map(\.figures.visits) == [1, 1, 1, 1])

            let cutoff = StoreMaintenanceService.cutoff(now: RFC3339.parse("2026-11-24T10:00:00Z", defaultOffset: .utc)!, months: 2)
            #expect(RFC3339.format(cutoff, offset: .utc) == "2026-09-01T00:00:00.000Z")
            _ = try await store.purgeRawEvents(before: cutoff)
            #expect(try await store.eventCount(station: "s") == 3)
            let after = try await store.rollupRows(.region(RegionPath(parsing: "浙江省")!), level: .day, from: all.0, to: all.1)
            #expect(after.map(\.figures) == before.map(\.figures) && after.map(\.workers.bytes) == before.map(\.workers.bytes))
            // Checks and rebuilds keep to what the raw log still covers.
            #expect(try await RollupMaintenance.check(store) == [])
            try await RollupMaintenance.rebuild(store)
            let rebuilt = try await store.rollupRows(.region(RegionPath(parsing: "浙江省")!), level: .day, from: all.0, to: all.1)
            #expect(rebuilt.map(\.figures) == before.map(\.figures), "the August rollups outlive its raw events")
            if kind == .postgres {
                #expect(try await postgresPartitionCounts(url)["events_2026_08"] == nil, "August's partition was dropped")
            }
        }
    }

    func postgresPartitionCounts(_ url: String) async throws -> [String: Int] {
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            var out: [String: Int] = [:]
            for try await (name, n) in try await client.query("""
                SELECT tableoid::regclass::text, count(*) FROM events GROUP BY 1
                UNION ALL SELECT c.relname, 0 FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass
                """).decode((String, Int).self) { out[name] = max(out[name] ?? 0, n) }
            group.cancelAll()
            return out
        }
    }
}

/// An upgrade: a PostgreSQL database from before partitioning (its events in one plain
/// table) gets its rows moved into month partitions and its rollups built at start.
@Suite struct PartitionUpgradeTests {
    @Test func eventsOfAnUnpartitionedDatabaseMoveIntoMonthPartitions() async throws {
        try await withStore(.postgres) { store, url in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 6), tokenHash: "h")
            let times = ["2026-09-03T10:00:00+08:00", "2026-10-05T10:00:00+08:00", "2026-10-06T10:00:00+08:00"].map { RFC3339.parse($0, defaultOffset: .utc)! }
            // Back to the schema before v5, with events in a plain table and no rollups.
            let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                for sql in [
                    "DROP TABLE events", "DROP FUNCTION yizhan_event_partition(BIGINT)",
                    "DELETE FROM yizhan_migrations WHERE name = 'v5-partitioned-events'", "DELETE FROM rollup_settings",
                    """
                    CREATE TABLE events (station_id TEXT NOT NULL REFERENCES stations(id), seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
                        kind TEXT NOT NULL, card_key TEXT, reader TEXT, occupancy INTEGER NOT NULL, stay_seconds BIGINT, detail TEXT,
                        PRIMARY KEY (station_id, seq))
                    """,
                    "CREATE INDEX events_time ON events(station_id, time_ms)",
                    "CREATE INDEX events_amenity ON events(station_id, time_ms) WHERE kind = 'amenity'",
                ] { try await client.query(PostgresQuery(unsafeSQL: sql)) }
                for (i, t) in times.enumerated() {
                    let card = String(repeating: "\(i)", count: 64)
                    try await client.query("""
                        INSERT INTO events(station_id, seq, time_ms, kind, card_key, occupancy) VALUES ('s', \(Int64(i + 1)), \(t.millisecondsSinceEpoch), 'check_in', \(card), 1)
                        """)
                }
                group.cancelAll()
            }
            // The next start migrates and builds the rollups.
            try await withSecondStore(url) { upgraded in
                #expect(try await upgraded.eventCount(station: "s") == 3)
                let rows = try await upgraded.rollupRows(.stations(["s"]), level: .day, from: times[0] - .seconds(86_400), to: times[2] + .seconds(86_400))
                #expect(rows.map(\.figures.visits) == [1, 1, 1])
                #expect(try await RollupMaintenance.check(upgraded) == [])
                // A replay of a moved event is still a duplicate.
                let replay = IngestedEvent(seq: 2, time: times[1], kind: "check_in", cardKey: String(repeating: "1", count: 64), reader: nil,
                                           occupancy: 1, staySeconds: nil, detail: nil)
                #expect(try await upgraded.ingest(station: "s", events: [replay]) == 0)
            }
            let counts = try await RawRetentionTests().postgresPartitionCounts(url)
            #expect(counts["events_2026_09"] == 1 && counts["events_2026_10"] == 2 && counts["events_default"] == 0, "\(counts)")
        }
    }
}
