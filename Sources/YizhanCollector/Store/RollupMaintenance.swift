import YizhanCore

/// Where a question looks: one region's own rows, or some stations' rows summed.
public enum RollupScope: Hashable, Sendable {
    case region(RegionPath)
    case stations([String])
}

/// What rebuilding and checking rollups need from a store; both stores implement it with
/// the same statements, and `RollupMaintenance` holds the logic once.
public protocol RollupStore: Sendable {
    /// The offset local days are kept in.
    var reportOffset: UTCOffset { get }
    /// What the rollups were built with (`offset`, `station_levels`); nil if never set.
    func rollupSetting(_ key: String) async throws -> String?
    func setRollupSetting(_ key: String, _ value: String) async throws
    func rollupStations() async throws -> [(id: String, region: String)]
    /// A station's amenity events before `from`, all its events in [from, to), and its
    /// amenity events from `to` on (an outage that ends later still counts in the range).
    func rebuildInput(station: String, from: Int64, to: Int64) async throws -> (before: [UsageEvent], inRange: [UsageEvent], after: [UsageEvent])
    /// Replaces the station's hours in [from, to) with `hours`, folds its days in the range
    /// again from them and its weeks and months from those, and (when given) replaces its
    /// open outages.
    func replaceStationRollups(station: String, from: Int64, to: Int64, hours: [RollupRow<HyperLogLog>], outages: OpenOutages?) async throws
    /// Folds the station's weeks and months around [from, to) (widened to whole ones) again
    /// from its days.
    func refoldStationLevels(station: String, from: Int64, to: Int64) async throws
    /// Folds the regions' hours in [from, to) again from their stations' hours, then their days.
    func refoldRegions(_ regions: [String], from: Int64, to: Int64) async throws
    func storedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>]
    /// A derived level's rows as the level below defines them (not for station hours).
    func foldedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>]
    /// Removes raw events before `cutoff` (the rollups stay); returns what it removed
    /// (rows, or month partitions on PostgreSQL).
    func purgeRawEvents(before cutoff: Timestamp) async throws -> Int
    /// Where the raw log begins after a purge (ms), nil if nothing was ever purged.
    func rawKeptFrom() async throws -> Int64?
}

public struct RollupMismatch: Hashable, Sendable, CustomStringConvertible {
    public var table: String
    public var key: String
    public var start: Int64
    public var stored: String
    public var expected: String
    public var description: String {
        "\(table) \(key.isEmpty ? "(nation)" : key) \(RFC3339.format(Timestamp(millisecondsSinceEpoch: start), offset: .utc)): stored \(stored), expected \(expected)"
    }
}

public enum RollupMaintenance {
    /// Whole local days around [from, to); nil bounds mean all time. Never before the raw
    /// log's beginning after a purge: rollups older than that cannot be recomputed and stay.
    static func range(_ store: some RollupStore, from: Timestamp?, to: Timestamp?) async throws -> (Int64, Int64) {
        var f = from.map { RollupBuilder.day(ofHour: RollupBuilder.hour(of: $0.millisecondsSinceEpoch), offset: store.reportOffset) }
            ?? Int64.min / 4
        if let kept = try await store.rawKeptFrom() {
            // The first whole day the raw log still covers.
            var day = RollupBuilder.day(ofHour: RollupBuilder.hour(of: kept), offset: store.reportOffset)
            if day < kept { day += 86_400_000 }
            f = max(f, day)
        }
        var t = to.map { RollupBuilder.day(ofHour: RollupBuilder.hour(of: $0.millisecondsSinceEpoch), offset: store.reportOffset) } ?? Int64.max / 4
        if let to, t < to.millisecondsSinceEpoch { t += 86_400_000 }
        return (f, t)
    }

    /// The station's hours in [from, to) as its raw events define them, and its open
    /// outages at `to`'s end if the range runs to now.
    static func expectedHours(_ store: some RollupStore, station: String, from: Int64, to: Int64) async throws
        -> (hours: [RollupRow<HyperLogLog>], outages: OpenOutages) {
        let input = try await store.rebuildInput(station: station, from: from, to: to)
        let atStart = RollupBuilder.deltas(events: input.before, openOutages: [:]).outages
        let (deltas, outages) = RollupBuilder.deltas(events: input.inRange + input.after, openOutages: atStart)
        let hours = deltas.keys.sorted().filter { $0 >= from && $0 < to }.map { h in
            RollupRow(start: h, figures: deltas[h]!.figures, workers: HyperLogLog.of(cardKeys: deltas[h]!.cardKeys))
        }
        return (hours, outages)
    }

