import Foundation
import GRDB
import Synchronization
import YizhanCore
import YizhanWeb

/// The embedded collector store (GRDB, WAL, synchronous=FULL).
public final class SQLiteCollectorStore: CollectorStore {
    let pool: DatabasePool
    /// The offset the rollups' local days are kept in (`[reports] utc_offset`).
    public let reportOffset: UTCOffset

    /// Group commit: batches that arrive while a transaction is being written wait here and
    /// are written together in the next one (one fsync for many small batches).
    private struct Pending {
        var station: String
        var events: [IngestedEvent]
        var reply: CheckedContinuation<Int, any Error>
    }
    private struct IngestQueue {
        var pending: [Pending] = []
        var writing = false
        var stats = IngestGroupStats()
    }
    private let ingestQueue = Mutex(IngestQueue())

    /// The page size of a new database (an existing one keeps its own: docs/analytics.md,
    /// "SQLite's page size"). A region's SPARSE or FULL sketch (1.0–1.4 KB) is more than a
    /// 4 KiB page's b-tree keeps in the row, so each region hour took an overflow page of its
    /// own and the province's month by hour read 720 of them; with 8 KiB the rows stay in place.
    static let pageSize = 8192

    public init(path: String, reportOffset: UTCOffset = .china) throws {
        self.reportOffset = reportOffset
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            Self.addSketchFunctions(db)
            try db.execute(sql: "PRAGMA page_size = \(Self.pageSize)")  // takes effect only while the file is empty
        }
        pool = try DatabasePool(path: path, configuration: config)
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try SchemaCompatibility.check(Self.migrator, pool, database: path)  // forward only
        try Self.migrator.migrate(pool)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE stations (
                    id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT, capacity INTEGER NOT NULL,
                    latitude REAL, longitude REAL, token_hash TEXT NOT NULL UNIQUE,
                    occupancy INTEGER NOT NULL DEFAULT 0, last_seen_ms INTEGER, last_ack INTEGER NOT NULL DEFAULT 0
                );
                CREATE TABLE events (
                    station_id TEXT NOT NULL REFERENCES stations(id),
                    seq INTEGER NOT NULL,
                    time_ms INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    card_key TEXT,
                    reader TEXT,
                    occupancy INTEGER NOT NULL,
                    stay_seconds INTEGER,
                    detail TEXT,
                    PRIMARY KEY (station_id, seq)
                ) WITHOUT ROWID;
                CREATE INDEX events_time ON events(station_id, time_ms);
                CREATE TABLE users (
                    name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE
                );
                CREATE TABLE user_stations (
                    user_name TEXT NOT NULL REFERENCES users(name), station_id TEXT NOT NULL,
                    PRIMARY KEY (user_name, station_id)
                );
                """)
        }
        m.registerMigration("v2-live-and-usage") { db in
            try db.execute(sql: """
                ALTER TABLE stations ADD COLUMN live TEXT;
                CREATE INDEX events_amenity ON events(station_id, time_ms) WHERE kind = 'amenity';
                """)
        }
        m.registerMigration("v3-sessions") { db in
            try db.execute(sql: SQLiteSessionRecords.schema)
        }
        // Regions, and rollups kept at ingest (filled from the raw log by `prepare`).
        m.registerMigration("v4-regions-rollups") { db in
            try db.execute(sql: """
                ALTER TABLE stations ADD COLUMN region TEXT NOT NULL DEFAULT '';
                ALTER TABLE stations ADD COLUMN address TEXT;
                CREATE INDEX stations_region ON stations(region);
                ALTER TABLE users ADD COLUMN region TEXT;
                """ + rollupSchema)
        }
        // Office settings, notices and the audit log (SQLiteCollectorStore+Office.swift).
        registerOfficeMigration(&m)
        // Alerts with their delivery outbox.
        m.registerMigration("v7-alerts") { db in
            try db.execute(sql: alertsSchema)
        }
        // A revision of the station list, for the collector's in-memory copy (StationRosterStore.swift).
        m.registerMigration("v8-station-roster") { db in
            try db.execute(sql: StationRosterSchema.sqlite)
        }
        // Station weeks and months (StationLevels.swift).
        m.registerMigration("v9-station-levels") { db in
            try db.execute(sql: stationLevelsSchema)
        }
        return m
    }

    public func addStation(_ s: StationRecord, tokenHash: String) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM stations WHERE id = ?", arguments: [s.id]) == true {
                throw CollectorStoreError.duplicateStation(s.id)
            }
            try db.execute(sql: """
                INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash, region, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [s.id, s.name, s.district, s.capacity, s.latitude, s.longitude, tokenHash, s.region.description, s.address])
        }
    }

    public func importStations(_ stations: [StationRecord], tokenHashes: [String: String]) async throws -> [StationImportResult] {
        try await pool.write { db in
            try stations.map { s in
                if let old = try String.fetchOne(db, sql: "SELECT region FROM stations WHERE id = ?", arguments: [s.id]) {
                    try db.execute(sql: """
                        UPDATE stations SET name = ?, region = ?, capacity = ?, latitude = ?, longitude = ?, address = ? WHERE id = ?
                        """, arguments: [s.name, s.region.description, s.capacity, s.latitude, s.longitude, s.address, s.id])
                    let before = RegionPath(parsing: old) ?? .nation
                    return StationImportResult(id: s.id, added: false, movedFrom: before == s.region ? nil : before)
                }
                guard let hash = tokenHashes[s.id] else { throw CollectorStoreError.unknownStation(s.id) }
                try db.execute(sql: """
                    INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash, region, address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [s.id, s.name, s.district, s.capacity, s.latitude, s.longitude, hash, s.region.description, s.address])
                return StationImportResult(id: s.id, added: true, movedFrom: nil)
            }
        }
    }

    public func station(forTokenHash tokenHash: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT id FROM stations WHERE token_hash = ?", arguments: [tokenHash]) }
    }

    public func ingest(station: String, events: [IngestedEvent]) async throws -> Int {
        try await withCheckedThrowingContinuation { reply in
            let startWriter = ingestQueue.withLock { q in
                q.pending.append(Pending(station: station, events: events, reply: reply))
                defer { q.writing = true }
                return !q.writing
            }
            if startWriter { Task { await self.writeQueuedBatches() } }
        }
    }

    /// How the group commit has gone so far.
    var ingestGroupStats: IngestGroupStats { ingestQueue.withLock { $0.stats } }

    private func writeQueuedBatches() async {
        while true {
            let batch = ingestQueue.withLock { q -> [Pending] in
                defer { q.pending = [] }
                if q.pending.isEmpty { q.writing = false } else { q.stats.wrote(q.pending.count) }
                return q.pending
            }
            if batch.isEmpty { return }
            do {
                let offset = reportOffset
                let counts = try await pool.write { db in try Self.insertGroup(db, batch.map { ($0.station, $0.events) }, offset: offset) }
                for (p, n) in zip(batch, counts) { p.reply.resume(returning: n) }
            } catch {
                // One batch's failure must not fail the others: write them one by one.
                if batch.count > 1 { ingestQueue.withLock { $0.stats.splits += 1 } }
                for p in batch {
                    do { p.reply.resume(returning: try await pool.write { [reportOffset] db in
                        try Self.insertGroup(db, [(p.station, p.events)], offset: reportOffset)[0]
                    }) }
                    catch { p.reply.resume(throwing: error) }
                }
            }
        }
    }

    public func stationTokens() async throws -> [(tokenHash: String, station: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT token_hash, id FROM stations").map { ($0[0], $0[1]) }
        }
    }

    public func recordHeartbeats(_ heartbeats: [HeartbeatRecord]) async throws {
        guard !heartbeats.isEmpty else { return }
        try await pool.write { db in
            let update = try db.cachedStatement(sql: """
                UPDATE stations SET occupancy = ?, last_seen_ms = ?, live = ? WHERE id = ? AND (last_seen_ms IS NULL OR last_seen_ms <= ?)
                """)
            for h in heartbeats {
                try update.execute(arguments: [h.occupancy, h.at.millisecondsSinceEpoch, h.live.json, h.station, h.at.millisecondsSinceEpoch])
            }
        }
    }

    public func stations() async throws -> [StationRecord] { try await readStations(heardSince: nil, niced: false) }

    /// For in-memory copies kept in the background (`StationMirror`): the reader thread
    /// decodes the rows at the background priority, so requests come first.
    public func stations(heardSince: Timestamp?) async throws -> [StationRecord] { try await readStations(heardSince: heardSince, niced: true) }

    private func readStations(heardSince: Timestamp?, niced: Bool) async throws -> [StationRecord] {
        try await pool.read { db in
            func read() throws -> [StationRecord] {
                let rows = if let heardSince {
                    try Row.fetchAll(db, sql: "SELECT * FROM stations WHERE last_seen_ms >= ? ORDER BY id", arguments: [heardSince.millisecondsSinceEpoch])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM stations ORDER BY id")
                }
                return rows.map { row in
                    let lastSeen: Int64? = row["last_seen_ms"]
                    return StationRecord(id: row["id"], name: row["name"], district: row["district"],
                                         region: RegionPath(parsing: row["region"]) ?? .nation, address: row["address"], capacity: row["capacity"],
                                         latitude: row["latitude"], longitude: row["longitude"], occupancy: row["occupancy"],
                                         lastSeen: lastSeen.map(Timestamp.init(millisecondsSinceEpoch:)), lastAck: row["last_ack"],
                                         live: LiveState.decode(row["live"]))
                }
            }
            return niced ? try BackgroundWork.niced(read) : try read()
        }
    }

    public func eventCount(station: String) async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM events WHERE station_id = ?", arguments: [station]) ?? 0 }
    }

    public func addUser(_ user: UserRecord, passwordHash: String, tokenHash: String) async throws {
        try await pool.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM users WHERE name = ?", arguments: [user.name]) == true {
                throw CollectorStoreError.duplicateUser(user.name)
            }
            for s in user.stations where try Bool.fetchOne(db, sql: "SELECT 1 FROM stations WHERE id = ?", arguments: [s]) != true {
                throw CollectorStoreError.unknownStation(s)
            }
            try db.execute(sql: "INSERT INTO users(name, role, password_hash, token_hash, region) VALUES (?, ?, ?, ?, ?)",
                           arguments: [user.name, user.role.rawValue, passwordHash, tokenHash, user.region?.description])
            for s in user.stations {
                try db.execute(sql: "INSERT INTO user_stations(user_name, station_id) VALUES (?, ?)", arguments: [user.name, s])
            }
        }
    }

    public func user(named name: String) async throws -> (user: UserRecord, passwordHash: String)? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT role, password_hash, region FROM users WHERE name = ?", arguments: [name]) else { return nil }
            let stations = try String.fetchAll(db, sql: "SELECT station_id FROM user_stations WHERE user_name = ? ORDER BY station_id",
                                               arguments: [name])
            return (UserRecord(name: name, role: UserRole(rawValue: row["role"]) ?? .manager, stations: stations,
                               region: (row["region"] as String?).flatMap(RegionPath.init(parsing:))), row["password_hash"])
        }
    }

    public func user(forTokenHash tokenHash: String) async throws -> UserRecord? {
        try await pool.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT name, role, region FROM users WHERE token_hash = ?", arguments: [tokenHash]) else {
                return nil
            }
            let name: String = row["name"]
            let stations = try String.fetchAll(db, sql: "SELECT station_id FROM user_stations WHERE user_name = ? ORDER BY station_id",
                                               arguments: [name])
            return UserRecord(name: name, role: UserRole(rawValue: row["role"]) ?? .manager, stations: stations,
                              region: (row["region"] as String?).flatMap(RegionPath.init(parsing:)))
        }
    }

    // MARK: browser sessions

    public func putSession(key: String, value: [UInt8], expires: Timestamp) async throws {
        try await sessions.putSession(key: key, value: value, expires: expires)
    }
    public func session(key: String) async throws -> (value: [UInt8], expires: Timestamp)? { try await sessions.session(key: key) }
    public func removeSession(key: String) async throws { try await sessions.removeSession(key: key) }
    public func purgeSessions(expiredBefore now: Timestamp) async throws { try await sessions.purgeSessions(expiredBefore: now) }
    private var sessions: SQLiteSessionRecords { SQLiteSessionRecords(pool) }

    /// SQLite runs inside the process: nothing to run, migrated when opened.
    public func run() async {}

    /// Builds or completes the rollups where an upgrade or a changed offset asks for it
    /// (`RollupMaintenance.prepare`); the schema was migrated when the store opened.
    public func prepare() async throws {
        try await RollupMaintenance.prepare(self)
    }

    public func rollupSetting(_ key: String) async throws -> String? {
        try await pool.read { db in try String.fetchOne(db, sql: "SELECT value FROM rollup_settings WHERE key = ?", arguments: [key]) }
    }

    public func setRollupSetting(_ key: String, _ value: String) async throws {
        try await pool.write { db in try db.execute(sql: "INSERT OR REPLACE INTO rollup_settings(key, value) VALUES (?, ?)", arguments: [key, value]) }
    }

    public func close() async throws { try pool.close() }
}
