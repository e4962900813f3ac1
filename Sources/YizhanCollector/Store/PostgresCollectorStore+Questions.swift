import Logging
import PostgresNIO
import YizhanCore

/// The office's questions on PostgreSQL, with the same statements as SQLite's: rollup rows
/// with their sketches' bytes (merged in Swift by `SketchAccumulator`, as on SQLite, except
/// several stations' rows, which `hll_union_agg` unions per start in the database) and per
/// station totals for rankings.
extension PostgresCollectorStore {
    public func rollupRows(_ scope: RollupScope, level: RollupLevel, from: Timestamp, to: Timestamp) async throws -> [RollupRow<SketchAccumulator>] {
        let cols = RollupFigures.columnNames
        var binds = PostgresBindings()
        let sql: String
        switch scope {
        case .region(let region):
            let table = level == .hour ? RollupTable.regionHours : .regionDays
            binds.append(region.description)
            sql = """
                SELECT start_ms, \(cols.joined(separator: ", ")), workers FROM \(table.rawValue)
                WHERE region = $1 AND start_ms >= $2 AND start_ms < $3 ORDER BY start_ms
                """
        case .stations(let ids) where ids.count == 1:
            // One station: its own rows, as a region's. No GROUP BY, so no hash aggregate of
            // hll states (which spilled to disk for a month of hours at the default work_mem).
            let table = level == .hour ? RollupTable.stationHours : .stationDays
            binds.append(ids[0])
            sql = """
                SELECT start_ms, \(cols.joined(separator: ", ")), workers FROM \(table.rawValue)
                WHERE station_id = $1 AND start_ms >= $2 AND start_ms < $3 ORDER BY start_ms
                """
        case .stations(let ids):
            let table = level == .hour ? RollupTable.stationHours : .stationDays
            binds.append(ids)
            sql = """
                SELECT d.start_ms, \(cols.map { "sum(d.\($0))::bigint" }.joined(separator: ", ")), hll_union_agg(d.workers)
                FROM (SELECT DISTINCT unnest($1::text[]) AS id) s JOIN \(table.rawValue) d ON d.station_id = s.id
                WHERE d.start_ms >= $2 AND d.start_ms < $3 GROUP BY d.start_ms ORDER BY d.start_ms
                """
        }
        binds.append(from.millisecondsSinceEpoch)
        binds.append(to.millisecondsSinceEpoch)
        let n = cols.count
        var out: [RollupRow<SketchAccumulator>] = []
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            let cells = Array(row)
            let figures = try (0..<n).map { try cells[1 + $0].decode(Int64.self) }
            let bytes = try cells[1 + n].decode(ByteBuffer?.self)
            out.append(RollupRow(start: try cells[0].decode(Int64.self), figures: RollupFigures(columns: figures),
                                 workers: bytes.map { SketchAccumulator(bytes: Array(buffer: $0)) } ?? SketchAccumulator()))
        }
        return out
    }

    /// Per station and period, the sums of its days: one statement whatever the periods.
    /// The stations are joined from `unnest` (each once; duplicates removed here), so each is
    /// looked up by the primary key (`= ANY(...)` made the planner scan the whole table and
    /// filter every row).
    ///
    /// Stations that are most of all stations (a province's ranking on a province's
    /// collector) are not joined at all: every station's rows of the period are summed and
    /// the others dropped here. Each piece of a period joined the list again, and building
    /// its hash three times cost more than reading the few other stations' rows
    /// (docs/benchmarks.md).
    public func stationTotals(_ stations: [String], periods: [(from: Timestamp, to: Timestamp)], only: Set<String>?) async throws -> [[String: RollupFigures]] {
        let none = [[String: RollupFigures]](repeating: [:], count: periods.count)
        guard !stations.isEmpty else { return none }
        let wanted = Set(stations)
        var whole = false
        if wanted.count >= Self.readAllStationsFrom, let all = try await estimatedStationCount() { whole = wanted.count * 2 >= all }
        guard let (sql, bounds) = StationTotalsQuery(periods, offset: reportOffset).sql(
            stations: whole ? "WHERE true" : "JOIN unnest($1::text[]) AS s(id) ON d.station_id = s.id WHERE true",
            placeholder: { whole ? "$\($0)" : "$\($0 + 1)" }, bigint: "::bigint", only: only)
        else { return none }
        return try await totalsByKey(sql, keys: whole ? nil : Array(wanted), bounds: bounds, periods: periods.count,
                                     keep: whole ? { wanted.contains($0) } : nil)
    }

    public func regionTotals(_ regions: [RegionPath], periods: [(from: Timestamp, to: Timestamp)]) async throws -> [[String: RollupFigures]] {
        let keys = Array(Set(regions.map(\.description)))
        guard !keys.isEmpty, let (sql, bounds) = StationTotalsQuery(periods, offset: reportOffset).regionSQL(
            regions: "JOIN unnest($1::text[]) AS r(key) ON d.region = r.key WHERE true", placeholder: { "$\($0 + 1)" }, bigint: "::bigint")
        else { return Array(repeating: [:], count: periods.count) }
        return try await totalsByKey(sql, keys: keys, bounds: bounds, periods: periods.count)
    }

    /// Runs a `StationTotalsQuery` statement (the keys as $1 when given, then the bounds): its
    /// rows of `key, period, figures...` as one answer per period, those `keep` refuses left out.
    private func totalsByKey(_ sql: String, keys: [String]?, bounds: [Int64], periods count: Int,
                             keep: ((String) -> Bool)? = nil) async throws -> [[String: RollupFigures]] {
        var binds = PostgresBindings()
        if let keys { binds.append(keys) }
        for b in bounds { binds.append(b) }
        let n = RollupFigures.columnNames.count
        var out = [[String: RollupFigures]](repeating: [:], count: count)
        for try await row in try await client.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger) {
            let cells = Array(row)
            let key = try cells[0].decode(String.self)
            guard keep?(key) ?? true else { continue }
            out[Int(try cells[1].decode(Int32.self))][key] = RollupFigures(columns: try (2..<(2 + n)).map { try cells[$0].decode(Int64.self) })
        }
        return out
    }

    /// From this many stations asked about, reading every station is considered.
    static let readAllStationsFrom = 1000

    /// The planner's count of stations (nil before the table was first analysed).
    func estimatedStationCount() async throws -> Int? {
        var out: Int?
        for try await n in try await client.query("SELECT reltuples::bigint FROM pg_class WHERE oid = 'stations'::regclass", logger: logger)
            .decode(Int64.self) where n >= 0 { out = Int(n) }
        return out
    }

    public func ongoingOutages(_ stations: [String]) async throws -> [OngoingOutage] {
        var out: [OngoingOutage] = []
        for try await (s, a, since) in try await client.query("""
            SELECT station_id, amenity, since_ms FROM amenity_outages WHERE station_id = ANY(\(stations)::text[])
            """, logger: logger).decode((String, String, Int64).self) {
            out.append(OngoingOutage(station: s, amenity: a, since: since))
        }
        return out
    }

    public func allOngoingOutages() async throws -> [OngoingOutage] {
        var out: [OngoingOutage] = []
        for try await (s, a, since) in try await client.query("SELECT station_id, amenity, since_ms FROM amenity_outages", logger: logger)
            .decode((String, String, Int64).self) {
            out.append(OngoingOutage(station: s, amenity: a, since: since))
        }
        return out
    }
}
