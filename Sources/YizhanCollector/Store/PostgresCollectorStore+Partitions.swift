import Logging
import PostgresNIO
import Synchronization
import YizhanCore

/// Raw events in PostgreSQL are partitioned by month (native declarative partitioning on
/// `time_ms`, UTC months): a question or a rebuild of one month reads one partition, and
/// retention drops whole partitions instead of deleting rows. Partitions are made ahead
/// (this month and the next three, at start and daily) and on demand for a backlog's
/// month before its events are inserted; a DEFAULT partition catches anything else.
///
/// The key is (station_id, seq, time_ms) because a partitioned table's unique key must
/// hold the partition column; ingest also skips a (station, seq) already stored at another
/// time, under the station's advisory lock, so each event still counts once.
///
/// Distributing it (Citus): `events`, the station rollups (hours, days, weeks, months) and
/// `amenity_outages` all lead with `station_id` and would be distributed by it, co-located;
/// the region rollups and `stations` are small and would be reference tables (see
/// docs/analytics.md).
extension PostgresCollectorStore {
    static let partitionMigration: [String] = [
        "ALTER TABLE events RENAME TO events_v4",
        "ALTER TABLE events_v4 RENAME CONSTRAINT events_pkey TO events_v4_pkey",
        "ALTER INDEX events_time RENAME TO events_v4_time",
        "ALTER INDEX events_amenity RENAME TO events_v4_amenity",
        """
        CREATE TABLE events (
            station_id TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
            kind TEXT NOT NULL, card_key TEXT, reader TEXT, occupancy INTEGER NOT NULL, stay_seconds BIGINT, detail TEXT,
            PRIMARY KEY (station_id, seq, time_ms)
        ) PARTITION BY RANGE (time_ms)
        """,
        "CREATE INDEX events_time ON events(station_id, time_ms)",
        "CREATE INDEX events_amenity ON events(station_id, time_ms) WHERE kind = 'amenity'",
        "CREATE TABLE events_default PARTITION OF events DEFAULT",
        // The month partition holding t_ms, made if missing (one collector at a time).
        """
        CREATE FUNCTION yizhan_event_partition(t_ms BIGINT) RETURNS TEXT LANGUAGE plpgsql AS $$
        DECLARE
            month_start TIMESTAMPTZ := date_trunc('month', to_timestamp(t_ms / 1000.0) AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
            lo BIGINT := (extract(epoch FROM month_start) * 1000)::BIGINT;
            hi BIGINT := (extract(epoch FROM month_start + INTERVAL '1 month') * 1000)::BIGINT;
            name TEXT := 'events_' || to_char(month_start AT TIME ZONE 'UTC', 'YYYY_MM');
        BEGIN
            IF to_regclass(name) IS NULL THEN
                PERFORM pg_advisory_xact_lock(7260452);
                EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF events FOR VALUES FROM (%s) TO (%s)', name, lo, hi);
            END IF;
            RETURN name;
        END $$
        """,
        """
        DO $$ DECLARE t BIGINT; BEGIN
            FOR t IN SELECT DISTINCT (time_ms / 86400000) * 86400000 FROM events_v4 LOOP PERFORM yizhan_event_partition(t); END LOOP;
        END $$
        """,
        "INSERT INTO events SELECT station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail FROM events_v4",
        "DROP TABLE events_v4",
    ]

    /// UTC month starts (ms) of the given times.
    static func months(_ times: [Int64]) -> Set<Int64> {
        Set(times.map { t in
            var c = CivilTime(Timestamp(millisecondsSinceEpoch: t), offset: .utc)
            c.day = 1; c.hour = 0; c.minute = 0; c.second = 0; c.millisecond = 0
            return c.timestamp(offset: .utc).millisecondsSinceEpoch
        })
    }

    /// Makes sure the partitions for these times exist (outside the ingest transaction: a
    /// partition is made in its own short one).
    func ensurePartitions(for times: [Int64]) async throws {
        let missing = Self.months(times).subtracting(knownPartitions.withLock { $0 })
        for month in missing.sorted() {
            try await client.query("SELECT yizhan_event_partition(\(month))", logger: logger)
            knownPartitions.withLock { _ = $0.insert(month) }
        }
    }

    /// This month's partition and the next three's.
    func makePartitionsAhead(now: Timestamp = .now()) async throws {
        var c = CivilTime(now, offset: .utc)
        c.day = 15
        let times = (0..<4).map { i -> Int64 in
            var m = c
            m.month += i
            while m.month > 12 { m.month -= 12; m.year += 1 }
            return m.timestamp(offset: .utc).millisecondsSinceEpoch
        }
        try await ensurePartitions(for: times)
    }

    /// Drops the month partitions wholly before `cutoff` and deletes older rows of the
    /// partition it falls in (and of the default one). Rollups are kept.
    public func purgeRawEvents(before cutoff: Timestamp) async throws -> Int {
        var dropped = 0
        var partitions: [(String, Int64)] = []
        for try await (name, bound) in try await client.query("""
            SELECT c.relname, (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \\(''?(-?[0-9]+)''?\\)'))[1]::BIGINT
            FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass AND c.relname <> 'events_default'
            """, logger: logger).decode((String, Int64?).self) {
            if let bound { partitions.append((name, bound)) }
        }
        for (name, upper) in partitions where upper <= cutoff.millisecondsSinceEpoch {
            try await client.query(PostgresQuery(unsafeSQL: "DROP TABLE \"\(name)\""), logger: logger)
            dropped += 1
        }
        try await client.query("DELETE FROM events WHERE time_ms < \(cutoff.millisecondsSinceEpoch)", logger: logger)
        knownPartitions.withLock { $0.removeAll() }
        try await client.query("""
            INSERT INTO rollup_settings(key, value) VALUES ('raw_kept_from', \(String(cutoff.millisecondsSinceEpoch)))
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """, logger: logger)
        logger.info("raw events before \(RFC3339.format(cutoff, offset: reportOffset)) removed (\(dropped) month partition(s) dropped); rollups kept")
        return dropped
    }

    public func rawKeptFrom() async throws -> Int64? {
        for try await v in try await client.query("SELECT value FROM rollup_settings WHERE key = 'raw_kept_from'", logger: logger).decode(String.self) {
            return Int64(v)
        }
        return nil
    }
}
