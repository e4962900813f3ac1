import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization
import YizhanCore

/// The shared collector store: PostgreSQL through PostgresNIO's connection pool. Several
/// stateless collectors may use one database: ingest is idempotent under the unique key
/// (station, seq), and migrations run under an advisory lock.
public final class PostgresCollectorStore: CollectorStore {
    let client: PostgresClient
    let logger: Logger
    /// The offset the rollups' local days are kept in (`[reports] utc_offset`).
    public let reportOffset: UTCOffset
    /// Month partitions of `events` known to exist (UTC month starts, ms).
    let knownPartitions = Mutex(Set<Int64>())
    /// Batches waiting for the next group commit (PostgresCollectorStore+GroupIngest.swift).
    let ingestQueue = Mutex(IngestQueue())

    /// `postgres://user[:password]@host[:port]/database[?sslmode=disable|require][&host=/socket/dir]`.
    /// A `host` query item (or an empty host) means a unix socket in that directory, as libpq does.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql" else {
            throw PostgresURLError(url: url, why: "expected postgres://user@host/database")
        }
        let items = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, b in b })
        let user = c.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? "postgres"
        let password = c.percentEncodedPassword.flatMap { $0.removingPercentEncoding }
        var database = String(c.path.drop(while: { $0 == "/" }))
        if database.isEmpty { database = user }
        let port = c.port ?? Int(items["port"] ?? "") ?? 5432
        var config: PostgresClient.Configuration
        if let dir = items["host"], dir.hasPrefix("/") {
            config = .init(unixSocketPath: "\(dir)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else if let host = c.host, !host.isEmpty {
            let local = host == "localhost" || host == "127.0.0.1" || host == "::1"
            let tls: PostgresClient.Configuration.TLS
            switch items["sslmode"] ?? (local ? "disable" : "require") {
            case "disable": tls = .disable
            case "prefer": tls = .prefer(.makeClientConfiguration())
            case "require", "verify-full": tls = .require(.makeClientConfiguration())
            case let other: throw PostgresURLError(url: url, why: "sslmode \(other) is not one of disable, prefer, require, verify-full")
            }
            config = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        } else {
            config = .init(unixSocketPath: "/run/postgresql/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        config.options.maximumConnections = Int(items["pool"] ?? "") ?? 8
        return config
    }

    /// Builds the connection pool; nothing connects until `run()` runs (as a service of the
    /// collector's ServiceGroup, or inside `CollectorStores.with`), and `prepare()` then
    /// migrates the schema.
    public init(url: String, logger: Logger, reportOffset: UTCOffset = .china) throws {
        self.logger = logger
        self.reportOffset = reportOffset
        client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
    }

    /// Runs the connection pool until cancelled.
    public func run() async { await client.run() }

    /// Migrates the schema, makes the coming months' partitions, then builds or completes
    /// the rollups where an upgrade or a changed offset asks for it (`RollupMaintenance.prepare`).
    public func prepare() async throws {
        try await migrate()
        try await makePartitionsAhead()
        try await RollupMaintenance.prepare(self) { logger.notice("PostgreSQL: \($0)") }
    }

    public func rollupSetting(_ key: String) async throws -> String? {
        var value: String?
        for try await v in try await client.query("SELECT value FROM rollup_settings WHERE key = \(key)", logger: logger).decode(String.self) {
            value = v
        }
        return value
    }

    public func setRollupSetting(_ key: String, _ value: String) async throws {
        try await client.query("""
            INSERT INTO rollup_settings(key, value) VALUES (\(key), \(value)) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """, logger: logger)
    }

    /// A transaction whose own errors (a duplicate, an unknown station) come out as they were
    /// thrown, not wrapped in PostgresTransactionError: both stores throw the same errors.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        do {
            return try await client.withTransaction(logger: logger) { db in try await body(db) }
        } catch let e as PostgresTransactionError {
            if let inner = e.closureError as? CollectorStoreError { throw inner }
            if let inner = e.closureError as? SchemaNewerThanBinaryError { throw inner }  // migrate(): the operator's message, unwrapped
            throw e
        }
    }

    public func close() async throws {}

    static let migrations: [(String, [String])] = [
        ("v1", [
            """
            CREATE TABLE stations (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, district TEXT, capacity INTEGER NOT NULL,
                latitude DOUBLE PRECISION, longitude DOUBLE PRECISION, token_hash TEXT NOT NULL UNIQUE,
                occupancy INTEGER NOT NULL DEFAULT 0, last_seen_ms BIGINT, last_ack BIGINT NOT NULL DEFAULT 0, live TEXT
            )
            """,
            """
            CREATE TABLE events (
                station_id TEXT NOT NULL REFERENCES stations(id), seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
                kind TEXT NOT NULL, card_key TEXT, reader TEXT, occupancy INTEGER NOT NULL, stay_seconds BIGINT, detail TEXT,
                PRIMARY KEY (station_id, seq)
            )
            """,
            "CREATE INDEX events_time ON events(station_id, time_ms)",
            "CREATE INDEX events_amenity ON events(station_id, time_ms) WHERE kind = 'amenity'",
            "CREATE TABLE users (name TEXT PRIMARY KEY, role TEXT NOT NULL, password_hash TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE)",
            """
            CREATE TABLE user_stations (
                user_name TEXT NOT NULL REFERENCES users(name), station_id TEXT NOT NULL, PRIMARY KEY (user_name, station_id)
            )
            """,
        ]),
        ("v3-sessions", ["CREATE TABLE sessions (key TEXT PRIMARY KEY, value BYTEA NOT NULL, expires_ms BIGINT NOT NULL)"]),
        // Regions, and rollups kept at ingest (filled from the raw log by `prepare`).
        ("v4-regions-rollups", rollupMigration),
        // Raw events partitioned by month (PostgresCollectorStore+Partitions.swift).
        ("v5-partitioned-events", partitionMigration),
        // Office settings, notices and the audit log (PostgresCollectorStore+Office.swift).
        ("v6-office-settings", officeMigration),
        // Alerts with their delivery outbox.
        ("v7-alerts", alertsMigration),
        // A revision of the station list, for the collector's in-memory copy (StationRosterStore.swift).
        ("v8-station-roster", StationRosterSchema.postgres),
        // Station weeks and months (StationLevels.swift), folded from the days by `prepare`.
        ("v9-station-levels", stationLevelsMigration),
        // `last_ack` is the highest sequence number a station has stored: the replay guard
        // skips events above it (PostgresCollectorStore+GroupIngest.swift). It was the last
        // event's of the newest batch; over HTTP a batch's numbers increase, so this changes
        // nothing there, but a database written otherwise gets the invariant here. (PostgreSQL
        // only: SQLite's primary key is the station and number. Named to sort after v9, as the
        // migrations run in the order of their names.)
        ("v9b-last-ack-highest", ["""
            UPDATE stations s SET last_ack = m.seq
            FROM (SELECT id, (SELECT max(e.seq) FROM events e WHERE e.station_id = st.id) AS seq FROM stations st) AS m
            WHERE m.id = s.id AND m.seq > s.last_ack
            """]),
        // The station levels' time index covers a ranking's columns (PostgresCollectorStore+Rollups.swift).
        ("v9c-ranking-index", rankingIndexMigration),
    ]

    /// Applies what is missing, one collector at a time (an advisory lock held by the transaction).
    private func migrate() async throws {
        try await transaction { db in
            try await db.query("SELECT pg_advisory_xact_lock(7260451)", logger: logger)
            try await db.query("CREATE TABLE IF NOT EXISTS yizhan_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                               logger: logger)
            var applied = Set<String>()
            for try await name in try await db.query("SELECT name FROM yizhan_migrations", logger: logger).decode(String.self) {
                applied.insert(name)
            }
            // Forward only: a schema a newer collector migrated is refused, not written to.
            try SchemaCompatibility.check(applied: applied, known: Self.migrations.map(\.0), database: "PostgreSQL database")
            for (name, statements) in Self.migrations where !applied.contains(name) {
                for sql in statements { try await db.query(PostgresQuery(unsafeSQL: sql), logger: logger) }
                try await db.query("INSERT INTO yizhan_migrations(name) VALUES (\(name))", logger: logger)
                logger.info("PostgreSQL schema: applied \(name)")
            }
        }
    }

    public func addStation(_ s: StationRecord, tokenHash: String) async throws {
        let rows = try await client.query("""
            INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash, region, address)
            VALUES (\(s.id), \(s.name), \(s.district), \(s.capacity), \(s.latitude), \(s.longitude), \(tokenHash), \(s.region.description), \(s.address))
            ON CONFLICT (id) DO NOTHING RETURNING id
            """, logger: logger)
        if try await rows.collect().isEmpty { throw CollectorStoreError.duplicateStation(s.id) }
    }

    public func importStations(_ stations: [StationRecord], tokenHashes: [String: String]) async throws -> [StationImportResult] {
        // A few statements per thousands of stations rather than two round trips each: a
        // national list of 186,000 took 6.5 minutes one station at a time (docs/benchmarks.md).
        // Absent text and coordinates travel as '' and NaN (arrays of optionals do not bind).
        try await transaction { db in
            var out: [StationImportResult] = []
            out.reserveCapacity(stations.count)
            var start = 0
            while start < stations.count {
                // A chunk's ids are distinct: a station listed again lands in a later chunk and
                // updates what the earlier one added, as one at a time would.
                var end = start, ids = Set<String>()
                while end < stations.count, end - start < Self.importChunk, ids.insert(stations[end].id).inserted { end += 1 }
                let chunk = stations[start..<end]
                start = end
                var old: [String: String] = [:]
                for try await (id, region) in try await db.query(
                    "SELECT id, region FROM stations WHERE id = ANY(\(chunk.map(\.id))::text[]) ORDER BY id FOR UPDATE", logger: logger
                ).decode((String, String).self) { old[id] = region }
                let updated = chunk.filter { old[$0.id] != nil }, added = chunk.filter { old[$0.id] == nil }
                var hashes: [String] = []
                for s in added {
                    guard let hash = tokenHashes[s.id] else { throw CollectorStoreError.unknownStation(s.id) }
                    hashes.append(hash)
                }
                func columns(_ list: [StationRecord]) -> (ids: [String], names: [String], regions: [String], capacities: [Int64],
                                                           latitudes: [Double], longitudes: [Double], addresses: [String]) {
                    (list.map(\.id), list.map(\.name), list.map(\.region.description), list.map { Int64($0.capacity) },
                     list.map { $0.latitude ?? .nan }, list.map { $0.longitude ?? .nan }, list.map { $0.address ?? "" })
                }
                if !updated.isEmpty {
                    let c = columns(updated)
                    try await db.query("""
                        UPDATE stations SET name = u.n, region = u.r, capacity = u.c, latitude = NULLIF(u.la, 'NaN'), longitude = NULLIF(u.lo, 'NaN'),
                            address = NULLIF(u.a, '')
                        FROM unnest(\(c.ids)::text[], \(c.names)::text[], \(c.regions)::text[], \(c.capacities)::bigint[], \(c.latitudes)::float8[],
                                    \(c.longitudes)::float8[], \(c.addresses)::text[]) AS u(i, n, r, c, la, lo, a)
                        WHERE stations.id = u.i
                        """, logger: logger)
                }
                if !added.isEmpty {
                    let c = columns(added), districts = added.map { $0.district ?? "" }
                    try await db.query("""
                        INSERT INTO stations(id, name, district, capacity, latitude, longitude, token_hash, region, address)
                        SELECT i, n, NULLIF(d, ''), c, NULLIF(la, 'NaN'), NULLIF(lo, 'NaN'), h, r, NULLIF(a, '')
                        FROM unnest(\(c.ids)::text[], \(c.names)::text[], \(districts)::text[], \(c.capacities)::bigint[], \(c.latitudes)::float8[],
                                    \(c.longitudes)::float8[], \(hashes)::text[], \(c.regions)::text[], \(c.addresses)::text[]) AS s(i, n, d, c, la, lo, h, r, a)
                        """, logger: logger)
                }
                for s in chunk {
                    if let o = old[s.id] {
                        let before = RegionPath(parsing: o) ?? .nation
                        out.append(StationImportResult(id: s.id, added: false, movedFrom: before == s.region ? nil : before))
                    } else {
                        out.append(StationImportResult(id: s.id, added: true, movedFrom: nil))
                    }
                }
            }
            return out
        }
    }

    /// Stations per statement when importing.
    static let importChunk = 5000

    public func station(forTokenHash tokenHash: String) async throws -> String? {
        for try await id in try await client.query("SELECT id FROM stations WHERE token_hash = \(tokenHash)", logger: logger).decode(String.self) {
            return id
        }
        return nil
    }

    public func stationTokens() async throws -> [(tokenHash: String, station: String)] {
        var out: [(tokenHash: String, station: String)] = []
        for try await (hash, id) in try await client.query("SELECT token_hash, id FROM stations", logger: logger).decode((String, String).self) {
            out.append((hash, id))
        }
        return out
    }

    public func recordHeartbeats(_ heartbeats: [HeartbeatRecord]) async throws {
        guard !heartbeats.isEmpty else { return }
        // Sorted by station so two collectors flushing at once lock rows in the same order.
        let sorted = heartbeats.sorted { $0.station < $1.station }
        let ids = sorted.map(\.station), occ = sorted.map { Int64($0.occupancy) }
        let seen = sorted.map(\.at.millisecondsSinceEpoch), live = sorted.map(\.live.json)
        try await client.query("""
            UPDATE stations SET occupancy = h.o, last_seen_ms = h.t, live = h.l
            FROM unnest(\(ids)::text[], \(occ)::bigint[], \(seen)::bigint[], \(live)::text[]) AS h(id, o, t, l)
            WHERE stations.id = h.id AND (stations.last_seen_ms IS NULL OR stations.last_seen_ms <= h.t)
            """, logger: logger)
    }

    public func stations() async throws -> [StationRecord] { try await stations(heardSince: nil) }

    public func stations(heardSince: Timestamp?) async throws -> [StationRecord] {
        var out: [StationRecord] = []
        let since = heardSince?.millisecondsSinceEpoch ?? Int64.min
        let rows = try await client.query("""
            SELECT id, name, district, capacity, latitude, longitude, occupancy, last_seen_ms, last_ack, live, region, address
            FROM stations WHERE \(heardSince == nil) OR last_seen_ms >= \(since) ORDER BY id COLLATE "C"
            """, logger: logger)
        for try await (id, name, district, capacity, lat, lon, occupancy, lastSeen, lastAck, live, region, address)
            in rows.decode((String, String, String?, Int, Double?, Double?, Int, Int64?, Int64, String?, String, String?).self) {
            out.append(StationRecord(id: id, name: name, district: district, region: RegionPath(parsing: region) ?? .nation, address: address,
                                     capacity: capacity, latitude: lat, longitude: lon,
                                     occupancy: occupancy, lastSeen: lastSeen.map(Timestamp.init(millisecondsSinceEpoch:)),
                                     lastAck: lastAck, live: LiveState.decode(live)))
        }
        return out
    }

    public func eventCount(station: String) async throws -> Int {
        for try await n in try await client.query("SELECT count(*) FROM events WHERE station_id = \(station)", logger: logger).decode(Int64.self) {
            return Int(n)
        }
        return 0
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public var url: String
    public var why: String
    public var description: String { "storage url \(url): \(why)" }
}
