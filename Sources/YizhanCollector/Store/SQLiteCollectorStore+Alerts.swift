import Foundation
import GRDB
import YizhanCore

/// Alerts and their outbox in SQLite. One collector writes a SQLite file, and each write
/// transaction runs alone, so a claim needs no row locks.
extension SQLiteCollectorStore {
    static let alertsSchema = """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT, station_id TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL, since_ms INTEGER NOT NULL, opened_ms INTEGER NOT NULL, resolved_ms INTEGER,
            detail TEXT NOT NULL, message_zh TEXT NOT NULL, message_en TEXT NOT NULL
        );
        CREATE UNIQUE INDEX alerts_one_open ON alerts(station_id, kind, subject) WHERE state = 'open';
        CREATE INDEX alerts_resolved ON alerts(resolved_ms) WHERE resolved_ms IS NOT NULL;
        CREATE TABLE alert_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, alert_id INTEGER NOT NULL REFERENCES alerts(id), state TEXT NOT NULL,
            url TEXT NOT NULL, format TEXT NOT NULL, body TEXT NOT NULL, created_ms INTEGER NOT NULL,
            next_attempt_ms INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until_ms INTEGER,
            delivered_ms INTEGER, failed_ms INTEGER, last_error TEXT
        );
        CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_ms) WHERE delivered_ms IS NULL AND failed_ms IS NULL;
        CREATE INDEX alert_outbox_alert ON alert_outbox(alert_id);
        """

    private static func enqueue(_ db: Database, alert: Int64, state: AlertState, deliveries: [AlertDelivery], at: Timestamp) throws {
        for d in deliveries {
            try db.execute(sql: """
                INSERT INTO alert_outbox(alert_id, state, url, format, body, created_ms, next_attempt_ms) VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [alert, state.rawValue, d.url, d.format.rawValue, d.body, at.millisecondsSinceEpoch, at.millisecondsSinceEpoch])
        }
    }

    public func openAlert(_ key: AlertKey, since: Timestamp, at: Timestamp, detail: String, messageZh: String, messageEn: String,
                          deliveries: [AlertDelivery]) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                INSERT INTO alerts(station_id, kind, subject, state, since_ms, opened_ms, detail, message_zh, message_en)
                VALUES (?, ?, ?, 'open', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING
                """, arguments: [key.station, key.kind.rawValue, key.subject, since.millisecondsSinceEpoch, at.millisecondsSinceEpoch,
                                 detail, messageZh, messageEn])
            guard db.changesCount > 0 else { return false }
            try Self.enqueue(db, alert: db.lastInsertedRowID, state: .open, deliveries: deliveries, at: at)
            return true
        }
    }

    public func resolveAlert(_ key: AlertKey, at: Timestamp, deliveries: [AlertDelivery]) async throws -> Bool {
        try await pool.write { db in
            guard let id = try Int64.fetchOne(db, sql: """
                UPDATE alerts SET state = 'resolved', resolved_ms = ? WHERE station_id = ? AND kind = ? AND subject = ? AND state = 'open'
                RETURNING id
                """, arguments: [at.millisecondsSinceEpoch, key.station, key.kind.rawValue, key.subject]) else { return false }
            try Self.enqueue(db, alert: id, state: .resolved, deliveries: deliveries, at: at)
            return true
        }
    }

