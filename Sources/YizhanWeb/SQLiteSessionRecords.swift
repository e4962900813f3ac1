import Foundation
import GRDB
import YizhanCore

/// Browser sessions in a SQLite database (the collector's collector.db, the station's
/// station.db): one table, the same for both.
public struct SQLiteSessionRecords: SessionRecords {
    /// The table, for the owner's migrations.
    public static let schema = "CREATE TABLE sessions (key TEXT PRIMARY KEY, value BLOB NOT NULL, expires_ms INTEGER NOT NULL)"

    let writer: any DatabaseWriter
    public init(_ writer: any DatabaseWriter) { self.writer = writer }

    public func putSession(key: String, value: [UInt8], expires: Timestamp) async throws {
        try await writer.write { db in
            try db.execute(sql: "INSERT INTO sessions(key, value, expires_ms) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms",
                           arguments: [key, Data(value), expires.millisecondsSinceEpoch])
        }
    }

    public func session(key: String) async throws -> (value: [UInt8], expires: Timestamp)? {
        try await writer.read { db in
            try Row.fetchOne(db, sql: "SELECT value, expires_ms FROM sessions WHERE key = ?", arguments: [key]).map { row in
                (Array(row["value"] as Data), Timestamp(millisecondsSinceEpoch: row["expires_ms"]))
            }
        }
    }

    public func removeSession(key: String) async throws {
        try await writer.write { db in try db.execute(sql: "DELETE FROM sessions WHERE key = ?", arguments: [key]) }
    }

    public func purgeSessions(expiredBefore now: Timestamp) async throws {
        try await writer.write { db in try db.execute(sql: "DELETE FROM sessions WHERE expires_ms < ?", arguments: [now.millisecondsSinceEpoch]) }
    }
}
