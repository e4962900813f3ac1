import Foundation
import GRDB
import PostgresNIO
import Testing
import YizhanTestSupport
import YizhanCore
@testable import YizhanCollector

/// Station weeks and months (`StationLevel`), on both stores: kept at ingest as the sum of
/// the station's days, read by per-station totals for the whole weeks and months of a
/// period, mended by `rollups rebuild`, compared by `rollups check`, and folded once from
/// the days on the first start after the upgrade that added them.
@Suite struct StationLevelContractTests {
    static let stations = ["w-1", "w-2", "w-3"]
    /// Monday 2026-09-28, China time: the history covers the whole of October and November.
    static let day0 = RFC3339.parse("2026-09-28T00:00:00+08:00", defaultOffset: .utc)!
    static let days = 80

    static func day(_ d: Int, _ h: Int = 0) -> Timestamp { day0 + .seconds(Int64(d * 86_400 + h * 3600)) }

    /// A few visits a day per station, sent a week at a time in a shuffled order of weeks
    /// (old backlogs land after newer days), each week sent twice.
    static func load(_ store: any CollectorStore) async throws {
        for (i, id) in stations.enumerated() {
            try await store.addStation(StationRecord(id: id, name: id, region: RegionPath(parsing: "浙江省/舟山市/区\(i % 2)")!, capacity: 6),
                                       tokenHash: "h-" + id)
        }
        for (n, id) in stations.enumerated() {
            var rng = SplitMix64(seed: UInt64(n) &+ 11)
            var weeks: [[IngestedEvent]] = []
            var seq: Int64 = 0
            for d in 0..<days {
                if d % 7 == 0 { weeks.append([]) }
                for v in 0..<Int(1 + rng.next() % 5) {
                    let t = day(d, 7) + .seconds(Int64(v * 1800) + Int64(rng.next() % 600))
                    let card = Hex.encode((0..<32).map { _ in UInt8(truncatingIfNeeded: rng.next() % 9) })
                    seq += 1
                    weeks[weeks.count - 1].append(IngestedEvent(seq: seq, time: t, kind: "check_in", cardKey: card, reader: "door",
                                                                occupancy: 1 + v % 3, staySeconds: nil, detail: nil))
                    seq += 1
                    weeks[weeks.count - 1].append(IngestedEvent(seq: seq, time: t + .seconds(600), kind: "check_out", cardKey: card, reader: nil,
                                                                occupancy: v % 3, staySeconds: 600, detail: nil))
                    if rng.next() % 3 == 0 {
                        seq += 1
                        weeks[weeks.count - 1].append(IngestedEvent(seq: seq, time: t + .seconds(601), kind: "rating", cardKey: nil, reader: nil,
                                                                    occupancy: v % 3, staySeconds: nil, detail: "score=\(1 + rng.next() % 5)"))
                    }
                }
            }
            var order = Array(weeks.indices)
            for i in order.indices.reversed() { order.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
            for w in order {
                _ = try await store.ingest(station: id, events: weeks[w])
                _ = try await store.ingest(station: id, events: weeks[w])
            }
        }
    }

    /// The sum of each station's day rows starting in [from, to) (peak: the highest day).
    static func fromDays(_ store: any CollectorStore, from: Timestamp, to: Timestamp) async throws -> [String: RollupFigures] {
        var out: [String: RollupFigures] = [:]
        for id in stations {
            for row in try await store.storedRollups(.stationDays, key: id, from: from.millisecondsSinceEpoch, to: to.millisecondsSinceEpoch) {
                out[id, default: RollupFigures()].add(row.figures, peak: .highest)
            }
        }
        return out
    }

    /// Periods with whole months, whole weeks, neither, mid-day edges, and beyond the history.
    static var periods: [(from: Timestamp, to: Timestamp)] {
        var rng = SplitMix64(seed: 5)
        var out: [(from: Timestamp, to: Timestamp)] = [(day(0), day(days)), (day(3), day(66)), (day(4), day(34)), (day(9), day(12)),
                                                       (day(-40), day(200)), (day(2, 13), day(50, 5)), (day(35), day(35))]
        for _ in 0..<20 {
            let a = Int(rng.next() % 85) - 3
            out.append((day(a), day(a + 1 + Int(rng.next() % 70))))
        }
        return out
    }

    @Test(arguments: StoreKind.available) func totalsFromWeeksAndMonthsEqualTheDaysSummed(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            // The history's months and weeks are there, and hold what their days hold.
            let months = try await store.storedRollups(.stationMonths, key: "w-1", from: 0, to: Int64.max / 4)
            #expect(months.map(\.start) == ["2026-09-01", "2026-10-01", "2026-11-01", "2026-12-01"].map {
                RFC3339.parse($0 + "T00:00:00+08:00", defaultOffset: .utc)!.millisecondsSinceEpoch
            })
            #expect(try await store.storedRollups(.stationWeeks, key: "w-2", from: 0, to: Int64.max / 4).count == 12)
            #expect(try await RollupMaintenance.check(store).isEmpty)
            let periods = Self.periods
            let together = try await store.stationTotals(Self.stations, periods: periods)
            for (i, p) in periods.enumerated() {
                #expect(together[i] == (try await Self.fromDays(store, from: p.from, to: p.to)), "period \(i): \(p.from) to \(p.to)")
            }
            #expect(together[0]["w-3"]?.visits ?? 0 > 100, "the history has visits to sum")
        }
    }

    /// A rebuild of a range mends the weeks and months around it; check finds a damaged one.
    @Test(arguments: StoreKind.available) func rebuildMendsAndCheckFindsWeeksAndMonths(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await Self.load(store)
            let before = try await Self.levels(store)
            try await Self.execute(store, "UPDATE rollup_station_months SET visits = visits + 7 WHERE station_id = 'w-2'")
            try await Self.execute(store, "DELETE FROM rollup_station_weeks WHERE station_id = 'w-1'")
            let found = try await RollupMaintenance.check(store)
            #expect(Set(found.map(\.table)) == ["rollup_station_months", "rollup_station_weeks"])
            #expect(found.count == 4 + 12, "w-2's four months, w-1's twelve weeks")
            // Rebuilding w-1's mid-October and w-2's days in November mends the levels around them.
            try await RollupMaintenance.rebuild(store, stations: ["w-1"], from: Self.day(16), to: Self.day(18))
            try await RollupMaintenance.rebuild(store, stations: ["w-2"], from: Self.day(40), to: Self.day(41))
            let mended = try await RollupMaintenance.check(store)
            #expect(mended.count == 3 + 11, "the months and weeks outside the rebuilt ranges stay as they were: \(mended)")
            try await RollupMaintenance.rebuild(store)
            #expect(try await RollupMaintenance.check(store).isEmpty)
            #expect(try await Self.levels(store) == before)
        }
    }

    /// A database from before the levels: the next start makes them from the days, once.
    @Test(arguments: StoreKind.available) func theFirstStartAfterTheUpgradeFoldsTheLevelsFromTheDays(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            try await Self.load(store)
            let before = try await Self.levels(store)
            #expect(before.count > 40)
            // Back to the schema before v9 (on PostgreSQL, before v9c's index on it too); the
            // raw log is purged too, so only the days can tell.
            let schema = kind == .sqlite
                ? ["DROP INDEX rollup_station_days_start", "DELETE FROM grdb_migrations WHERE identifier = 'v9-station-levels'"]
                : ["DROP INDEX rollup_station_days_ranked", "DELETE FROM yizhan_migrations WHERE name IN ('v9-station-levels', 'v9c-ranking-index')"]
            for sql in ["DROP TABLE rollup_station_weeks", "DROP TABLE rollup_station_months",
                        "DELETE FROM rollup_settings WHERE key = 'station_levels'", "DELETE FROM events"] + schema {
                try await Self.execute(store, sql)
            }
            let p = [(from: Self.day(1), to: Self.day(70))]
            let (after, totals, days) = try await withSecondStore(url) { upgraded in
                (try await Self.levels(upgraded), try await upgraded.stationTotals(Self.stations, periods: p)[0],
                 try await Self.fromDays(upgraded, from: p[0].from, to: p[0].to))
            }
            #expect(after == before)
            #expect(totals == days)
        }
    }

    /// Most of all stations are summed without joining their list (PostgreSQL): the same
    /// totals as asking in lists too small for that, and never another station's.
    @Test func mostOfAllStationsGetTheSameTotalsAsAFewAtATime() async throws {
        try await withStore(.postgres) { store, _ in
            let pg = try #require(store as? PostgresCollectorStore)
            let ids = (0..<1_300).map { "m-\($0)" }
            for id in ids { try await store.addStation(StationRecord(id: id, name: id, capacity: 6), tokenHash: Tokens.hash("t" + id)) }
            for (i, id) in ids.enumerated() where i % 3 != 0 {
                let events = (0..<(1 + i % 4)).map { k in
                    IngestedEvent(seq: Int64(k + 1), time: Self.day(k * 9, 8), kind: "check_in", cardKey: String(repeating: "a", count: 64),
                                  reader: "door", occupancy: 1, staySeconds: nil, detail: nil)
                }
                _ = try await store.ingest(station: id, events: events)
            }
            try await Self.execute(store, "ANALYZE stations")
            #expect(try await pg.estimatedStationCount() == ids.count)
            // 1,100 of 1,300 (with a duplicate and an unknown id): read whole, filtered here.
            let asked = Array(ids.prefix(1_100)) + ["m-7", "nobody"]
            let periods = [(from: Self.day(0), to: Self.day(40)), (from: Self.day(5), to: Self.day(30))]
            let whole = try await store.stationTotals(asked, periods: periods)
            var pieces = [[String: RollupFigures]](repeating: [:], count: periods.count)
            for chunk in stride(from: 0, to: asked.count, by: 400).map({ Array(asked[$0..<min(asked.count, $0 + 400)]) }) {
                for (i, t) in try await store.stationTotals(chunk, periods: periods).enumerated() { pieces[i].merge(t) { a, _ in a } }
            }
            #expect(whole == pieces)
            #expect(Set(whole[0].keys).isSubset(of: Set(asked)) && whole[0].count > 600)
            #expect(whole[0]["m-1"]?.visits == 2 && whole[1]["m-1"]?.visits == 1)
        }
    }

    static func levels(_ store: any CollectorStore) async throws -> [String] {
        var out: [String] = []
        for table in [RollupTable.stationWeeks, .stationMonths] {
            for id in stations {
                for r in try await store.storedRollups(table, key: id, from: 0, to: Int64.max / 4) {
                    out.append("\(table.rawValue) \(id) \(r.start) \(r.figures.columns) \(Hex.encode(r.workers.bytes))")
                }
            }
        }
        return out
    }

    static func execute(_ store: any CollectorStore, _ sql: String) async throws {
        if let s = store as? SQLiteCollectorStore {
            try await s.pool.write { try $0.execute(sql: sql) }
        } else if let p = store as? PostgresCollectorStore {
            try await p.client.query(PostgresQuery(unsafeSQL: sql), logger: quietLogger)
        }
    }
}

