import Foundation
import GRDB
import YizhanCore

/// The office's questions on SQLite: rollup rows as read (their sketches' bytes kept, merged
/// later into one register array per bucket and answer by `SketchAccumulator`) and per
/// station totals for rankings.
extension SQLiteCollectorStore {
    /// Rows of one level for a region (its own rows), one station (its own rows) or several
    /// stations (theirs, summed per start: the peak is then the sum of the stations' peaks).
    public func rollupRows(_ scope: RollupScope, level: RollupLevel, from: Timestamp, to: Timestamp) async throws -> [RollupRow<SketchAccumulator>] {
        let (f, t) = (from.millisecondsSinceEpoch, to.millisecondsSinceEpoch)
        let cols = RollupFigures.columnNames
        let sql: String
        let arguments: StatementArguments
        switch scope {
        case .region(let region):
            let table = level == .hour ? RollupTable.regionHours : .regionDays
            sql = """
                SELECT start_ms, \(cols.joined(separator: ", ")), workers FROM \(table.rawValue)
                WHERE region = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms
                """
            arguments = [region.description, f, t]
        case .stations(let ids) where ids.count == 1:
            // One station: its own rows, as a region's (a union of one row is that row).
            let table = level == .hour ? RollupTable.stationHours : .stationDays
            sql = """
                SELECT start_ms, \(cols.joined(separator: ", ")), workers FROM \(table.rawValue)
                WHERE station_id = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms
                """
            arguments = [ids[0], f, t]
        case .stations(let ids):
            let table = level == .hour ? RollupTable.stationHours : .stationDays
            sql = """
                SELECT start_ms, \(cols.map { "sum(\($0))" }.joined(separator: ", ")), hll_union_agg(workers) FROM \(table.rawValue)
                WHERE station_id IN (SELECT value FROM json_each(?)) AND start_ms >= ? AND start_ms < ? GROUP BY start_ms ORDER BY start_ms
                """
            arguments = [Self.jsonArray(ids), f, t]
        }
        return try await pool.read { db in
            var out: [RollupRow<SketchAccumulator>] = []
            // A cached statement: preparing one each time (GRDB's authorizer runs for every
            // column then) was 6% of the question mix's time.
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() {
                var figures = RollupFigures()
                figures.visits = row[1]; figures.checkOuts = row[2]; figures.staySeconds = row[3]; figures.rejectedFull = row[4]
                figures.badReads = row[5]; figures.faultReports = row[6]; figures.ratings = row[7]; figures.ratingSum = row[8]
                figures.peakOccupancy = row[9]; figures.downtimeSeconds = row[10]
                let workers = row.dataNoCopy(atIndex: cols.count + 1).map { SketchAccumulator(bytes: [UInt8]($0)) } ?? SketchAccumulator()
                out.append(RollupRow(start: row[0], figures: figures, workers: workers))
            }
            return out
        }
    }

    /// Per station and period, the sums of its days: one statement whatever the periods.
    public func stationTotals(_ stations: [String], periods: [(from: Timestamp, to: Timestamp)], only: Set<String>?) async throws -> [[String: RollupFigures]] {
        guard !stations.isEmpty, let (sql, bounds) = StationTotalsQuery(periods, offset: reportOffset).sql(
            stations: "WHERE d.station_id IN (SELECT value FROM json_each(?1))", placeholder: { "?\($0 + 1)" }, bigint: "", only: only)
        else { return Array(repeating: [:], count: periods.count) }
        return try await totalsByKey(sql, keys: stations, bounds: bounds, periods: periods.count)
    }

    public func regionTotals(_ regions: [RegionPath], periods: [(from: Timestamp, to: Timestamp)]) async throws -> [[String: RollupFigures]] {
        let keys = Array(Set(regions.map(\.description)))
        guard !keys.isEmpty, let (sql, bounds) = StationTotalsQuery(periods, offset: reportOffset).regionSQL(
            regions: "WHERE d.region IN (SELECT value FROM json_each(?1))", placeholder: { "?\($0 + 1)" }, bigint: "")
        else { return Array(repeating: [:], count: periods.count) }
        return try await totalsByKey(sql, keys: keys, bounds: bounds, periods: periods.count)
    }

    /// Runs a `StationTotalsQuery` statement (the keys as ?1, then the bounds): its rows of
    /// `key, period, figures...` as one answer per period.
    private func totalsByKey(_ sql: String, keys: [String], bounds: [Int64], periods count: Int) async throws -> [[String: RollupFigures]] {
        var values: [(any DatabaseValueConvertible)?] = [Self.jsonArray(keys)]
        values += bounds.map { $0 }
        let arguments = StatementArguments(values)
        let n = RollupFigures.columnNames.count
        return try await pool.read { db in
            var out = [[String: RollupFigures]](repeating: [:], count: count)
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)  // cached, as in rollupRows
            while let row = try rows.next() {
                let p: Int = row[1]
                out[p][row[0]] = RollupFigures(columns: (2..<(2 + n)).map { row[$0] })
            }
            return out
        }
    }

    public func ongoingOutages(_ stations: [String]) async throws -> [OngoingOutage] {
        try await pool.read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT station_id, amenity, since_ms FROM amenity_outages WHERE station_id IN (SELECT value FROM json_each(?))
                """), arguments: [Self.jsonArray(stations)]).map { OngoingOutage(station: $0[0], amenity: $0[1], since: $0[2]) }
        }
    }

    public func allOngoingOutages() async throws -> [OngoingOutage] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT station_id, amenity, since_ms FROM amenity_outages")
                .map { OngoingOutage(station: $0[0], amenity: $0[1], since: $0[2]) }
        }
    }
}
