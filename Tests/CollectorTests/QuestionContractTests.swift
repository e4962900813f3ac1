import Foundation
import GRDB
import PostgresNIO
import Testing
import YizhanTestSupport
import YizhanCore
@testable import YizhanCollector

/// The read path of the office's questions, on both stores: sketches beyond their exact
/// range (SPARSE and FULL region rows) merged from stored bytes, one station's rows read
/// without grouping, per station totals of several periods in one statement, rankings
/// reading the comparisons for the ranked stations only. Both stores answer the same.
@Suite struct QuestionContractTests {
    static let kinds = StoreKind.available
    static let stations = (1...12).map { i in (id: "q-\(i)", region: "浙江省/舟山市/普陀区/街道\(i % 3)") }
    static let day0 = RFC3339.parse("2026-11-02T00:00:00+08:00", defaultOffset: .utc)!
    static let days = 9

    /// Per station and day, check-ins of cards drawn from 3,000 (so region sketches go SPARSE
    /// and FULL), each with its check-out; station q-i gets about 20·i a day.
    static func load(_ store: any CollectorStore) async throws {
        for s in stations {
            try await store.addStation(StationRecord(id: s.id, name: s.id, region: RegionPath(parsing: s.region)!, capacity: 8), tokenHash: "h-" + s.id)
        }
        for (n, s) in stations.enumerated() {
            var rng = SplitMix64(seed: UInt64(n) &* 7919 &+ 1)
            var seq: Int64 = 0
            for day in 0..<days {
                var events: [IngestedEvent] = []
                for v in 0..<(20 * (n + 1) + Int(rng.next() % 20)) {
                    let t = day0 + .seconds(Int64(day * 86_400 + 6 * 3600 + v * 40 + Int(rng.next() % 30)))
                    var cardRNG = SplitMix64(seed: rng.next() % 3000)
                    let card = Hex.encode((0..<32).map { _ in UInt8(truncatingIfNeeded: cardRNG.next()) })
                    seq += 1
                    events.append(IngestedEvent(seq: seq, time: t, kind: "check_in", cardKey: card, reader: "door", occupancy: 1, staySeconds: nil, detail: nil))
                    seq += 1
                    events.append(IngestedEvent(seq: seq, time: t + .seconds(20), kind: "check_out", cardKey: card, reader: nil, occupancy: 0,
                                                staySeconds: 20, detail: nil))
                }
                _ = try await store.ingest(station: s.id, events: events)
            }
        }
    }

    /// SQLite keeps a region's sketch in its row: with 4 KiB pages each SPARSE or FULL region
    /// row (over the 1,001 bytes such a page keeps in place) took an overflow page of its
    /// own, and the province's month by hour read 720 of them; new databases use 8 KiB.
    @Test func sqliteKeepsRegionSketchesInTheirRows() async throws {
        try await withStore(.sqlite) { store, _ in
            try await Self.load(store)
            let sqlite = try #require(store as? SQLiteCollectorStore)
            let (pageSize, largest, overflow) = try await sqlite.pool.read { db in
                (try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT max(length(workers)) FROM rollup_region_hours") ?? 0,
                 try Int.fetchOne(db, sql: "SELECT count(*) FROM dbstat WHERE name = 'rollup_region_hours' AND pagetype = 'overflow'") ?? -1)
            }
            #expect(pageSize == SQLiteCollectorStore.pageSize)
            #expect(largest > 1001, "some region hour holds a sketch beyond what a 4 KiB page keeps in the row (\(largest) bytes)")
            #expect(overflow == 0)
        }
    }

