import Logging
import PostgresNIO
import YizhanCore

/// Office settings, notices and the audit log in PostgreSQL. The settings counter is one
/// row updated in the writing transaction: collectors sharing the database take its values
/// one after another (the row lock orders them).
extension PostgresCollectorStore {
    static let officeMigration = OfficeStoreSchema.statements(idColumn: "BIGSERIAL PRIMARY KEY")

    private func audit(_ db: PostgresConnection, _ e: AuditEntry) async throws {
        try await db.query("""
            INSERT INTO audit_log(at_ms, actor, action, scope, target, detail)
            VALUES (\(e.at.millisecondsSinceEpoch), \(e.actor), \(e.action), \(e.scope), \(e.target), \(e.detail))
            """, logger: logger)
    }

    public func setSettings(_ scope: OfficeScope, _ values: [OfficeSettingKey: String?], actor: String, at: Timestamp) async throws -> Int64 {
        try await transaction { db in
            var revision: Int64 = 0
            for key in values.keys.sorted() {
                for try await v in try await db.query("UPDATE office_counters SET value = value + 1 WHERE name = 'settings' RETURNING value",
                                                      logger: logger).decode(Int64.self) { revision = v }
                let value: String? = values[key]!
                try await db.query("""
                    INSERT INTO office_settings(scope, target, key, value, revision, updated_ms)
                    VALUES (\(scope.kind), \(scope.target), \(key.rawValue), \(value), \(revision), \(at.millisecondsSinceEpoch))
                    ON CONFLICT (scope, target, key) DO UPDATE SET value = EXCLUDED.value, revision = EXCLUDED.revision, updated_ms = EXCLUDED.updated_ms
                    """, logger: logger)
            }
            try await audit(db, AuditEntry(at: at, actor: actor, action: "settings.set", scope: scope.kind, target: scope.target,
                                           detail: Self.settingsDetail(values)))
            return revision
        }
    }

    public func settingRows() async throws -> [OfficeSettingRow] {
        var rows: [OfficeSettingRow] = []
        for try await (kind, target, key, value, revision) in try await client.query(
            "SELECT scope, target, key, value, revision FROM office_settings", logger: logger).decode((String, String, String, String?, Int64).self) {
            guard let scope = OfficeScope(kind: kind, target: target), let k = OfficeSettingKey(rawValue: key) else { continue }
            rows.append(OfficeSettingRow(scope: scope, key: k, value: value, revision: revision))
        }
        return rows
    }

    public func addNotice(_ n: NoticeRecord, actor: String) async throws -> Int64 {
        try await transaction { db in
            let (kind, targets) = n.audience.stored
            var id: Int64 = 0
            for try await v in try await db.query("""
                INSERT INTO notices(scope, targets, zh, en, from_ms, until_ms, created_by, created_ms)
                VALUES (\(kind), \(targets), \(n.zh), \(n.en), \(n.from.millisecondsSinceEpoch), \(n.until.millisecondsSinceEpoch),
                        \(actor), \(n.createdAt.millisecondsSinceEpoch))
                RETURNING id
                """, logger: logger).decode(Int64.self) { id = v }
            try await audit(db, AuditEntry(at: n.createdAt, actor: actor, action: "notice.add", scope: kind,
                                           target: targets.replacingOccurrences(of: "\n", with: ","), detail: Self.noticeDetail(id: id, n)))
            return id
        }
    }

    private typealias NoticeColumns = (Int64, String, String, String, String?, Int64, Int64, Int64?, String, Int64)

    private static func notice(_ c: NoticeColumns) -> NoticeRecord? {
        guard let audience = NoticeRecord.Audience(kind: c.1, targets: c.2) else { return nil }
        return NoticeRecord(id: c.0, audience: audience, zh: c.3, en: c.4, from: Timestamp(millisecondsSinceEpoch: c.5),
                            until: Timestamp(millisecondsSinceEpoch: c.6), endedAt: c.7.map(Timestamp.init(millisecondsSinceEpoch:)),
                            createdBy: c.8, createdAt: Timestamp(millisecondsSinceEpoch: c.9))
    }

    public func notices(endingAfter after: Timestamp?) async throws -> [NoticeRecord] {
        var out: [NoticeRecord] = []
        for try await c in try await client.query("""
            SELECT id, scope, targets, zh, en, from_ms, until_ms, ended_ms, created_by, created_ms FROM notices
            WHERE until_ms > \(after?.millisecondsSinceEpoch ?? Int64.min) ORDER BY id DESC
            """, logger: logger).decode(NoticeColumns.self) {
            if let n = Self.notice(c) { out.append(n) }
        }
        return out
    }

    public func notice(id: Int64) async throws -> NoticeRecord? {
        for try await c in try await client.query("""
            SELECT id, scope, targets, zh, en, from_ms, until_ms, ended_ms, created_by, created_ms FROM notices WHERE id = \(id)
            """, logger: logger).decode(NoticeColumns.self) {
            return Self.notice(c)
        }
        return nil
    }

    public func endNotice(id: Int64, actor: String, at: Timestamp) async throws -> NoticeRecord? {
        let t = at.millisecondsSinceEpoch
        let found = try await transaction { db -> Bool in
            var row: (String, String)?
            for try await r in try await db.query("SELECT scope, targets FROM notices WHERE id = \(id) FOR UPDATE", logger: logger)
                .decode((String, String).self) { row = r }
            guard let (kind, targets) = row else { return false }
            try await db.query("UPDATE notices SET until_ms = LEAST(until_ms, \(t)), ended_ms = COALESCE(ended_ms, \(t)) WHERE id = \(id)",
                               logger: logger)
            try await audit(db, AuditEntry(at: at, actor: actor, action: "notice.end", scope: kind,
                                           target: targets.replacingOccurrences(of: "\n", with: ","), detail: "notice \(id)"))
            return true
        }
        return found ? try await notice(id: id) : nil
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        var out: [AuditEntry] = []
        for try await (id, at, actor, action, scope, target, detail) in try await client.query("""
            SELECT id, at_ms, actor, action, scope, target, detail FROM audit_log ORDER BY id DESC LIMIT \(limit)
            """, logger: logger).decode((Int64, Int64, String, String, String, String, String).self) {
            out.append(AuditEntry(id: id, at: Timestamp(millisecondsSinceEpoch: at), actor: actor, action: action, scope: scope, target: target, detail: detail))
        }
        return out
    }

    public func stationRegions() async throws -> [String: RegionPath] {
        var out: [String: RegionPath] = [:]
        for try await (id, region) in try await client.query("SELECT id, region FROM stations", logger: logger).decode((String, String).self) {
            out[id] = RegionPath(parsing: region) ?? .nation
        }
        return out
    }
}
