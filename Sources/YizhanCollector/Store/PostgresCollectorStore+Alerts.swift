import Logging
import PostgresNIO
import YizhanCore

/// Alerts and their outbox in PostgreSQL, shared by several collectors: opening is
/// idempotent under the unique index on open alerts, and a claim takes due rows with
/// `FOR UPDATE SKIP LOCKED` and leases them, so one collector sends each.
extension PostgresCollectorStore {
    static let alertsMigration = [
        """
        CREATE TABLE alerts (
            id BIGSERIAL PRIMARY KEY, station_id TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL DEFAULT '',
            state TEXT NOT NULL, since_ms BIGINT NOT NULL, opened_ms BIGINT NOT NULL, resolved_ms BIGINT,
            detail TEXT NOT NULL, message_zh TEXT NOT NULL, message_en TEXT NOT NULL
        )
        """,
        "CREATE UNIQUE INDEX alerts_one_open ON alerts(station_id, kind, subject) WHERE state = 'open'",
        "CREATE INDEX alerts_resolved ON alerts(resolved_ms) WHERE resolved_ms IS NOT NULL",
        """
        CREATE TABLE alert_outbox (
            id BIGSERIAL PRIMARY KEY, alert_id BIGINT NOT NULL REFERENCES alerts(id), state TEXT NOT NULL,
            url TEXT NOT NULL, format TEXT NOT NULL, body TEXT NOT NULL, created_ms BIGINT NOT NULL,
            next_attempt_ms BIGINT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until_ms BIGINT,
            delivered_ms BIGINT, failed_ms BIGINT, last_error TEXT
        )
        """,
        "CREATE INDEX alert_outbox_due ON alert_outbox(next_attempt_ms) WHERE delivered_ms IS NULL AND failed_ms IS NULL",
        "CREATE INDEX alert_outbox_alert ON alert_outbox(alert_id)",
    ]

    private func enqueue(_ db: PostgresConnection, alert: Int64, state: AlertState, deliveries: [AlertDelivery], at: Timestamp) async throws {
        for d in deliveries {
            try await db.query("""
                INSERT INTO alert_outbox(alert_id, state, url, format, body, created_ms, next_attempt_ms)
                VALUES (\(alert), \(state.rawValue), \(d.url), \(d.format.rawValue), \(d.body), \(at.millisecondsSinceEpoch), \(at.millisecondsSinceEpoch))
                """, logger: logger)
        }
    }

    public func openAlert(_ key: AlertKey, since: Timestamp, at: Timestamp, detail: String, messageZh: String, messageEn: String,
                          deliveries: [AlertDelivery]) async throws -> Bool {
        try await transaction { db in
            var id: Int64?
            for try await v in try await db.query("""
                INSERT INTO alerts(station_id, kind, subject, state, since_ms, opened_ms, detail, message_zh, message_en)
                VALUES (\(key.station), \(key.kind.rawValue), \(key.subject), 'open', \(since.millisecondsSinceEpoch), \(at.millisecondsSinceEpoch),
                        \(detail), \(messageZh), \(messageEn))
                ON CONFLICT DO NOTHING RETURNING id
                """, logger: logger).decode(Int64.self) { id = v }
            guard let id else { return false }
            try await enqueue(db, alert: id, state: .open, deliveries: deliveries, at: at)
            return true
        }
    }

    public func resolveAlert(_ key: AlertKey, at: Timestamp, deliveries: [AlertDelivery]) async throws -> Bool {
        try await transaction { db in
            var id: Int64?
            for try await v in try await db.query("""
                UPDATE alerts SET state = 'resolved', resolved_ms = \(at.millisecondsSinceEpoch)
                WHERE station_id = \(key.station) AND kind = \(key.kind.rawValue) AND subject = \(key.subject) AND state = 'open'
                RETURNING id
                """, logger: logger).decode(Int64.self) { id = v }
            guard let id else { return false }
            try await enqueue(db, alert: id, state: .resolved, deliveries: deliveries, at: at)
            return true
        }
    }

    public func alerts(_ filter: AlertStateFilter, limit: Int) async throws -> [AlertRecord] {
        let states = filter == .all ? ["open", "resolved"] : [filter.rawValue]
        let rows = try await client.query("""
            SELECT a.id, a.station_id, a.kind, a.subject, a.state, a.since_ms, a.opened_ms, a.resolved_ms, a.detail, a.message_zh, a.message_en,
                (SELECT count(*) FROM alert_outbox o WHERE o.alert_id = a.id AND o.delivered_ms IS NULL AND o.failed_ms IS NULL),
                (SELECT count(*) FROM alert_outbox o WHERE o.alert_id = a.id AND o.failed_ms IS NOT NULL),
                (SELECT o.last_error FROM alert_outbox o WHERE o.alert_id = a.id AND o.delivered_ms IS NULL AND o.last_error IS NOT NULL
                 ORDER BY o.id DESC LIMIT 1)
            FROM alerts a WHERE a.state = ANY(\(states)::text[]) ORDER BY a.opened_ms DESC, a.id DESC LIMIT \(limit)
            """, logger: logger)
        var out: [AlertRecord] = []
        for try await (id, station, kind, subject, state, since, opened, resolved, detail, zh, en, pending, failed, error)
            in rows.decode((Int64, String, String, String, String, Int64, Int64, Int64?, String, String, String, Int64, Int64, String?).self) {
            out.append(AlertRecord(id: id, key: AlertKey(station: station, kind: AlertKind(rawValue: kind) ?? .stationOffline, subject: subject),
                                   state: AlertState(rawValue: state) ?? .open, since: Timestamp(millisecondsSinceEpoch: since),
                                   openedAt: Timestamp(millisecondsSinceEpoch: opened), resolvedAt: resolved.map(Timestamp.init(millisecondsSinceEpoch:)),
                                   detail: detail, messageZh: zh, messageEn: en, pendingDeliveries: Int(pending), failedDeliveries: Int(failed),
                                   lastDeliveryError: error))
        }
        return out
    }

