import Foundation
import GRDB
import YizhanCore

/// Rebuilding and checking rollups (`RollupMaintenance` holds the logic).
extension SQLiteCollectorStore {
    public func rollupStations() async throws -> [(id: String, region: String)] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT id, region FROM stations ORDER BY id").map { ($0[0], $0[1]) } }
    }

    public func rebuildInput(station: String, from: Int64, to: Int64) async throws -> (before: [UsageEvent], inRange: [UsageEvent], after: [UsageEvent]) {
        try await pool.read { db in
            func events(_ condition: String, _ args: StatementArguments) throws -> [UsageEvent] {
                try Row.fetchAll(db, sql: """
                    SELECT seq, time_ms, kind, card_key, occupancy, stay_seconds, detail FROM events WHERE station_id = ? AND \(condition) ORDER BY seq
                    """, arguments: [station] + args).map {
                    UsageEvent(station: station, seq: $0[0], time: Timestamp(millisecondsSinceEpoch: $0[1]), kind: $0[2], cardKey: $0[3],
                               occupancy: $0[4], staySeconds: $0[5], detail: $0[6])
                }
            }
            return (try events("kind = 'amenity' AND time_ms < ?", [from]), try events("time_ms >= ? AND time_ms < ?", [from, to]),
                    try events("kind = 'amenity' AND time_ms >= ?", [to]))
        }
    }

    public func replaceStationRollups(station: String, from: Int64, to: Int64, hours: [RollupRow<HyperLogLog>], outages: OpenOutages?) async throws {
        let offset = reportOffset
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM rollup_station_hours WHERE station_id = ? AND start_ms >= ? AND start_ms < ?", arguments: [station, from, to])
            try Self.upsert(db, .stationHours, key: station,
                                rows: hours.map { RollupPlan.Row(start: $0.start, figures: $0.figures, workers: $0.workers) })
            try db.execute(sql: "DELETE FROM rollup_station_days WHERE station_id = ? AND start_ms >= ? AND start_ms < ?", arguments: [station, from, to])
            try db.execute(sql: "INSERT INTO rollup_station_days " + Self.fold(into: .stationDays, offset: offset), arguments: [station, station, from, to])
            try Self.refoldStationLevels(db, station: station, from: from, to: to, offset: offset)
            if let outages { try Self.replaceOutages(db, station: station, outages) }
        }
    }

    public func refoldStationLevels(station: String, from: Int64, to: Int64) async throws {
        let offset = reportOffset
        try await pool.write { db in try Self.refoldStationLevels(db, station: station, from: from, to: to, offset: offset) }
    }

    /// Folds the station's weeks and months around [from, to) again from its days.
    static func refoldStationLevels(_ db: Database, station: String, from: Int64, to: Int64, offset: UTCOffset) throws {
        for level in [StationLevel.week, .month] {
            let table = RollupTable.station(level), (f, t) = level.widened(from: from, to: to, offset: offset)
            try db.execute(sql: "DELETE FROM \(table.rawValue) WHERE station_id = ? AND start_ms >= ? AND start_ms < ?", arguments: [station, f, t])
            try db.execute(sql: "INSERT INTO \(table.rawValue) " + fold(into: table, offset: offset), arguments: foldArguments(table, station, f, t))
        }
    }

    public func refoldRegions(_ regions: [String], from: Int64, to: Int64) async throws {
        let offset = reportOffset
        try await pool.write { db in
            for r in regions {
                for table in [RollupTable.regionHours, .regionDays] {
                    try db.execute(sql: "DELETE FROM \(table.rawValue) WHERE region = ? AND start_ms >= ? AND start_ms < ?", arguments: [r, from, to])
                    try db.execute(sql: "INSERT INTO \(table.rawValue) " + Self.fold(into: table, offset: offset), arguments: Self.foldArguments(table, r, from, to))
                }
            }
        }
    }

    public func storedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>] {
        try await pool.read { db in
            try Self.rollupRows(Row.fetchAll(db, sql: """
                SELECT \(table.keyColumn), start_ms, \(RollupFigures.columnNames.joined(separator: ", ")), workers FROM \(table.rawValue)
                WHERE \(table.keyColumn) = ? AND start_ms >= ? AND start_ms < ? ORDER BY start_ms
                """, arguments: [key, from, to]))
        }
    }

    public func foldedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>] {
        let offset = reportOffset
        return try await pool.read { db in
            try Self.rollupRows(Row.fetchAll(db, sql: Self.fold(into: table, offset: offset), arguments: Self.foldArguments(table, key, from, to)))
        }
    }

    static func rollupRows(_ rows: [Row]) -> [RollupRow<HyperLogLog>] {
        let n = RollupFigures.columnNames.count
        return rows.map { row in RollupRow(start: row[1], figures: RollupFigures(columns: (2..<(2 + n)).map { row[$0] }), workers: sketch(row[2 + n])) }
    }

    static func foldArguments(_ table: RollupTable, _ key: String, _ from: Int64, _ to: Int64) -> StatementArguments {
        table.keyColumn == "region" ? [key, key, key, key, key, from, to] : [key, key, from, to]
    }

    /// A SELECT of `table`'s rows as the level below defines them, columns in table order:
    /// a station's days from its hours (the peak is the highest hour); a region's hours and
    /// days from its stations' hours and days (the peak is their sum).
    static func fold(into table: RollupTable, offset: UTCOffset) -> String {
        let off = Int64(offset.seconds) * 1000
        let peak = table.keyColumn == "region" ? "sum" : "max"
        let figures = RollupFigures.columnNames.map { $0 == "peak_occupancy" ? "\(peak)(\($0))" : "sum(\($0))" }.joined(separator: ", ")
        switch table {
        case .stationHours:
            preconditionFailure("station hours come from events")
        case .stationDays:
            let day = "((start_ms + \(off)) / 86400000) * 86400000 - \(off)"
            return """
                SELECT ? AS key, \(day) AS day, \(figures), hll_union_agg(workers) FROM rollup_station_hours
                WHERE station_id = ? AND start_ms >= ? AND start_ms < ? GROUP BY day ORDER BY day
                """
        case .stationWeeks, .stationMonths:
            let start = table == .stationWeeks ? StationLevelSQL.week(offsetMilliseconds: off)
                : "CAST(strftime('%s', (start_ms + \(off)) / 1000, 'unixepoch', 'start of month') AS INTEGER) * 1000 - \(off)"
            return """
                SELECT ? AS key, \(start) AS s, \(figures), hll_union_agg(workers) FROM rollup_station_days
                WHERE station_id = ? AND start_ms >= ? AND start_ms < ? GROUP BY s ORDER BY s
                """
        case .regionHours, .regionDays:
            let source = table == .regionHours ? RollupTable.stationHours : .stationDays
            return """
                SELECT ? AS key, h.start_ms, \(figures), hll_union_agg(h.workers) FROM \(source.rawValue) h JOIN stations s ON s.id = h.station_id
                WHERE (? = '' OR s.region = ? OR substr(s.region, 1, length(?) + 1) = ? || '/') AND h.start_ms >= ? AND h.start_ms < ?
                GROUP BY h.start_ms ORDER BY h.start_ms
                """
        }
    }
}

/// Raw event retention (`[storage] raw_retention_months`): rollups are kept.
extension SQLiteCollectorStore {
    public func purgeRawEvents(before cutoff: Timestamp) async throws -> Int {
        let stations = try await rollupStations().map(\.id)
        var removed = 0
        // Station by station: each delete is short and uses the (station_id, time_ms) index.
        for s in stations {
            removed += try await pool.write { db in
                try db.execute(sql: "DELETE FROM events WHERE station_id = ? AND time_ms < ?", arguments: [s, cutoff.millisecondsSinceEpoch])
                return db.changesCount
            }
        }
        try await pool.write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO rollup_settings(key, value) VALUES ('raw_kept_from', ?)",
                           arguments: [String(cutoff.millisecondsSinceEpoch)])
        }
        return removed
    }

    public func rawKeptFrom() async throws -> Int64? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM rollup_settings WHERE key = 'raw_kept_from'").flatMap { Int64($0) } }
    }
}
