import Foundation
import GRDB
import YizhanCore
import YizhanWeb

/// What the uplink keeps in the log: the collector's watermark, quarantined ranges,
/// retention of what the collector has, and the size of the file.
extension EventStore {
    // MARK: uplink

    /// The collector's acknowledged watermark (durable).
    public func acknowledged() throws -> Int64 {
        try pool.read { db in
            Int64(try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'uplink_acknowledged'") ?? "0") ?? 0
        }
    }

    /// Records the watermark; it only moves forward.
    public func setAcknowledged(_ seq: Int64) throws {
        try pool.write { db in
            try db.execute(sql: """
                UPDATE meta SET value = CAST(max(CAST(value AS INTEGER), ?) AS TEXT) WHERE key = 'uplink_acknowledged'
                """, arguments: [seq])
        }
    }

    public func quarantine(first: Int64, last: Int64, reason: String, now: Timestamp) throws {
        try pool.write { db in
            for seq in first...last {
                try db.execute(sql: "INSERT OR REPLACE INTO quarantined_events(seq, reason, time_ms) VALUES (?, ?, ?)",
                               arguments: [seq, reason, now.millisecondsSinceEpoch])
            }
        }
    }

    public func quarantinedCount() throws -> Int {
        try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM quarantined_events") ?? 0 }
    }

    /// Deletes acknowledged events older than `before` (never anything the collector lacks,
    /// never a quarantined event). Returns how many went.
    @discardableResult
    public func purgeAcknowledged(before: Timestamp) throws -> Int {
        try pool.write { db in
            try db.execute(sql: """
                DELETE FROM events WHERE time_ms < ?
                  AND seq <= (SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'uplink_acknowledged')
                  AND seq NOT IN (SELECT seq FROM quarantined_events)
                  AND seq NOT IN (\(Self.latestAmenityChanges))
                """, arguments: [before.millisecondsSinceEpoch])
            return db.changesCount
        }
    }

    /// Returns the pages freed by purges to the file system.
    public func releaseFreePages() throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA incremental_vacuum") }
    }

    /// Bytes used by the database and its WAL.
    public func sizeInBytes() -> Int64 {
        [path, path + "-wal"].reduce(Int64(0)) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value ?? 0
            return total + size
        }
    }
}
