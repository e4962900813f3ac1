import YizhanCore

/// A notice as the office stored it: for a region or a list of stations.
public struct NoticeRecord: Sendable, Hashable {
    public enum Audience: Sendable, Hashable, CustomStringConvertible {
        case region(RegionPath)
        case stations([String])
        public func covers(station: String, region: RegionPath) -> Bool {
            switch self {
            case .region(let p): p.contains(region)
            case .stations(let ids): ids.contains(station)
            }
        }
        /// `region` or `stations`, and the region's path or the ids one a line, as stored.
        var stored: (kind: String, targets: String) {
            switch self {
            case .region(let p): ("region", p.description)
            case .stations(let ids): ("stations", ids.joined(separator: "\n"))
            }
        }
        init?(kind: String, targets: String) {
            switch kind {
            case "region": guard let p = RegionPath(parsing: targets) else { return nil }; self = .region(p)
            case "stations": self = .stations(targets.split(separator: "\n").map(String.init))
            default: return nil
            }
        }
        public var description: String {
            switch self {
            case .region(let p): p.isNation ? "region (the nation)" : "region \(p)"
            case .stations(let ids): (ids.count == 1 ? "station " : "stations ") + ids.joined(separator: ",")
            }
        }
    }

    public var id: Int64
    public var audience: Audience
    public var zh: String
    public var en: String?
    public var from: Timestamp
    /// When it stops showing (moved to the end time by `notice end`).
    public var until: Timestamp
    public var endedAt: Timestamp?
    public var createdBy: String
    public var createdAt: Timestamp

    public init(id: Int64 = 0, audience: Audience, zh: String, en: String?, from: Timestamp, until: Timestamp,
                endedAt: Timestamp? = nil, createdBy: String, createdAt: Timestamp) {
        self.id = id; self.audience = audience; self.zh = zh; self.en = en; self.from = from; self.until = until
        self.endedAt = endedAt; self.createdBy = createdBy; self.createdAt = createdAt
    }

    /// The station's copy (times in the office's offset).
    public func wire(offset: UTCOffset) -> OfficeNotice {
        OfficeNotice(id: id, zh: zh, en: en, from: RFC3339.format(from, offset: offset), until: RFC3339.format(until, offset: offset))
    }
}

/// One office action, as the audit log keeps it.
public struct AuditEntry: Sendable, Hashable {
    public var id: Int64
    public var at: Timestamp
    /// `cli:<login>` from the command line, the user's name from the API.
    public var actor: String
    /// `settings.set`, `notice.add`, `notice.end`.
    public var action: String
    /// `region` (the path in `target`), `station` or `stations` (ids, comma-separated).
    public var scope: String
    public var target: String
    /// What was set or announced, in words (`capacity=30 opening_hours=06:00-22:00`).
    public var detail: String

    public init(id: Int64 = 0, at: Timestamp, actor: String, action: String, scope: String, target: String, detail: String) {
        self.id = id; self.at = at; self.actor = actor; self.action = action; self.scope = scope; self.target = target; self.detail = detail
    }

    /// Whether an office user limited to `region` may see this entry (stations' regions given).
    public func isVisible(within region: RegionPath, stationRegions: [String: RegionPath]) -> Bool {
        switch scope {
        case "region": return RegionPath(parsing: target).map(region.contains) ?? false
        default:
            let ids = target.split(separator: ",").map(String.init)
            return !ids.isEmpty && ids.allSatisfy { stationRegions[$0].map(region.contains) ?? false }
        }
    }
}

/// What the office sets and announces, and the log of who did: both stores implement it
/// (SQLiteCollectorStore+Office.swift, PostgresCollectorStore+Office.swift) and one
/// contract suite checks they answer alike. Every write and its audit entry share one
/// transaction.
public protocol OfficeStore: Sendable {
    /// Sets (a value) or removes (nil) keys for one scope; every row written takes the next
    /// value of the office-wide settings counter, which is returned. Audited as `settings.set`.
    func setSettings(_ scope: OfficeScope, _ values: [OfficeSettingKey: String?], actor: String, at: Timestamp) async throws -> Int64
    /// Every settings row, removals included (a small table: the office's own decisions).
    func settingRows() async throws -> [OfficeSettingRow]
    /// Stores a notice and returns its id. Audited as `notice.add`.
    func addNotice(_ notice: NoticeRecord, actor: String) async throws -> Int64
    /// Notices whose end is after `after` (nil: every notice), newest first.
    func notices(endingAfter after: Timestamp?) async throws -> [NoticeRecord]
    func notice(id: Int64) async throws -> NoticeRecord?
    /// Ends a notice now (its `until` becomes `at` if later). Audited as `notice.end`; nil
    /// for an unknown id.
    func endNotice(id: Int64, actor: String, at: Timestamp) async throws -> NoticeRecord?
    /// The newest entries first, at most `limit`.
    func auditLog(limit: Int) async throws -> [AuditEntry]
    /// Each station's region (the heartbeat answer's notices and settings need it).
    func stationRegions() async throws -> [String: RegionPath]
}

extension OfficeStore {
    /// The audit text of a settings write: `capacity=30 opening_hours=(removed)`.
    static func settingsDetail(_ values: [OfficeSettingKey: String?]) -> String {
        values.keys.sorted().map { "\($0.rawValue)=\(values[$0]!.map { $0 } ?? "(removed)")" }.joined(separator: " ")
    }
}

public enum OfficeStoreSchema {
    /// Shared by both stores' `v6-office-settings`; `idColumn` is the id column's type.
    static func statements(idColumn: String) -> [String] {
        [
            "CREATE TABLE office_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)",
            "INSERT INTO office_counters(name, value) VALUES ('settings', 0)",
            """
            CREATE TABLE office_settings (
                scope TEXT NOT NULL, target TEXT NOT NULL, key TEXT NOT NULL, value TEXT,
                revision BIGINT NOT NULL, updated_ms BIGINT NOT NULL, PRIMARY KEY (scope, target, key)
            )
            """,
            """
            CREATE TABLE notices (
                id \(idColumn), scope TEXT NOT NULL, targets TEXT NOT NULL, zh TEXT NOT NULL, en TEXT,
                from_ms BIGINT NOT NULL, until_ms BIGINT NOT NULL, ended_ms BIGINT,
                created_by TEXT NOT NULL, created_ms BIGINT NOT NULL
            )
            """,
            "CREATE INDEX notices_until ON notices(until_ms)",
            """
            CREATE TABLE audit_log (
                id \(idColumn), at_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                scope TEXT NOT NULL, target TEXT NOT NULL, detail TEXT NOT NULL
            )
            """,
        ]
    }
}