    public func alertsResolved(since: Timestamp) async throws -> [AlertKey: Timestamp] {
        var out: [AlertKey: Timestamp] = [:]
        for try await (station, kind, subject, at) in try await client.query("""
            SELECT station_id, kind, subject, max(resolved_ms) FROM alerts WHERE resolved_ms >= \(since.millisecondsSinceEpoch)
            GROUP BY station_id, kind, subject
            """, logger: logger).decode((String, String, String, Int64).self) {
            guard let kind = AlertKind(rawValue: kind) else { continue }
            out[AlertKey(station: station, kind: kind, subject: subject)] = Timestamp(millisecondsSinceEpoch: at)
        }
        return out
    }

    public func claimDeliveries(owner: String, now: Timestamp, lease: Duration, limit: Int) async throws -> [ClaimedDelivery] {
        let until = (now + lease).millisecondsSinceEpoch, nowMs = now.millisecondsSinceEpoch
        // SKIP LOCKED: a row another collector is claiming right now is left to it; the lease
        // keeps it from everyone else until delivered, given up, or the lease runs out.
        let rows = try await client.query("""
            UPDATE alert_outbox SET lease_owner = \(owner), lease_until_ms = \(until), attempts = attempts + 1
            WHERE id IN (
                SELECT o.id FROM alert_outbox o
                WHERE o.delivered_ms IS NULL AND o.failed_ms IS NULL AND o.next_attempt_ms <= \(nowMs)
                  AND (o.lease_until_ms IS NULL OR o.lease_until_ms <= \(nowMs))
                  AND NOT EXISTS (SELECT 1 FROM alert_outbox e WHERE e.alert_id = o.alert_id AND e.url = o.url AND e.id < o.id
                                  AND e.delivered_ms IS NULL AND e.failed_ms IS NULL)
                ORDER BY o.id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
              AND delivered_ms IS NULL AND failed_ms IS NULL AND (lease_until_ms IS NULL OR lease_until_ms <= \(nowMs))
            RETURNING id, alert_id, state, url, format, body, attempts
            """, logger: logger)
        var out: [ClaimedDelivery] = []
        for try await (id, alert, state, url, format, body, attempts) in rows.decode((Int64, Int64, String, String, String, String, Int).self) {
            out.append(ClaimedDelivery(id: id, alertID: alert, state: AlertState(rawValue: state) ?? .open,
                                       delivery: AlertDelivery(url: url, format: WebhookFormat(rawValue: format) ?? .generic, body: body),
                                       attempts: attempts))
        }
        return out.sorted { $0.id < $1.id }
    }

    public func deliveryDone(_ id: Int64, owner: String, at: Timestamp) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE alert_outbox SET delivered_ms = \(at.millisecondsSinceEpoch), lease_owner = NULL, lease_until_ms = NULL, last_error = NULL
            WHERE id = \(id) AND lease_owner = \(owner) AND delivered_ms IS NULL RETURNING id
            """, logger: logger).collect()
        return !rows.isEmpty
    }

    public func deliveryFailed(_ id: Int64, owner: String, error: String, at: Timestamp, retryAt: Timestamp?) async throws {
        if let retryAt {
            try await client.query("""
                UPDATE alert_outbox SET next_attempt_ms = \(retryAt.millisecondsSinceEpoch), lease_owner = NULL, lease_until_ms = NULL,
                    last_error = \(error) WHERE id = \(id) AND lease_owner = \(owner)
                """, logger: logger)
        } else {
            try await client.query("""
                UPDATE alert_outbox SET failed_ms = \(at.millisecondsSinceEpoch), lease_owner = NULL, lease_until_ms = NULL, last_error = \(error)
                WHERE id = \(id) AND lease_owner = \(owner)
                """, logger: logger)
        }
    }

    public func eventCount(station: String, seqs range: ClosedRange<Int64>) async throws -> Int64 {
        for try await n in try await client.query("""
            SELECT count(*) FROM events WHERE station_id = \(station) AND seq BETWEEN \(range.lowerBound) AND \(range.upperBound)
            """, logger: logger).decode(Int64.self) { return n }
        return 0
    }

    public func eventSeqs(station: String, seqs range: ClosedRange<Int64>) async throws -> [Int64] {
        var out: [Int64] = []
        for try await s in try await client.query("""
            SELECT seq FROM events WHERE station_id = \(station) AND seq BETWEEN \(range.lowerBound) AND \(range.upperBound) ORDER BY seq
            """, logger: logger).decode(Int64.self) { out.append(s) }
        return out
    }
}