    /// Every answer compared across stores: usage by hour and by day for a station, several
    /// stations, a street, a district, the province; rankings by every measure.
    @Test func bothStoresAnswerTheSame() async throws {
        var answers: [StoreKind: [String]] = [:]
        for kind in Self.kinds {
            try await withStore(kind) { store, _ in
                try await Self.load(store)
                let visible = try await store.stations()
                let office = UserRecord(name: "o", role: .office, stations: [])
                let manager = UserRecord(name: "m", role: .manager, stations: ["q-3", "q-11", "q-12"])
                let analytics = Analytics(store: store, offset: .china)
                let now = Self.day0 + .seconds(Int64(Self.days) * 86_400)
                var out: [String] = []
                var estimated = false
                for (user, station, region) in [(office, "q-12", nil), (office, nil, "浙江省/舟山市/普陀区/街道1"), (office, nil, "浙江省/舟山市/普陀区"),
                                                (office, nil, "浙江省"), (manager, nil, nil)] as [(UserRecord, String?, String?)] {
                    let mine = user.role == .office ? visible : visible.filter { user.stations.contains($0.id) }
                    let scope = try Analytics.scope(user: user, visible: mine, station: station, region: region, district: nil)
                    for bucket in [UsageBucket.hour, .day, .week] {
                        let period = try UsagePeriod(from: Self.day0, to: now, bucket: bucket, offset: .china)
                        let a = try await analytics.usage(scope, period: period, comparisons: true, now: now)
                        estimated = estimated || a.report.uniqueWorkersEstimated
                        out.append("\(scope.description) \(bucket): \(a.report) \(String(describing: a.previous?.totals)) \(String(describing: a.yearEarlier?.totals))")
                    }
                }
                #expect(estimated, "some answers come from sketches beyond their exact range")
                let week = try UsagePeriod(from: Self.day0 + .seconds(7 * 86_400), to: now, bucket: .day, offset: .china)
                let all = try Analytics.scope(user: office, visible: visible, station: nil, region: "浙江省", district: nil)
                for measure in RankingMeasure.allCases {
                    for descending in [true, false] {
                        let r = try await analytics.rankings(all, measure: measure, descending: descending, limit: 5, period: week, now: now)
                        out.append("\(measure) \(descending): \(r)")
                    }
                }
                answers[kind] = out
            }
        }
        if let a = answers[.sqlite], let b = answers[.postgres] {
            #expect(a.count == b.count)
            for (x, y) in zip(a, b) { #expect(x == y) }
        }
    }

    /// Several periods in one statement equal one statement each: following each other,
    /// apart, overlapping, empty, in any order.
    @Test(arguments: kinds) func stationTotalsOfSeveralPeriodsAreEachPeriodsTotals(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            let ids = Self.stations.map(\.id) + ["nobody", "q-1"]
            func day(_ d: Int, _ h: Int = 0) -> Timestamp { Self.day0 + .seconds(Int64(d * 86_400 + h * 3600)) }
            let sets: [[(from: Timestamp, to: Timestamp)]] = [
                [(day(4), day(6)), (day(2), day(4)), (day(0), day(2))],
                [(day(1), day(3)), (day(5), day(8)), (day(-400), day(-399))],
                [(day(1), day(5)), (day(3), day(7)), (day(2, 5), day(2, 5))],
                [(day(0, 7), day(8, 13))],
            ]
            for periods in sets {
                let together = try await store.stationTotals(ids, periods: periods)
                #expect(together.count == periods.count)
                for (i, p) in periods.enumerated() {
                    let alone = try await store.stationTotals(ids, from: p.from, to: p.to)
                    #expect(together[i] == alone, "\(kind) period \(i) of \(periods.count)")
                }
            }
            #expect(try await store.stationTotals(ids, from: day(0), to: day(9)).count == Self.stations.count)
            #expect(try await store.stationTotals([], periods: [(day(0), day(9))]) == [[:]])
        }
    }

