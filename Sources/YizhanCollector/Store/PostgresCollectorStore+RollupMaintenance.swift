import PostgresNIO
import YizhanCore

/// Rebuilding and checking rollups (`RollupMaintenance` holds the logic).
extension PostgresCollectorStore {
    public func rollupStations() async throws -> [(id: String, region: String)] {
        var out: [(id: String, region: String)] = []
        for try await row in try await client.query("SELECT id, region FROM stations ORDER BY id COLLATE \"C\"", logger: logger)
            .decode((String, String).self) { out.append(row) }
        return out
    }

    public func rebuildInput(station: String, from: Int64, to: Int64) async throws -> (before: [UsageEvent], inRange: [UsageEvent], after: [UsageEvent]) {
        func events(_ condition: String, _ bounds: [Int64]) async throws -> [UsageEvent] {
            var binds = PostgresBindings()
            binds.append(station)
            for b in bounds { binds.append(b) }
            var out: [UsageEvent] = []
            for try await (seq, time, kind, key, occ, stay, detail) in try await client.query(PostgresQuery(unsafeSQL: """
                SELECT seq, time_ms, kind, card_key, occupancy, stay_seconds, detail FROM events WHERE station_id = $1 AND \(condition) ORDER BY seq
                """, binds: binds), logger: logger).decode((Int64, Int64, String, String?, Int, Int64?, String?).self) {
                out.append(UsageEvent(station: station, seq: seq, time: Timestamp(millisecondsSinceEpoch: time), kind: kind, cardKey: key,
                                      occupancy: occ, staySeconds: stay, detail: detail))
            }
            return out
        }
        return (try await events("kind = 'amenity' AND time_ms < $2", [from]), try await events("time_ms >= $2 AND time_ms < $3", [from, to]),
                try await events("kind = 'amenity' AND time_ms >= $2", [to]))
    }

    public func replaceStationRollups(station: String, from: Int64, to: Int64, hours: [RollupRow<HyperLogLog>], outages: OpenOutages?) async throws {
        try await transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(hashtextextended(\(station), 0))", logger: logger)
            try await db.query("DELETE FROM rollup_station_hours WHERE station_id = \(station) AND start_ms >= \(from) AND start_ms < \(to)", logger: logger)
            try await upsert(db, .stationHours, key: station, rows: hours.map { RollupPlan.Row(start: $0.start, figures: $0.figures, workers: $0.workers) })
            try await db.query("DELETE FROM rollup_station_days WHERE station_id = \(station) AND start_ms >= \(from) AND start_ms < \(to)", logger: logger)
            try await db.query(PostgresQuery(unsafeSQL: "INSERT INTO rollup_station_days " + fold(into: .stationDays),
                                             binds: foldBindings(.stationDays, station, from, to)), logger: logger)
            try await refoldStationLevels(db, station: station, from: from, to: to)
            if let outages { try await replaceOutages(db, station: station, outages) }
        }
    }

    public func refoldStationLevels(station: String, from: Int64, to: Int64) async throws {
        try await transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(hashtextextended(\(station), 0))", logger: logger)
            try await refoldStationLevels(db, station: station, from: from, to: to)
        }
    }

    /// Folds the station's weeks and months around [from, to) again from its days.
    private func refoldStationLevels(_ db: PostgresConnection, station: String, from: Int64, to: Int64) async throws {
        for level in [StationLevel.week, .month] {
            let table = RollupTable.station(level), (f, t) = level.widened(from: from, to: to, offset: reportOffset)
            try await db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.rawValue) WHERE station_id = $1 AND start_ms >= $2 AND start_ms < $3",
                                             binds: foldBindings(table, station, f, t)), logger: logger)
            try await db.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table.rawValue) " + fold(into: table), binds: foldBindings(table, station, f, t)),
                               logger: logger)
        }
    }

    public func refoldRegions(_ regions: [String], from: Int64, to: Int64) async throws {
        for r in regions {
            try await transaction { db in
                for table in [RollupTable.regionHours, .regionDays] {
                    try await db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table.rawValue) WHERE region = $1 AND start_ms >= $2 AND start_ms < $3",
                                                     binds: foldBindings(.regionDays, r, from, to)), logger: logger)
                    try await db.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table.rawValue) " + fold(into: table),
                                                     binds: foldBindings(table, r, from, to)), logger: logger)
                }
            }
        }
    }

    public func storedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>] {
        try await rows(PostgresQuery(unsafeSQL: """
            SELECT \(table.keyColumn), start_ms, \(RollupFigures.columnNames.joined(separator: ", ")), workers FROM \(table.rawValue)
            WHERE \(table.keyColumn) = $1 AND start_ms >= $2 AND start_ms < $3 ORDER BY start_ms
            """, binds: foldBindings(.stationDays, key, from, to)), leadingKey: true)
    }

    public func foldedRollups(_ table: RollupTable, key: String, from: Int64, to: Int64) async throws -> [RollupRow<HyperLogLog>] {
        try await rows(PostgresQuery(unsafeSQL: fold(into: table),
                                     binds: foldBindings(table, key, from, to)), leadingKey: true)
    }

    func foldBindings(_ table: RollupTable, _ key: String, _ from: Int64, _ to: Int64) -> PostgresBindings {
        var b = PostgresBindings()
        b.append(key); b.append(from); b.append(to)
        return b
    }

    /// The SELECT of `table`'s rows as the level below defines them (as in SQLite).
    func fold(into table: RollupTable) -> String {
        let off = Int64(reportOffset.seconds) * 1000
        let peak = table.keyColumn == "region" ? "sum" : "max"
        let figures = RollupFigures.columnNames.map { $0 == "peak_occupancy" ? "\(peak)(\($0))::bigint" : "sum(\($0))::bigint" }.joined(separator: ", ")
        switch table {
        case .stationHours:
            preconditionFailure("station hours come from events")
        case .stationDays:
            let day = "((start_ms + \(off)) / 86400000) * 86400000 - \(off)"
            return """
                SELECT $1, \(day) AS day, \(figures), hll_union_agg(workers) FROM rollup_station_hours
                WHERE station_id = $1 AND start_ms >= $2 AND start_ms < $3 GROUP BY day ORDER BY day
                """
        case .stationWeeks, .stationMonths:
            let start = table == .stationWeeks ? StationLevelSQL.week(offsetMilliseconds: off)
                : "(extract(epoch FROM date_trunc('month', to_timestamp((start_ms + \(off)) / 1000) AT TIME ZONE 'UTC')) * 1000)::bigint - \(off)"
            return """
                SELECT $1, \(start) AS s, \(figures), hll_union_agg(workers) FROM rollup_station_days
                WHERE station_id = $1 AND start_ms >= $2 AND start_ms < $3 GROUP BY s ORDER BY s
                """
        case .regionHours, .regionDays:
            let source = table == .regionHours ? RollupTable.stationHours : .stationDays
            return """
                SELECT $1, h.start_ms, \(figures), hll_union_agg(h.workers) FROM \(source.rawValue) h JOIN stations s ON s.id = h.station_id
                WHERE ($1 = '' OR s.region = $1 OR left(s.region, length($1) + 1) = $1 || '/') AND h.start_ms >= $2 AND h.start_ms < $3
                GROUP BY h.start_ms ORDER BY h.start_ms
                """
        }
    }
}
