import YizhanCore

/// An alert as the API, `alerts list` and the dashboard show it.
public struct AlertView: Codable, Hashable, Sendable {
    public struct Deliveries: Codable, Hashable, Sendable {
        /// Not delivered yet (being retried).
        public var pending: Int
        /// Refused for good (a misconfigured channel): look at `last_error`.
        public var failed: Int
        public var lastError: String?
        enum CodingKeys: String, CodingKey {
            case pending, failed
            case lastError = "last_error"
        }
    }

    public var id: Int64
    public var alert: AlertKind
    public var state: AlertState
    public var station: String
    public var stationName: String
    public var region: String
    public var subject: String
    public var since: String
    public var openedAt: String
    public var resolvedAt: String?
    public var detail: String
    public var messageZh: String
    public var messageEn: String
    public var deliveries: Deliveries

    enum CodingKeys: String, CodingKey {
        case id, alert, state, station, region, subject, since, detail, deliveries
        case stationName = "station_name"
        case openedAt = "opened_at"
        case resolvedAt = "resolved_at"
        case messageZh = "message_zh"
        case messageEn = "message_en"
    }

    public init(_ a: AlertRecord, station: StationRecord?, offset: UTCOffset) {
        id = a.id; alert = a.key.kind; state = a.state; self.station = a.key.station; stationName = station?.name ?? ""
        region = station?.region.description ?? ""; subject = a.key.subject; since = RFC3339.format(a.since, offset: offset)
        openedAt = RFC3339.format(a.openedAt, offset: offset); resolvedAt = a.resolvedAt.map { RFC3339.format($0, offset: offset) }
        detail = a.detail; messageZh = a.messageZh; messageEn = a.messageEn
        deliveries = Deliveries(pending: a.pendingDeliveries, failed: a.failedDeliveries, lastError: a.lastDeliveryError)
    }

    /// The alerts of `stations` (those a user may see), by state, newest first, at most `limit`.
    ///
    /// Read newest first in growing batches (4× `limit`, then 4× that, up to `mostRead`) and
    /// filtered here, until `limit` of these stations' alerts are found or none are left. A
    /// region page shows 10: in a national outage (144,655 open alerts, seen in the
    /// 186,000-station bench) it read 100,000 of them, each with its deliveries counted,
    /// for every render. Only the stations of the alerts read are looked up.
    public static func list(_ store: any CollectorStore, stations: [StationRecord], state: AlertStateFilter, limit: Int,
                            offset: UTCOffset) async throws -> [AlertView] {
        guard limit > 0 else { return [] }
        var asked = min(mostRead, limit * 4)
        while true {
            let rows = try await store.alerts(state, limit: asked)
            let wanted = Set(rows.map(\.key.station))
            var byID: [String: StationRecord] = [:]
            for s in stations where wanted.contains(s.id) && byID[s.id] == nil { byID[s.id] = s }
            let found = rows.lazy.compactMap { a in byID[a.key.station].map { (a, $0) } }.prefix(limit)
            if found.count == limit || rows.count < asked || asked == mostRead {
                return found.map { AlertView($0.0, station: $0.1, offset: offset) }
            }
            asked = min(mostRead, asked * 4)
        }
    }

    /// The most alerts read for one list (the newest ones).
    static let mostRead = 100_000
}
