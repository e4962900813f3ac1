import Foundation
import GRDB
import YizhanCore
import YizhanWeb

/// Who may log in to the manager pages, and their browser sessions.
extension EventStore {
    // MARK: browser sessions (SessionRecords)

    public func putSession(key: String, value: [UInt8], expires: Timestamp) async throws {
        try await sessions.putSession(key: key, value: value, expires: expires)
    }
    public func session(key: String) async throws -> (value: [UInt8], expires: Timestamp)? { try await sessions.session(key: key) }
    public func removeSession(key: String) async throws { try await sessions.removeSession(key: key) }
    public func purgeSessions(expiredBefore now: Timestamp) async throws { try await sessions.purgeSessions(expiredBefore: now) }
    private var sessions: SQLiteSessionRecords { SQLiteSessionRecords(pool) }

    // MARK: managers

    public func setManagerPassword(name: String, hash: String, at time: Timestamp = .now()) throws {
        try pool.write { db in
            try db.execute(sql: """
                INSERT INTO managers(name, password_hash, updated_ms) VALUES (?, ?, ?)
                ON CONFLICT(name) DO UPDATE SET password_hash = excluded.password_hash, updated_ms = excluded.updated_ms
                """, arguments: [name, hash, time.millisecondsSinceEpoch])
        }
    }

    public func managerPasswordHash(name: String) throws -> String? {
        try pool.read { db in try String.fetchOne(db, sql: "SELECT password_hash FROM managers WHERE name = ?", arguments: [name]) }
    }

    public func managerNames() throws -> [String] {
        try pool.read { db in try String.fetchAll(db, sql: "SELECT name FROM managers ORDER BY name") }
    }
}
