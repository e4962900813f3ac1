import Logging
import PostgresNIO
import YizhanCore

/// Rollups in PostgreSQL: sketches are postgresql-hll's `hll` type and unions run inside
/// the database (`hll_union`, `hll_union_agg`); the statements match SQLite's.
extension PostgresCollectorStore {
    static let rollupMigration: [String] = {
        let figures = RollupFigures.columnNames.map { "\($0) BIGINT NOT NULL DEFAULT 0" }.joined(separator: ", ")
        return ["CREATE EXTENSION IF NOT EXISTS hll"] + RollupTable.allCases.map { t in
            "CREATE TABLE \(t.rawValue) (\(t.keyColumn) TEXT NOT NULL, start_ms BIGINT NOT NULL, \(figures), workers hll NOT NULL, "
                + "PRIMARY KEY (\(t.keyColumn), start_ms))"
        } + [
            "CREATE TABLE amenity_outages (station_id TEXT NOT NULL, amenity TEXT NOT NULL, since_ms BIGINT NOT NULL, PRIMARY KEY (station_id, amenity))",
            "CREATE TABLE rollup_settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
            "ALTER TABLE stations ADD COLUMN region TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE stations ADD COLUMN address TEXT",
            "CREATE INDEX stations_region ON stations(region text_pattern_ops)",
            "ALTER TABLE users ADD COLUMN region TEXT",
        ]
    }()

    // MARK: at ingest

    /// Adds the batch's new events to the rollups, inside the ingest transaction. Batches of
    /// one station take turns (an advisory lock); shared region rows are locked in one
    /// order (region, hours before days, time) by every batch, so batches never deadlock.
    func addToRollups(_ db: PostgresConnection, station: String, newEvents: [UsageEvent]) async throws {
        guard !newEvents.isEmpty else { return }
        var region = RegionPath.nation
        for try await text in try await db.query("SELECT region FROM stations WHERE id = \(station)", logger: logger).decode(String.self) {
            region = RegionPath(parsing: text) ?? .nation
        }
        var outages: OpenOutages = [:]
        if newEvents.contains(where: { $0.kind == "amenity" }) {
            for try await (amenity, since) in try await db.query("""
                SELECT amenity, since_ms FROM amenity_outages WHERE station_id = \(station)
                """, logger: logger).decode((String, Int64).self) { outages[amenity] = since }
        }
        let plan = RollupPlan(newEvents: newEvents, openOutages: outages, region: region, offset: reportOffset)
        guard !plan.isEmpty else { return }
        // The station's peaks before: its regions' peaks grow by what the station's grow by.
        func oldPeaks(_ table: RollupTable, _ rows: [RollupPlan.Row]) async throws -> [Int64: Int64] {
            guard let first = rows.first?.start, let last = rows.last?.start else { return [:] }
            var binds = PostgresBindings()
            binds.append(station); binds.append(first); binds.append(last)
            var out: [Int64: Int64] = [:]
            for try await (start, peak) in try await db.query(PostgresQuery(unsafeSQL: """
                SELECT start_ms, peak_occupancy FROM \(table.rawValue) WHERE station_id = $1 AND start_ms BETWEEN $2 AND $3
                """, binds: binds), logger: logger).decode((Int64, Int64).self) { out[start] = peak }
            return out
        }
        let regionHours = plan.regionHours(oldPeaks: try await oldPeaks(.stationHours, plan.stationHours))
        let regionDays = plan.regionDays(oldPeaks: try await oldPeaks(.stationDays, plan.stationDays))
        try await upsert(db, .stationHours, key: station, rows: plan.stationHours)
        try await upsert(db, .stationDays, key: station, rows: plan.stationDays)
        for r in plan.regions {
            try await upsert(db, .regionHours, key: r, rows: regionHours)
            try await upsert(db, .regionDays, key: r, rows: regionDays)
        }
        if plan.outagesChanged { try await replaceOutages(db, station: station, plan.outages) }
    }

    /// Adds `rows` to `table` under `key` in one statement.
    func upsert(_ db: PostgresConnection, _ table: RollupTable, key: String, rows: [RollupPlan.Row]) async throws {
        guard !rows.isEmpty else { return }
        let names = RollupFigures.columnNames
        let t = table.rawValue
        let peak = table.keyColumn == "region" ? "\(t).peak_occupancy + EXCLUDED.peak_occupancy" : "GREATEST(\(t).peak_occupancy, EXCLUDED.peak_occupancy)"
        let set = names.map { $0 == "peak_occupancy" ? "peak_occupancy = \(peak)" : "\($0) = \(t).\($0) + EXCLUDED.\($0)" }
        var binds = PostgresBindings()
        binds.append(key)
        binds.append(rows.map(\.start))
        for (i, _) in names.enumerated() { binds.append(rows.map { $0.figures.columns[i] }) }
        // Sketches travel as hex text (decoded and cast to hll inside the statement).
        binds.append(rows.map { Hex.encode($0.workerBytes) })
        let arrays = (0..<names.count).map { "$\($0 + 3)::bigint[]" }.joined(separator: ", ")
        let sql = """
            INSERT INTO \(t)(\(table.keyColumn), start_ms, \(names.joined(separator: ", ")), workers)
            SELECT $1, s, \(names.joined(separator: ", ")), decode(w, 'hex')::hll
            FROM unnest($2::bigint[], \(arrays), $\(names.count + 3)::text[]) AS r(s, \(names.joined(separator: ", ")), w)
            ORDER BY s
            ON CONFLICT (\(table.keyColumn), start_ms) DO UPDATE SET \(set.joined(separator: ", ")), workers = hll_union(\(t).workers, EXCLUDED.workers)
            """
        try await db.query(PostgresQuery(unsafeSQL: sql, binds: binds), logger: logger)
    }

    func replaceOutages(_ db: PostgresConnection, station: String, _ outages: OpenOutages) async throws {
        let amenities = Array(outages.keys), since = amenities.map { outages[$0]! }
        try await db.query("DELETE FROM amenity_outages WHERE station_id = \(station)", logger: logger)
        try await db.query("""
            INSERT INTO amenity_outages(station_id, amenity, since_ms) SELECT \(station), a, s FROM unnest(\(amenities)::text[], \(since)::bigint[]) AS o(a, s)
            """, logger: logger)
    }

    /// A sketch's bytes: `hll` casts from bytea but not back; its text form is `\x` and hex.
    static func bytes(_ hll: String) -> String { "decode(substr((\(hll))::text, 3), 'hex')" }

    // MARK: rows (the questions are in PostgresCollectorStore+Questions.swift)

    /// Rows of `start_ms, figures..., workers` (after a key column when `leadingKey`).
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
