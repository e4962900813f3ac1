import Foundation
import GRDB
import YizhanCore
import YizhanWeb

/// The station's append-only event log in SQLite (WAL, synchronous=FULL).
///
/// Every event gets a station-wide sequence number that is contiguous: numbers are
/// assigned inside the committing transaction, so a failed or interrupted commit leaves
/// no gap. `append` returns only after the transaction is durable on disk.
public final class EventStore: SessionRecords {
    public let path: String
    let pool: DatabasePool

    public struct Query: Sendable, Hashable {
        public var after: Int64?
        public var since: Timestamp?
        public var until: Timestamp?
        public var cardKey: CardKey?
        public var kinds: [EventKind] = []
        public var reader: String?
        public var limit: Int = 100
        /// Newest first instead of oldest first.
        public var descending = false
        public init() {}
    }

    public init(path: String, stationID: String) throws {
        self.path = path
        var config = Configuration()
        config.busyMode = .timeout(5)
        config.label = "yizhan-events"
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB's WAL set-up lowers synchronous to NORMAL after prepareDatabase runs; a
        // committed visit must survive a power cut, so raise it on the writer connection.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Purged space goes back to the disk (takes effect on a new database only).
            try db.execute(sql: "PRAGMA auto_vacuum = INCREMENTAL")
        }
        try SchemaCompatibility.check(Self.migrator, pool, database: path)  // forward only
        try Self.migrator.migrate(pool)
        try pool.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'station_id'") {
                guard existing == stationID else {
                    throw StoreError.wrongStation(path: path, found: existing, configured: stationID)
                }
            } else {
                try db.execute(sql: "INSERT INTO meta(key, value) VALUES ('station_id', ?)", arguments: [stationID])
            }
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: events") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after purges
                    time_ms INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    card_key TEXT,
                    card_hint TEXT,
                    reader TEXT,
                    occupancy INTEGER NOT NULL,
                    stay_seconds INTEGER,
                    detail TEXT
                );
                CREATE INDEX events_time ON events(time_ms);
                CREATE INDEX events_card ON events(card_key, seq) WHERE card_key IS NOT NULL;
                -- Where the live state can be rebuilt from: nobody inside after these.
                CREATE INDEX events_empty ON events(seq) WHERE occupancy = 0;
                """)
        }
        m.registerMigration("v2: uplink") { db in
            try db.execute(sql: """
                -- Events the collector refused for good: kept here, reported, skipped.
                CREATE TABLE quarantined_events (
                    seq INTEGER PRIMARY KEY,
                    reason TEXT NOT NULL,
                    time_ms INTEGER NOT NULL
                );
                INSERT OR IGNORE INTO meta(key, value) VALUES ('uplink_acknowledged', '0');
                """)
        }
        m.registerMigration("v3: managers") { db in
            try db.execute(sql: """
                -- Logins for the manager pages: bcrypt hashes, set through yizhanctl.
                CREATE TABLE managers (name TEXT PRIMARY KEY, password_hash TEXT NOT NULL, updated_ms INTEGER NOT NULL);
                """)
        }
        m.registerMigration("v4: sessions") { db in
            // Manager-page logins survive a daemon restart. Keys are digests of session ids.
            try db.execute(sql: SQLiteSessionRecords.schema)
        }
        return m
    }

    /// Commits `events` in one transaction and returns them with their sequence numbers.
    @discardableResult
    public func append(_ events: [StationEvent]) throws -> [RecordedEvent] {
        guard !events.isEmpty else { return [] }
        return try pool.write { db in try Self.insert(events, db) }
    }

    private static func insert(_ events: [StationEvent], _ db: Database) throws -> [RecordedEvent] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events(time_ms, kind, card_key, card_hint, reader, occupancy, stay_seconds, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var recorded: [RecordedEvent] = []
        recorded.reserveCapacity(events.count)
        for e in events {
            try insert.execute(arguments: [e.time.millisecondsSinceEpoch, e.kind.rawValue, e.cardKey?.hex, e.cardHint,
                                           e.reader, e.occupancy, e.staySeconds, e.detail])
            recorded.append(RecordedEvent(seq: db.lastInsertedRowID, event: e))
        }
        return recorded
    }

    /// `events` for async callers (the HTTP API).
    public func events(_ q: Query) async throws -> [RecordedEvent] {
        let (sql, arguments) = Self.sql(for: q)
        return try await pool.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decode) }
    }

    /// Proves the writer connection answers (the watchdog's store check).
    public func ping() throws {
        try pool.writeWithoutTransaction { db in _ = try Int.fetchOne(db, sql: "SELECT 1") }
    }

    public func events(_ q: Query) throws -> [RecordedEvent] {
        let (sql, arguments) = Self.sql(for: q)
        return try pool.read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.decode) }
    }

    static func sql(for q: Query) -> (String, StatementArguments) {
        var clauses: [String] = []
        var args: [(any DatabaseValueConvertible)?] = []
        if let after = q.after { clauses.append(q.descending ? "seq < ?" : "seq > ?"); args.append(after) }
        if let since = q.since { clauses.append("time_ms >= ?"); args.append(since.millisecondsSinceEpoch) }
        if let until = q.until { clauses.append("time_ms < ?"); args.append(until.millisecondsSinceEpoch) }
        if let card = q.cardKey { clauses.append("card_key = ?"); args.append(card.hex) }
        if let reader = q.reader { clauses.append("reader = ?"); args.append(reader) }
        if !q.kinds.isEmpty {
            clauses.append("kind IN (\(q.kinds.map { _ in "?" }.joined(separator: ",")))")
            args.append(contentsOf: q.kinds.map { $0.rawValue })
        }
        let sql = "SELECT * FROM events" + (clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND "))
            + " ORDER BY seq \(q.descending ? "DESC" : "ASC") LIMIT ?"
        args.append(q.limit)
        return (sql, StatementArguments(args)!)
    }

    /// The events from which the live state is rebuilt after a restart: everything after
    /// the last moment the station was empty, and at least the last `window` (debounce).
    public func eventsForReplay(now: Timestamp, window: Duration) throws -> [StationEvent] {
        try pool.read { db in
            let lastEmpty = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events WHERE occupancy = 0") ?? 0
            let recent = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM events WHERE time_ms >= ?",
                                            arguments: [(now - window).millisecondsSinceEpoch]) ?? Int64.max
            let from = min(lastEmpty, recent)
            return try Row.fetchAll(db, sql: "SELECT * FROM events WHERE seq >= ? ORDER BY seq", arguments: [from])
                .map { Self.decode($0).event }
        }
    }

    /// Each amenity's latest status change: kept through retention purges, since it is the
    /// amenity's current status. (`detail` starts with "amenity=<id> ".)
    static let latestAmenityChanges = """
        SELECT max(seq) AS seq FROM events WHERE kind = 'amenity' GROUP BY substr(detail, 1, instr(detail || ' ', ' ') - 1)
        """

    /// Amenity changes and fault reports since each amenity's latest change: what the
    /// amenity board is rebuilt from. Old reports answered by a later change are skipped.
    public func eventsForAmenityBoard() throws -> [StationEvent] {
        try pool.read { db in
            let oldest = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM (\(Self.latestAmenityChanges))") ?? 0
            return try Row.fetchAll(db, sql: """
                SELECT * FROM events WHERE (kind = 'amenity' AND seq IN (\(Self.latestAmenityChanges)))
                   OR (kind = 'fault_report' AND seq > ?) ORDER BY seq
                """, arguments: [oldest]).map { Self.decode($0).event }
        }
    }

    public func lastSeq() throws -> Int64 {
        try pool.read { db in try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'events'") ?? 0 }
    }

    public func count() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? 0 }
    }

    /// `PRAGMA synchronous` of the writer connection (2 = FULL).
    public func writerSynchronousMode() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    public func journalMode() throws -> String {
        try pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "" }
    }

    /// Caps the database at `pages` pages; SQLite then fails writes with SQLITE_FULL
    /// exactly as on a full disk (the tests use it).
    func setMaximumPageCount(_ pages: Int) throws {
        try pool.writeWithoutTransaction { db in _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)") }
    }

    func pageCount() throws -> Int {
        try pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
    }


    static func decode(_ row: Row) -> RecordedEvent {
        let key: String? = row["card_key"]
        return RecordedEvent(seq: row["seq"], event: StationEvent(
            time: Timestamp(millisecondsSinceEpoch: row["time_ms"]),
            kind: EventKind(rawValue: row["kind"]) ?? .badRead,
            cardKey: key.map(CardKey.init(hex:)), cardHint: row["card_hint"], reader: row["reader"],
            occupancy: row["occupancy"], staySeconds: row["stay_seconds"], detail: row["detail"]))
    }
}

public enum StoreError: Error, CustomStringConvertible {
    case wrongStation(path: String, found: String, configured: String)
    public var description: String {
        switch self {
        case .wrongStation(let p, let f, let c):
            return "\(p) holds the log of station \"\(f)\", but this configuration is for \"\(c)\"; refusing to mix logs"
        }
    }
}
