import GRDB
import YizhanCore

/// Office settings, notices and the audit log in SQLite (one writer: the counter needs no lock).
extension SQLiteCollectorStore {
    static func registerOfficeMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v6-office-settings") { db in
            for sql in OfficeStoreSchema.statements(idColumn: "INTEGER PRIMARY KEY AUTOINCREMENT") { try db.execute(sql: sql) }
        }
    }

    private static func audit(_ db: Database, _ e: AuditEntry) throws {
        try db.execute(sql: "INSERT INTO audit_log(at_ms, actor, action, scope, target, detail) VALUES (?, ?, ?, ?, ?, ?)",
                       arguments: [e.at.millisecondsSinceEpoch, e.actor, e.action, e.scope, e.target, e.detail])
    }

    public func setSettings(_ scope: OfficeScope, _ values: [OfficeSettingKey: String?], actor: String, at: Timestamp) async throws -> Int64 {
        try await pool.write { db in
            var revision: Int64 = 0
            for key in values.keys.sorted() {
                try db.execute(sql: "UPDATE office_counters SET value = value + 1 WHERE name = 'settings'")
                revision = try Int64.fetchOne(db, sql: "SELECT value FROM office_counters WHERE name = 'settings'") ?? 0
                try db.execute(sql: """
                    INSERT INTO office_settings(scope, target, key, value, revision, updated_ms) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (scope, target, key) DO UPDATE SET value = excluded.value, revision = excluded.revision, updated_ms = excluded.updated_ms
                    """, arguments: [scope.kind, scope.target, key.rawValue, values[key]!, revision, at.millisecondsSinceEpoch])
            }
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "settings.set", scope: scope.kind, target: scope.target,
                                          detail: Self.settingsDetail(values)))
            return revision
        }
    }

    public func settingRows() async throws -> [OfficeSettingRow] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT scope, target, key, value, revision FROM office_settings").compactMap { r in
                guard let scope = OfficeScope(kind: r[0], target: r[1]), let key = OfficeSettingKey(rawValue: r[2]) else { return nil }
                return OfficeSettingRow(scope: scope, key: key, value: r[3], revision: r[4])
            }
        }
    }

    public func addNotice(_ n: NoticeRecord, actor: String) async throws -> Int64 {
        try await pool.write { db in
            let (kind, targets) = n.audience.stored
            try db.execute(sql: """
                INSERT INTO notices(scope, targets, zh, en, from_ms, until_ms, created_by, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [kind, targets, n.zh, n.en, n.from.millisecondsSinceEpoch, n.until.millisecondsSinceEpoch, actor,
                                 n.createdAt.millisecondsSinceEpoch])
            let id = db.lastInsertedRowID
            try Self.audit(db, AuditEntry(at: n.createdAt, actor: actor, action: "notice.add", scope: kind,
                                          target: targets.replacingOccurrences(of: "\n", with: ","), detail: Self.noticeDetail(id: id, n)))
            return id
        }
    }

    public func notices(endingAfter after: Timestamp?) async throws -> [NoticeRecord] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, scope, targets, zh, en, from_ms, until_ms, ended_ms, created_by, created_ms FROM notices
                WHERE until_ms > ? ORDER BY id DESC
                """, arguments: [after?.millisecondsSinceEpoch ?? Int64.min]).compactMap(Self.notice)
        }
    }

    public func notice(id: Int64) async throws -> NoticeRecord? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: """
                SELECT id, scope, targets, zh, en, from_ms, until_ms, ended_ms, created_by, created_ms FROM notices WHERE id = ?
                """, arguments: [id]).flatMap(Self.notice)
        }
    }

    public func endNotice(id: Int64, actor: String, at: Timestamp) async throws -> NoticeRecord? {
        let found = try await pool.write { db -> Bool in
            guard let row = try Row.fetchOne(db, sql: "SELECT scope, targets FROM notices WHERE id = ?", arguments: [id]) else { return false }
            let t = at.millisecondsSinceEpoch
            try db.execute(sql: "UPDATE notices SET until_ms = MIN(until_ms, ?), ended_ms = COALESCE(ended_ms, ?) WHERE id = ?", arguments: [t, t, id])
            let targets: String = row[1]
            try Self.audit(db, AuditEntry(at: at, actor: actor, action: "notice.end", scope: row[0],
                                          target: targets.replacingOccurrences(of: "\n", with: ","), detail: "notice \(id)"))
            return true
        }
        return found ? try await notice(id: id) : nil
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT id, at_ms, actor, action, scope, target, detail FROM audit_log ORDER BY id DESC LIMIT ?",
                             arguments: [limit]).map { r in
                AuditEntry(id: r[0], at: Timestamp(millisecondsSinceEpoch: r[1]), actor: r[2], action: r[3], scope: r[4], target: r[5], detail: r[6])
            }
        }
    }

    public func stationRegions() async throws -> [String: RegionPath] {
        try await pool.read { db in
            var out: [String: RegionPath] = [:]
            for r in try Row.fetchAll(db, sql: "SELECT id, region FROM stations") { out[r[0]] = RegionPath(parsing: r[1]) ?? .nation }
            return out
        }
    }

    static func notice(_ r: Row) -> NoticeRecord? {
        guard let audience = NoticeRecord.Audience(kind: r[1], targets: r[2]) else { return nil }
        let ended: Int64? = r[7]
        return NoticeRecord(id: r[0], audience: audience, zh: r[3], en: r[4], from: Timestamp(millisecondsSinceEpoch: r[5]),
                            until: Timestamp(millisecondsSinceEpoch: r[6]), endedAt: ended.map(Timestamp.init(millisecondsSinceEpoch:)),
                            createdBy: r[8], createdAt: Timestamp(millisecondsSinceEpoch: r[9]))
    }
}

extension OfficeStore {
    /// The audit text of a new notice.
    static func noticeDetail(id: Int64, _ n: NoticeRecord) -> String {
        "notice \(id): \(n.zh)" + (n.en.map { " / \($0)" } ?? "") + " (\(RFC3339.format(n.from, offset: .utc)) – \(RFC3339.format(n.until, offset: .utc)))"
    }
}