/// The pieces a period is read in, for any period: disjoint, in order, covering it exactly,
/// whole months and weeks where they say so.
@Suite struct StationLevelPiecesTests {
    @Test func piecesCoverThePeriodWithWholeWeeksAndMonths() throws {
        var rng = SplitMix64(seed: 3)
        let base = RFC3339.parse("2025-12-29T00:00:00+08:00", defaultOffset: .utc)!.millisecondsSinceEpoch
        for offset in [UTCOffset.china, .utc, try #require(UTCOffset(parsing: "-05:00"))] {
            var sawMonth = false, sawWeek = false
            for _ in 0..<2000 {
                let from = base + Int64(rng.next() % 800) * 3_600_000
                let to = from + Int64(rng.next() % 3000) * 3_600_000
                let pieces = StationLevel.pieces(from: from, to: to, offset: offset)
                var at = from
                for p in pieces {
                    #expect(p.from == at && p.from < p.to)
                    at = p.to
                    switch p.level {
                    case .day: break
                    case .week, .month:
                        #expect(p.level.start(ofDay: p.from, offset: offset) == p.from, "\(p.level) pieces start on their boundary")
                        #expect(p.level.widened(from: p.to - 1, to: p.to, offset: offset).to == p.to, "and end on one")
                        sawMonth = sawMonth || p.level == .month
                        sawWeek = sawWeek || p.level == .week
                    }
                }
                #expect(at == to)
                // A run of day rows never holds a whole week (so it is under two weeks long).
                for p in pieces where p.level == .day { #expect(p.to - p.from < 14 * 86_400_000) }
            }
            #expect(sawMonth && sawWeek)
        }
        // A Monday-to-Monday month-free period is all weeks; October 2026 whole is a month.
        let monday = RFC3339.parse("2026-11-02T00:00:00+08:00", defaultOffset: .utc)!.millisecondsSinceEpoch
        #expect(StationLevel.pieces(from: monday, to: monday + 14 * 86_400_000, offset: .china).map(\.level) == [.week])
        let october = RFC3339.parse("2026-10-01T00:00:00+08:00", defaultOffset: .utc)!.millisecondsSinceEpoch
        #expect(StationLevel.pieces(from: october, to: monday - 86_400_000, offset: .china).map(\.level) == [.month])
    }
}

/// `keeping` is `filter` that shares the array's storage when nothing is left out.
@Suite struct KeepingTests {
    @Test func keepingIsFilter() {
        var rng = SplitMix64(seed: 9)
        for _ in 0..<300 {
            let a = (0..<Int(rng.next() % 40)).map { _ in Int(rng.next() % 10) }
            let limit = Int(rng.next() % 11)
            #expect(a.keeping { $0 < limit } == a.filter { $0 < limit })
        }
        let all = Array(0..<100)
        #expect(all.keeping { _ in true }.withUnsafeBufferPointer { $0.baseAddress } == all.withUnsafeBufferPointer { $0.baseAddress })
    }
}