    public func alerts(_ filter: AlertStateFilter, limit: Int) async throws -> [AlertRecord] {
        let condition = filter == .all ? "" : "WHERE a.state = '\(filter.rawValue)'"
        return try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.*,
                    (SELECT count(*) FROM alert_outbox o WHERE o.alert_id = a.id AND o.delivered_ms IS NULL AND o.failed_ms IS NULL) AS pending,
                    (SELECT count(*) FROM alert_outbox o WHERE o.alert_id = a.id AND o.failed_ms IS NOT NULL) AS failed,
                    (SELECT o.last_error FROM alert_outbox o WHERE o.alert_id = a.id AND o.delivered_ms IS NULL AND o.last_error IS NOT NULL
                     ORDER BY o.id DESC LIMIT 1) AS last_error
                FROM alerts a \(condition) ORDER BY a.opened_ms DESC, a.id DESC LIMIT ?
                """, arguments: [limit]).map(Self.alertRecord)
        }
    }

    static func alertRecord(_ row: Row) -> AlertRecord {
        let resolved: Int64? = row["resolved_ms"]
        return AlertRecord(id: row["id"], key: AlertKey(station: row["station_id"], kind: AlertKind(rawValue: row["kind"]) ?? .stationOffline,
                                                        subject: row["subject"]),
                           state: AlertState(rawValue: row["state"]) ?? .open, since: Timestamp(millisecondsSinceEpoch: row["since_ms"]),
                           openedAt: Timestamp(millisecondsSinceEpoch: row["opened_ms"]), resolvedAt: resolved.map(Timestamp.init(millisecondsSinceEpoch:)),
                           detail: row["detail"], messageZh: row["message_zh"], messageEn: row["message_en"],
                           pendingDeliveries: row["pending"], failedDeliveries: row["failed"], lastDeliveryError: row["last_error"])
    }

    public func alertsResolved(since: Timestamp) async throws -> [AlertKey: Timestamp] {
        try await pool.read { db in
            var out: [AlertKey: Timestamp] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT station_id, kind, subject, max(resolved_ms) AS at FROM alerts WHERE resolved_ms >= ? GROUP BY station_id, kind, subject
                """, arguments: [since.millisecondsSinceEpoch]) {
                guard let kind = AlertKind(rawValue: row["kind"]) else { continue }
                out[AlertKey(station: row["station_id"], kind: kind, subject: row["subject"])] = Timestamp(millisecondsSinceEpoch: row["at"])
            }
            return out
        }
    }

    public func claimDeliveries(owner: String, now: Timestamp, lease: Duration, limit: Int) async throws -> [ClaimedDelivery] {
        let until = (now + lease).millisecondsSinceEpoch, nowMs = now.millisecondsSinceEpoch
        return try await pool.write { db in
            try Row.fetchAll(db, sql: """
                UPDATE alert_outbox SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT o.id FROM alert_outbox o
                    WHERE o.delivered_ms IS NULL AND o.failed_ms IS NULL AND o.next_attempt_ms <= ?
                      AND (o.lease_until_ms IS NULL OR o.lease_until_ms <= ?)
                      AND NOT EXISTS (SELECT 1 FROM alert_outbox e WHERE e.alert_id = o.alert_id AND e.url = o.url AND e.id < o.id
                                      AND e.delivered_ms IS NULL AND e.failed_ms IS NULL)
                    ORDER BY o.id LIMIT ?)
                RETURNING id, alert_id, state, url, format, body, attempts
                """, arguments: [owner, until, nowMs, nowMs, limit]).map { row in
                ClaimedDelivery(id: row["id"], alertID: row["alert_id"], state: AlertState(rawValue: row["state"]) ?? .open,
                                delivery: AlertDelivery(url: row["url"], format: WebhookFormat(rawValue: row["format"]) ?? .generic, body: row["body"]),
                                attempts: row["attempts"])
            }.sorted { $0.id < $1.id }
        }
    }

    public func deliveryDone(_ id: Int64, owner: String, at: Timestamp) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: """
                UPDATE alert_outbox SET delivered_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = NULL
                WHERE id = ? AND lease_owner = ? AND delivered_ms IS NULL
                """, arguments: [at.millisecondsSinceEpoch, id, owner])
            return db.changesCount > 0
        }
    }

    public func deliveryFailed(_ id: Int64, owner: String, error: String, at: Timestamp, retryAt: Timestamp?) async throws {
        try await pool.write { db in
            if let retryAt {
                try db.execute(sql: """
                    UPDATE alert_outbox SET next_attempt_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = ? WHERE id = ? AND lease_owner = ?
                    """, arguments: [retryAt.millisecondsSinceEpoch, error, id, owner])
            } else {
                try db.execute(sql: """
                    UPDATE alert_outbox SET failed_ms = ?, lease_owner = NULL, lease_until_ms = NULL, last_error = ? WHERE id = ? AND lease_owner = ?
                    """, arguments: [at.millisecondsSinceEpoch, error, id, owner])
            }
        }
    }

    public func eventCount(station: String, seqs range: ClosedRange<Int64>) async throws -> Int64 {
        try await pool.read { db in
            try Int64.fetchOne(db, sql: "SELECT count(*) FROM events WHERE station_id = ? AND seq BETWEEN ? AND ?",
                               arguments: [station, range.lowerBound, range.upperBound]) ?? 0
        }
    }

    public func eventSeqs(station: String, seqs range: ClosedRange<Int64>) async throws -> [Int64] {
        try await pool.read { db in
            try Int64.fetchAll(db, sql: "SELECT seq FROM events WHERE station_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
                               arguments: [station, range.lowerBound, range.upperBound])
        }
    }
}
