import Logging
import PostgresNIO
import YizhanCore

/// Rollups in PostgreSQL: sketches are postgresql-hll's `hll` type and unions run inside
/// the database (`hll_union`, `hll_union_agg`); the statements match SQLite's.
extension PostgresCollectorStore {
    static func createRollupTable(_ t: RollupTable) -> String {
        let figures = RollupFigures.columnNames.map { "\($0) BIGINT NOT NULL DEFAULT 0" }.joined(separator: ", ")
        return "CREATE TABLE \(t.rawValue) (\(t.keyColumn) TEXT NOT NULL, start_ms BIGINT NOT NULL, \(figures), workers hll NOT NULL, "
            + "PRIMARY KEY (\(t.keyColumn), start_ms))"
    }

    /// v9: station weeks and months (folded from the days by `prepare`), and the station
    /// levels indexed by time too: totals over many stations read a period's rows, not
    /// every station's whole history.
    static let stationLevelsMigration: [String] = [createRollupTable(.stationWeeks), createRollupTable(.stationMonths)]
        + [RollupTable.stationDays, .stationWeeks, .stationMonths].map { "CREATE INDEX \($0.rawValue)_start ON \($0.rawValue)(start_ms)" }

    /// v9c: the station levels' time index carries what a ranking reads, so ranking 10,000
    /// stations is an index-only scan. Every day's ingest rewrites the week and month rows
    /// (their sketches grow, so the new version rarely fits its page): a year on, the 30,000
    /// week rows of a province's 30-day ranking lay on 21,020 heap pages, 198 ms to read
    /// cold; from this index, 283 pages and 15 ms (docs/benchmarks.md, "Rankings at a year
    /// of history"). The columns are `Rankings.columns` of every measure, and the station.
    static let rankingIndexMigration: [String] = [RollupTable.stationDays, .stationWeeks, .stationMonths].flatMap { t in
        ["CREATE INDEX \(t.rawValue)_ranked ON \(t.rawValue)(start_ms) INCLUDE (\(rankingIndexColumns.joined(separator: ", ")))",
         "DROP INDEX \(t.rawValue)_start"]
    }

    static let rankingIndexColumns = ["station_id"] + Set(RankingMeasure.allCases.flatMap(Rankings.columns)).sorted()

    static let rollupMigration: [String] = {
        return ["CREATE EXTENSION IF NOT EXISTS hll"] + RollupTable.firstTables.map(createRollupTable) + [
            "CREATE TABLE amenity_outages (station_id TEXT NOT NULL, amenity TEXT NOT NULL, since_ms BIGINT NOT NULL, PRIMARY KEY (station_id, amenity))",
            "CREATE TABLE rollup_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "ALTER TABLE stations ADD COLUMN region TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE stations ADD COLUMN address TEXT",
            "CREATE INDEX stations_region ON stations(region text_pattern_ops)",
            "ALTER TABLE users ADD COLUMN region TEXT",
        ]
    }()

    // MARK: at ingest

    /// Adds `rows` to `table` under `key` in one statement.
    func upsert(_ db: PostgresConnection, _ table: RollupTable, key: String, rows: [RollupPlan.Row]) async throws {
        try await upsert(db, table, rows: rows.map { (RollupGroup.Key(key: key, start: $0.start), $0) })
    }

    /// Adds each row to `table` under its own key in one statement, locking the rows in key
    /// order (every writer does, so concurrent writers never deadlock).
    func upsert(_ db: PostgresConnection, _ table: RollupTable, rows: [(RollupGroup.Key, RollupPlan.Row)]) async throws {
        guard !rows.isEmpty else { return }
        var binds = PostgresBindings()
        Self.appendUpsertBinds(&binds, rows)
        try await db.query(PostgresQuery(unsafeSQL: Self.upsertStatement(table, firstBind: 1), binds: binds), logger: logger)
    }