    /// Recomputes rollups from the raw log: the given stations (all if nil) over whole
    /// days around [from, to), then every region they count in. Returns how many stations.
    @discardableResult
    public static func rebuild(_ store: some RollupStore, stations only: [String]? = nil, from: Timestamp? = nil, to: Timestamp? = nil) async throws -> Int {
        let (f, t) = try await range(store, from: from, to: to)
        guard f < t else { return 0 }
        let all = try await store.rollupStations()
        let chosen = only.map { Set($0) }
        var regions = Set<String>()
        var count = 0
        for s in all where chosen?.contains(s.id) ?? true {
            let (hours, outages) = try await expectedHours(store, station: s.id, from: f, to: t)
            try await store.replaceStationRollups(station: s.id, from: f, to: t, hours: hours, outages: to == nil ? outages : nil)
            for r in (RegionPath(parsing: s.region) ?? .nation).selfAndAncestors { regions.insert(r.description) }
            count += 1
        }
        try await store.refoldRegions(regions.sorted(), from: f, to: t)
        return count
    }

    /// Compares stored rollups with the raw log (station hours) and each derived level with
    /// its definition. Returns every difference found (none when all is well).
    public static func check(_ store: some RollupStore, stations only: [String]? = nil, from: Timestamp? = nil, to: Timestamp? = nil) async throws -> [RollupMismatch] {
        let (f, t) = try await range(store, from: from, to: to)
        guard f < t else { return [] }
        let all = try await store.rollupStations()
        let chosen = only.map { Set($0) }
        var mismatches: [RollupMismatch] = []
        var regions = Set<String>()
        for s in all where chosen?.contains(s.id) ?? true {
            let expected = try await expectedHours(store, station: s.id, from: f, to: t).hours
            let stored = try await store.storedRollups(.stationHours, key: s.id, from: f, to: t)
            mismatches += compare(.stationHours, key: s.id, stored: stored, expected: expected)
            mismatches += compare(.stationDays, key: s.id, stored: try await store.storedRollups(.stationDays, key: s.id, from: f, to: t),
                                  expected: try await store.foldedRollups(.stationDays, key: s.id, from: f, to: t))
            for level in [StationLevel.week, .month] {
                let table = RollupTable.station(level), (lf, lt) = level.widened(from: f, to: t, offset: store.reportOffset)
                mismatches += compare(table, key: s.id, stored: try await store.storedRollups(table, key: s.id, from: lf, to: lt),
                                      expected: try await store.foldedRollups(table, key: s.id, from: lf, to: lt))
            }
            for r in (RegionPath(parsing: s.region) ?? .nation).selfAndAncestors { regions.insert(r.description) }
        }
        for r in regions.sorted() {
            for table in [RollupTable.regionHours, .regionDays] {
                mismatches += compare(table, key: r, stored: try await store.storedRollups(table, key: r, from: f, to: t),
                                      expected: try await store.foldedRollups(table, key: r, from: f, to: t))
            }
        }
        return mismatches
    }

    /// At start: builds the rollups from the raw log when they were never built or were built
    /// in another offset (the first start after the upgrade that brought them; a changed
    /// `[reports] utc_offset`), else folds the station weeks and months from the days once
    /// (the first start after the upgrade that added them). `notice`: what it is doing, for
    /// the log.
    public static func prepare(_ store: some RollupStore, notice: (String) -> Void = { _ in }) async throws {
        if try await store.rollupSetting("offset") != store.reportOffset.description {
            notice("building rollups from the raw log (\(store.reportOffset))")
            try await rebuild(store)
            try await store.setRollupSetting("offset", store.reportOffset.description)
            try await store.setRollupSetting("station_levels", "folded")
        } else if try await store.rollupSetting("station_levels") == nil {
            notice("folding station weeks and months from their days")
            try await foldStationLevels(store)
            try await store.setRollupSetting("station_levels", "folded")
        }
    }

    /// Folds every station's weeks and months from its days (the first start after the
    /// upgrade that added them: the days are there, the raw log may no longer be).
    public static func foldStationLevels(_ store: some RollupStore) async throws {
        for s in try await store.rollupStations() {
            try await store.refoldStationLevels(station: s.id, from: Int64.min / 4, to: Int64.max / 4)
        }
    }

    static func compare(_ table: RollupTable, key: String, stored: [RollupRow<HyperLogLog>], expected: [RollupRow<HyperLogLog>]) -> [RollupMismatch] {
        // A row of zeros with an empty sketch is the same as no row.
        func meaningful(_ rows: [RollupRow<HyperLogLog>]) -> [Int64: RollupRow<HyperLogLog>] {
            Dictionary(rows.filter { !$0.figures.isZero || $0.workers.distinctCount > 0 }.map { ($0.start, $0) }, uniquingKeysWith: { a, _ in a })
        }
        let s = meaningful(stored), e = meaningful(expected)
        var out: [RollupMismatch] = []
        for start in Set(s.keys).union(e.keys).sorted() {
            let a = s[start], b = e[start]
            if a?.figures != b?.figures || a?.workers.bytes != b?.workers.bytes {
                func text(_ r: RollupRow<HyperLogLog>?) -> String {
                    guard let r else { return "nothing" }
                    return zip(RollupFigures.columnNames, r.figures.columns).filter { $0.1 != 0 }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
                        + " workers=\(r.workers.distinctCount)"
                }
                out.append(RollupMismatch(table: table.rawValue, key: key, start: start, stored: text(a), expected: text(b)))
            }
        }
        return out
    }
}
