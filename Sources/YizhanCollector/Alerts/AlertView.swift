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

    /// The alerts of `stations` (those a user may see), by state, newest first.
    public static func list(_ store: any CollectorStore, stations: [StationRecord], state: AlertStateFilter, limit: Int,
                            offset: UTCOffset) async throws -> [AlertView] {
        let byID = Dictionary(stations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        // Filtered after the query: alerts are few next to stations.
        return try await store.alerts(state, limit: 100_000).compactMap { a in
            byID[a.key.station].map { AlertView(a, station: $0, offset: offset) }
        }.prefix(limit).map { $0 }
    }
}
