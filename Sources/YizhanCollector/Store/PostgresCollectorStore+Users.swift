import Logging
import NIOCore
import PostgresNIO
import YizhanCore

/// Users and browser sessions in PostgreSQL.
extension PostgresCollectorStore {
    public func addUser(_ user: UserRecord, passwordHash: String, tokenHash: String) async throws {
        try await transaction { db in
            for s in user.stations {
                let known = try await db.query("SELECT 1 FROM stations WHERE id = \(s)", logger: logger).collect()
                if known.isEmpty { throw CollectorStoreError.unknownStation(s) }
            }
            let inserted = try await db.query("""
                INSERT INTO users(name, role, password_hash, token_hash, region)
                VALUES (\(user.name), \(user.role.rawValue), \(passwordHash), \(tokenHash), \(user.region?.description))
                ON CONFLICT (name) DO NOTHING RETURNING name
                """, logger: logger).collect()
            if inserted.isEmpty { throw CollectorStoreError.duplicateUser(user.name) }
            for s in user.stations {
                try await db.query("INSERT INTO user_stations(user_name, station_id) VALUES (\(user.name), \(s))", logger: logger)
            }
        }
    }

    public func user(named name: String) async throws -> (user: UserRecord, passwordHash: String)? {
        var found: (String, String, String?)?
        for try await row in try await client.query("SELECT role, password_hash, region FROM users WHERE name = \(name)", logger: logger)
            .decode((String, String, String?).self) { found = row }
        guard let (role, hash, region) = found else { return nil }
        var stations: [String] = []
        for try await s in try await client.query("""
            SELECT station_id FROM user_stations WHERE user_name = \(name) ORDER BY station_id COLLATE "C"
            """, logger: logger).decode(String.self) {
            stations.append(s)
        }
        return (UserRecord(name: name, role: UserRole(rawValue: role) ?? .manager, stations: stations,
                           region: region.flatMap(RegionPath.init(parsing:))), hash)
    }

    public func user(forTokenHash tokenHash: String) async throws -> UserRecord? {
        var found: (String, String, String?)?
        for try await row in try await client.query("SELECT name, role, region FROM users WHERE token_hash = \(tokenHash)", logger: logger)
            .decode((String, String, String?).self) { found = row }
        guard let (name, role, region) = found else { return nil }
        var stations: [String] = []
        for try await s in try await client.query("""
            SELECT station_id FROM user_stations WHERE user_name = \(name) ORDER BY station_id COLLATE "C"
            """, logger: logger).decode(String.self) {
            stations.append(s)
        }
        return UserRecord(name: name, role: UserRole(rawValue: role) ?? .manager, stations: stations, region: region.flatMap(RegionPath.init(parsing:)))
    }

    // MARK: browser sessions

    public func putSession(key: String, value: [UInt8], expires: Timestamp) async throws {
        try await client.query("""
            INSERT INTO sessions(key, value, expires_ms) VALUES (\(key), \(ByteBuffer(bytes: value)), \(expires.millisecondsSinceEpoch))
            ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms
            """, logger: logger)
    }

    public func session(key: String) async throws -> (value: [UInt8], expires: Timestamp)? {
        for try await (value, expires) in try await client.query("SELECT value, expires_ms FROM sessions WHERE key = \(key)", logger: logger)
            .decode((ByteBuffer, Int64).self) {
            return (Array(buffer: value), Timestamp(millisecondsSinceEpoch: expires))
        }
        return nil
    }

    public func removeSession(key: String) async throws {
        try await client.query("DELETE FROM sessions WHERE key = \(key)", logger: logger)
    }

    public func purgeSessions(expiredBefore now: Timestamp) async throws {
        try await client.query("DELETE FROM sessions WHERE expires_ms < \(now.millisecondsSinceEpoch)", logger: logger)
    }
}