    /// The upsert of rows given as arrays from bind `firstBind` on (`appendUpsertBinds`).
    static func upsertStatement(_ table: RollupTable, firstBind b: Int) -> String {
        let names = RollupFigures.columnNames
        let t = table.rawValue
        let peak = table.keyColumn == "region" ? "\(t).peak_occupancy + EXCLUDED.peak_occupancy" : "GREATEST(\(t).peak_occupancy, EXCLUDED.peak_occupancy)"
        let set = names.map { $0 == "peak_occupancy" ? "peak_occupancy = \(peak)" : "\($0) = \(t).\($0) + EXCLUDED.\($0)" }
        let arrays = (0..<names.count).map { "$\(b + 2 + $0)::bigint[]" }.joined(separator: ", ")
        // Sketches travel as bytea (their storage bytes) and are cast to hll in the statement.
        return """
            INSERT INTO \(t)(\(table.keyColumn), start_ms, \(names.joined(separator: ", ")), workers)
            SELECT k, s, \(names.joined(separator: ", ")), w::hll
            FROM unnest($\(b)::text[], $\(b + 1)::bigint[], \(arrays), $\(b + 2 + names.count)::bytea[]) AS r(k, s, \(names.joined(separator: ", ")), w)
            ORDER BY k, s
            ON CONFLICT (\(table.keyColumn), start_ms) DO UPDATE SET \(set.joined(separator: ", ")), workers = hll_union(\(t).workers, EXCLUDED.workers)
            """
    }

    static func appendUpsertBinds(_ binds: inout PostgresBindings, _ rows: [(RollupGroup.Key, RollupPlan.Row)]) {
        binds.append(rows.map(\.0.key))
        binds.append(rows.map(\.0.start))
        for i in RollupFigures.columnNames.indices { binds.append(rows.map { $0.1.figures.columns[i] }) }
        binds.append(rows.map { ByteBuffer(bytes: $0.1.workerBytes) })
    }

    func replaceOutages(_ db: PostgresConnection, station: String, _ outages: OpenOutages) async throws {
        let amenities = Array(outages.keys), since = amenities.map { outages[$0]! }
        try await db.query("DELETE FROM amenity_outages WHERE station_id = \(station)", logger: logger)
        try await db.query("""
            INSERT INTO amenity_outages(station_id, amenity, since_ms) SELECT \(station), a, s FROM unnest(\(amenities)::text[], \(since)::bigint[]) AS o(a, s)
            """, logger: logger)
    }

    // MARK: rows (the questions are in PostgresCollectorStore+Questions.swift)

    /// Rows of `start_ms, figures..., workers` (after a key column when `leadingKey`).
    ///
    /// An `hll` column is read as it is: PostgresNIO asks for results in binary, and the
    /// extension's binary output (`hll_send`) is the sketch's storage bytes. (Its text form
    /// turned back into bytes, `decode(substr(workers::text, 3), 'hex')`, took 7 of a region
    /// month-by-hour read's 9 ms in the database.)
    func rows(_ query: PostgresQuery, leadingKey: Bool, on db: PostgresConnection? = nil) async throws -> [RollupRow<HyperLogLog>] {
        let n = RollupFigures.columnNames.count
        let skip = leadingKey ? 1 : 0
        var out: [RollupRow<HyperLogLog>] = []
        let result = if let db { try await db.query(query, logger: logger) } else { try await client.query(query, logger: logger) }
        for try await row in result {
            let cells = Array(row)
            let start = try cells[skip].decode(Int64.self)
            let figures = try (0..<n).map { try cells[skip + 1 + $0].decode(Int64.self) }
            let bytes = try cells[skip + 1 + n].decode(ByteBuffer?.self)
            out.append(RollupRow(start: start, figures: RollupFigures(columns: figures),
                                 workers: bytes.flatMap { try? HyperLogLog(bytes: Array(buffer: $0)) } ?? HyperLogLog()))
        }
        return out
    }
}