    /// A region page's child regions, read from the children's own day rows (an office
    /// user's scope), equal their stations' totals summed (a manager's scope), at every level
    /// and for periods the history covers, overlaps and misses; stations placed at the region
    /// itself come by id. Each child's day rows hold its stations' days summed, figure by figure.
    @Test(arguments: kinds) func childVisitsFromRegionRowsEqualTheirStationsSummed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            func day(_ d: Int, _ h: Int = 0) -> Timestamp { Self.day0 + .seconds(Int64(d * 86_400 + h * 3600)) }
            // One station placed at the district itself, one in another city.
            for (id, region) in [("q-here", "浙江省/舟山市/普陀区"), ("q-hz", "浙江省/杭州市/西湖区")] {
                try await store.addStation(StationRecord(id: id, name: id, region: RegionPath(parsing: region)!, capacity: 4), tokenHash: "h-" + id)
                let events = (0..<6).flatMap { v -> [IngestedEvent] in
                    let t = day(3 + v % 2, 9) + .seconds(Int64(v * 60)), card = String(repeating: String(v), count: 64)
                    return [IngestedEvent(seq: Int64(2 * v + 1), time: t, kind: "check_in", cardKey: card, reader: "door", occupancy: 1, staySeconds: nil, detail: nil),
                            IngestedEvent(seq: Int64(2 * v + 2), time: t + .seconds(30), kind: "check_out", cardKey: card, reader: nil, occupancy: 0,
                                          staySeconds: 30, detail: nil)]
                }
                _ = try await store.ingest(station: id, events: events)
            }
            let visible = try await store.stations()
            let office = UserRecord(name: "o", role: .office, stations: [])
            let manager = UserRecord(name: "m", role: .manager, stations: visible.map(\.id))
            let analytics = Analytics(store: store, offset: .china)
            var seen: [String: Analytics.ChildVisits] = [:]
            for text in [nil, "浙江省", "浙江省/舟山市", "浙江省/舟山市/普陀区"] {
                let path = text.flatMap { RegionPath(parsing: $0) } ?? .nation
                for (from, to) in [(0, Self.days), (2, 5), (-3, 1), (20, 25)] {
                    let period = try UsagePeriod(from: day(from), to: day(to), bucket: .day, offset: .china)
                    let byRows = try Analytics.scope(user: office, visible: visible, station: nil, region: text, district: nil)
                    let byStations = try Analytics.scope(user: manager, visible: visible, station: nil, region: text, district: nil)
                    guard case .region = byRows.rollups, case .stations = byStations.rollups else { Issue.record("scopes"); return }
                    let a = try await analytics.childVisits(byRows, region: path, period: period)
                    let b = try await analytics.childVisits(byStations, region: path, period: period)
                    #expect(a == b, "\(kind) \(path) days \(from)..<\(to)")
                    seen["\(path) \(from)"] = a
                }
            }
            // Not vacuous: the district's three streets and its own station, visits in both periods.
            let district = try #require(seen["浙江省/舟山市/普陀区 2"])
            #expect(district.children.keys.sorted() == ["街道0", "街道1", "街道2"] && district.stations.keys.sorted() == ["q-here"])
            #expect(district.children.values.allSatisfy { $0.current > 0 && $0.previous > 0 } && district.stations["q-here"]?.current == 6)
            #expect(seen["浙江省 0"]?.children.keys.sorted() == ["杭州市", "舟山市"])
            #expect(try #require(seen["\(RegionPath.nation) 0"]).children.keys.sorted() == ["浙江省"])
            // Every figure of a region's days but the peak (a region's is of its own hours) is its stations' summed.
            let streets = (0..<3).map { RegionPath(parsing: "浙江省/舟山市/普陀区/街道\($0)")! }
            let periods = [(day(0), day(Self.days)), (day(1, 0), day(4, 0))]
            let rows = try await store.regionTotals(streets + [streets[0]], periods: periods)
            let ids = Self.stations.map(\.id)
            let perStation = try await store.stationTotals(ids, periods: periods)
            for (p, _) in periods.enumerated() {
                for street in streets {
                    var sum = RollupFigures()
                    for s in Self.stations where s.region == street.description { sum.add(perStation[p][s.id] ?? RollupFigures(), peak: .highest) }
                    var got = try #require(rows[p][street.description])
                    got.peakOccupancy = 0; sum.peakOccupancy = 0
                    #expect(got == sum, "\(kind) \(street) period \(p)")
                }
            }
            #expect(try await store.regionTotals([], periods: periods) == [[:], [:]])
        }
    }

    /// On PostgreSQL a ranking of a large region (every station's rows of a period: its whole
    /// months, weeks and days) reads only the station levels' time index: index-only scans,
    /// for every measure. A column added to a ranking and not to the index fails here.
    @Test func onPostgreSQLARankingIsReadFromTheIndexAlone() async throws {
        try await withStore(.postgres) { store, url in
            try await Self.load(store)
            let from = RFC3339.parse("2026-10-01T00:00:00+08:00", defaultOffset: .utc)!
            let to = Self.day0 + .seconds(Int64(Self.days) * 86_400)
            let raw = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
            try await withThrowingTaskGroup(of: Void.self) { running in
                running.addTask { await raw.run() }
                for t in [RollupTable.stationDays, .stationWeeks, .stationMonths] {
                    try await raw.query(PostgresQuery(unsafeSQL: "VACUUM ANALYZE \(t.rawValue)"), logger: quietLogger)
                }
                try await raw.withConnection { db in
                    // The planner's choice at a dozen stations is not the one at 10,000: say
                    // which scans are off the table, and see whether the index alone serves.
                    try await db.query("SET enable_seqscan = off", logger: quietLogger)
                    try await db.query("SET enable_bitmapscan = off", logger: quietLogger)
                    for measure in RankingMeasure.allCases {
                        let (sql, bounds) = try #require(StationTotalsQuery([(from, to)], offset: .china).sql(
                            stations: "WHERE true", placeholder: { "$\($0)" }, bigint: "::bigint", only: Rankings.columns(measure)))
                        var binds = PostgresBindings()
                        for b in bounds { binds.append(b) }
                        var plan: [String] = []
                        for try await line in try await db.query(PostgresQuery(unsafeSQL: "EXPLAIN " + sql, binds: binds), logger: quietLogger).decode(String.self) {
                            plan.append(line)
                        }
                        let scans = plan.filter { $0.contains("Scan") && !$0.contains("Subquery Scan") }
                        #expect([RollupTable.stationMonths, .stationWeeks, .stationDays].allSatisfy { t in scans.contains { $0.contains(t.rawValue + "_ranked") } },
                                "a month, a week and days: \(plan)")
                        #expect(scans.allSatisfy { $0.contains("Index Only Scan using") && $0.contains("_ranked") }, "\(measure): \(plan.joined(separator: "\n"))")
                    }
                }
                running.cancelAll()
            }
        }
    }

    /// A large region's page ranks from a snapshot: the order as of the snapshot while it is
    /// fresh, events stored since then in it only after the next read; smaller regions and
    /// the API (no snapshots) read every time.
    @Test(arguments: kinds) func aLargeRegionRanksFromASnapshotAMinuteOld(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            let visible = try await store.stations()
            let office = UserRecord(name: "o", role: .office, stations: [])
            let analytics = Analytics(store: store, offset: .china)
            let snapshots = RankingSnapshots(minimumStations: Self.stations.count, maximumAge: .seconds(60))
            let now = Self.day0 + .seconds(Int64(Self.days) * 86_400)
            let period = try UsagePeriod(from: Self.day0, to: now, bucket: .day, offset: .china)
            let province = try Analytics.scope(user: office, visible: visible, station: nil, region: "浙江省", district: nil)
            func top(_ scope: Analytics.Scope, at: Timestamp, _ snapshots: RankingSnapshots?) async throws -> Analytics.RankedLists {
                try await analytics.rankings(scope, measure: .visits, orders: [true], limit: 3, period: period, snapshots: snapshots, now: at)
            }
            let first = try await top(province, at: now, snapshots)
            #expect(first.asOf == now)
            #expect(first.lists[0].map(\.station) == ["q-12", "q-11", "q-10"])
            #expect(first == (try await top(province, at: now, nil)).with(asOf: now), "the same ranking as read directly")
            // q-1, the quietest, gets more visits than anyone: not in a fresh snapshot's order...
            let extra = (0..<2000).map { i in
                IngestedEvent(seq: 1_000_000 + Int64(i), time: Self.day0 + .seconds(3600 + Int64(i)), kind: "check_in", cardKey: Tokens.hash("k\(i)"),
                              reader: "door", occupancy: 1, staySeconds: nil, detail: nil)
            }
            _ = try await store.ingest(station: "q-1", events: extra)
            let kept = try await top(province, at: now + .seconds(30), snapshots)
            #expect(kept.asOf == now && kept.lists[0].first?.station == "q-12")
            #expect(try await top(province, at: now + .seconds(30), nil).lists[0].first?.station == "q-1", "read directly, it leads")
            // ...and first once the snapshot is read again (past the staleness limit, at once).
            let later = now + snapshots.staleLimit + .seconds(1)
            let fresh = try await top(province, at: later, snapshots)
            #expect(fresh.asOf == later && fresh.lists[0].first?.station == "q-1")
            // A region smaller than `from` reads directly.
            let street = try Analytics.scope(user: office, visible: visible, station: nil, region: "浙江省/舟山市/普陀区/街道1", district: nil)
            #expect(try await top(street, at: now, snapshots).asOf == nil)
        }
    }

    /// Rankings read the comparisons for the ranked stations only: the same entries as
    /// ranking with every station's comparisons.
    @Test(arguments: kinds) func rankingsEqualRankingWithEveryStationsComparisons(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            let visible = try await store.stations()
            let office = UserRecord(name: "o", role: .office, stations: [])
            let analytics = Analytics(store: store, offset: .china)
            let now = Self.day0 + .seconds(Int64(Self.days) * 86_400)
            let scope = try Analytics.scope(user: office, visible: visible, station: nil, region: "浙江省", district: nil)
            // The previous period overlaps the history's start, so previous values differ by station.
            let period = try UsagePeriod(from: Self.day0 + .seconds(5 * 86_400), to: now, bucket: .day, offset: .china)
            let all = try await analytics.totals(scope.stations.map(\.id), periods: [period, try period.previous(), try period.yearEarlier()], now: now)
            let totals = (current: all[0], previous: all[1], yearEarlier: all[2])
            let capacities = Dictionary(uniqueKeysWithValues: scope.stations.map { ($0.id, $0.capacity) })
            for measure in RankingMeasure.allCases {
                for (descending, limit) in [(true, 3), (false, 4), (true, 100)] {
                    let got = try await analytics.rankings(scope, measure: measure, descending: descending, limit: limit, period: period, now: now)
                    let expected = Rankings.rank(measure, descending: descending, limit: limit, stations: capacities, current: totals.current,
                                                 previous: totals.previous, yearEarlier: totals.yearEarlier)
                    #expect(got == expected, "\(kind) \(measure) \(descending) \(limit)")
                    #expect(got.count == min(limit, Self.stations.count))
                    // Both orders from one read: each as asked alone.
                    let both = try await analytics.rankings(scope, measure: measure, orders: [descending, !descending], limit: limit, period: period, now: now)
                    let other = try await analytics.rankings(scope, measure: measure, descending: !descending, limit: limit, period: period, now: now)
                    #expect(both == Analytics.RankedLists(lists: [got, other]), "\(kind) \(measure) both orders")
                }
            }
            #expect(totals.previous.values.contains { $0.visits > 0 })
        }
    }
}

extension Analytics.RankedLists {
    func with(asOf: Timestamp?) -> Self { var c = self; c.asOf = asOf; return c }
}
