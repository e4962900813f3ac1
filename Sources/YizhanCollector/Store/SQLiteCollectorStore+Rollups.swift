import Foundation
import GRDB
import YizhanCore

/// Rollups in SQLite: the same tables and statements as PostgreSQL, with the sketch
/// unions (`hll_union`, `hll_union_agg`) registered as SQL functions made in Swift on
/// postgresql-hll's storage format.
extension SQLiteCollectorStore {
    static func createRollupTable(_ t: RollupTable) -> String {
        let figures = RollupFigures.columnNames.map { "\($0) INTEGER NOT NULL DEFAULT 0" }.joined(separator: ", ")
        return "CREATE TABLE \(t.rawValue) (\(t.keyColumn) TEXT NOT NULL, start_ms INTEGER NOT NULL, \(figures), workers BLOB NOT NULL, "
            + "PRIMARY KEY (\(t.keyColumn), start_ms)) WITHOUT ROWID;"
    }

    /// v9: station weeks and months (folded from the days by `prepare`), and the station
    /// levels indexed by time too (as on PostgreSQL).
    static let stationLevelsSchema: String = [createRollupTable(.stationWeeks), createRollupTable(.stationMonths)].joined(separator: "\n")
        + [RollupTable.stationDays, .stationWeeks, .stationMonths].map { "CREATE INDEX \($0.rawValue)_start ON \($0.rawValue)(start_ms);" }.joined()

    static let rollupSchema: String = {
        return RollupTable.firstTables.map(createRollupTable).joined(separator: "\n") + """

            CREATE TABLE amenity_outages (
                station_id TEXT NOT NULL, amenity TEXT NOT NULL, since_ms INTEGER NOT NULL, PRIMARY KEY (station_id, amenity)
            ) WITHOUT ROWID;
            CREATE TABLE rollup_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
    }()

    /// `hll_union(a, b)` and the aggregate `hll_union_agg(x)`, as postgresql-hll has them.
    static func addSketchFunctions(_ db: Database) {
        db.add(function: DatabaseFunction("hll_union", argumentCount: 2, pure: true) { values in
            var h = sketch(values[0])
            h.merge(sketch(values[1]))
            return Data(h.bytes)
        })
        db.add(function: DatabaseFunction("hll_union_agg", argumentCount: 1, pure: true, aggregate: SketchUnion.self))
    }

    /// A damaged sketch reads as empty: a question never fails on one row.
    static func sketch(_ value: DatabaseValue) -> HyperLogLog {
        guard let data = Data.fromDatabaseValue(value), let h = try? HyperLogLog(bytes: data) else { return HyperLogLog() }
        return h
    }

    /// Merges the rows' stored bytes into one register array (`SketchAccumulator`: the same
    /// bytes as merging decoded sketches pairwise, without decoding each row).
    struct SketchUnion: DatabaseAggregate {
        var union = SketchAccumulator()
        init() {}
        mutating func step(_ values: [DatabaseValue]) throws {
            union.merge(SketchAccumulator(bytes: Data.fromDatabaseValue(values[0]).map { [UInt8]($0) } ?? []))
        }
        func finalize() throws -> (any DatabaseValueConvertible)? { Data(union.bytes) }
    }

    // MARK: at ingest

    /// Adds `rows` to `table` under `key`.
    static func upsert(_ db: Database, _ table: RollupTable, key: String, rows: [RollupPlan.Row]) throws {
        try upsert(db, table, rows: rows.map { (RollupGroup.Key(key: key, start: $0.start), $0) })
    }

    /// Adds each row to `table` under its own key.
    static func upsert(_ db: Database, _ table: RollupTable, rows: [(RollupGroup.Key, RollupPlan.Row)]) throws {
        let names = RollupFigures.columnNames
        let peak = table.keyColumn == "region" ? "peak_occupancy + excluded.peak_occupancy" : "max(peak_occupancy, excluded.peak_occupancy)"
        let set = names.map { $0 == "peak_occupancy" ? "peak_occupancy = \(peak)" : "\($0) = \($0) + excluded.\($0)" }
        let statement = try db.cachedStatement(sql: """
            INSERT INTO \(table.rawValue)(\(table.keyColumn), start_ms, \(names.joined(separator: ", ")), workers)
            VALUES (?, ?, \(names.map { _ in "?" }.joined(separator: ", ")), ?)
            ON CONFLICT(\(table.keyColumn), start_ms) DO UPDATE SET \(set.joined(separator: ", ")), workers = hll_union(workers, excluded.workers)
            """)
        for (k, row) in rows {
            let args: [(any DatabaseValueConvertible)?] = [k.key, row.start] + row.figures.columns.map { $0 } + [Data(row.workerBytes)]
            try statement.execute(arguments: StatementArguments(args))
        }
    }

    static func openOutages(_ db: Database, station: String) throws -> OpenOutages {
        var out: OpenOutages = [:]
        for row in try Row.fetchAll(db, sql: "SELECT amenity, since_ms FROM amenity_outages WHERE station_id = ?", arguments: [station]) {
            out[row[0]] = row[1]
        }
        return out
    }

    static func replaceOutages(_ db: Database, station: String, _ outages: OpenOutages) throws {
        try db.execute(sql: "DELETE FROM amenity_outages WHERE station_id = ?", arguments: [station])
        for (amenity, since) in outages {
            try db.execute(sql: "INSERT INTO amenity_outages(station_id, amenity, since_ms) VALUES (?, ?, ?)", arguments: [station, amenity, since])
        }
    }

    static func jsonArray(_ ids: [String]) -> String {
        String(decoding: try! JSONEncoder().encode(ids), as: UTF8.self)
    }
}
