import YizhanCore

/// An alert as stored, with how its deliveries stand.
public struct AlertRecord: Sendable, Hashable, Codable {
    public var id: Int64
    public var key: AlertKey
    public var state: AlertState
    public var since: Timestamp
    public var openedAt: Timestamp
    public var resolvedAt: Timestamp?
    public var detail: String
    public var messageZh: String
    public var messageEn: String
    /// Deliveries not made yet (retrying), and given up as misconfigured.
    public var pendingDeliveries: Int
    public var failedDeliveries: Int
    public var lastDeliveryError: String?

    public init(id: Int64, key: AlertKey, state: AlertState, since: Timestamp, openedAt: Timestamp, resolvedAt: Timestamp?, detail: String,
                messageZh: String, messageEn: String, pendingDeliveries: Int = 0, failedDeliveries: Int = 0, lastDeliveryError: String? = nil) {
        self.id = id; self.key = key; self.state = state; self.since = since; self.openedAt = openedAt; self.resolvedAt = resolvedAt
        self.detail = detail; self.messageZh = messageZh; self.messageEn = messageEn
        self.pendingDeliveries = pendingDeliveries; self.failedDeliveries = failedDeliveries; self.lastDeliveryError = lastDeliveryError
    }
}

extension AlertKey: Codable {
    enum CodingKeys: String, CodingKey { case station, kind, subject }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(station: try c.decode(String.self, forKey: .station), kind: try c.decode(AlertKind.self, forKey: .kind),
                  subject: try c.decode(String.self, forKey: .subject))
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(station, forKey: .station); try c.encode(kind, forKey: .kind); try c.encode(subject, forKey: .subject)
    }
}

/// One message to send to one channel, written with its transition.
public struct AlertDelivery: Sendable, Hashable {
    public var url: String
    public var format: WebhookFormat
    public var body: String
    public init(url: String, format: WebhookFormat, body: String) { self.url = url; self.format = format; self.body = body }
}

/// A delivery a collector holds the lease of.
public struct ClaimedDelivery: Sendable, Hashable {
    public var id: Int64
    public var alertID: Int64
    public var state: AlertState
    public var delivery: AlertDelivery
    /// Attempts including this one.
    public var attempts: Int
}

public enum AlertStateFilter: String, Sendable, CaseIterable { case open, resolved, all }

/// Alerts and their delivery outbox. Each transition is written with its outbox rows in one
/// transaction, and a unique key on open alerts makes opening idempotent: two collectors
/// evaluating at once open an alert once.
public protocol AlertStore: Sendable {
    /// Opens an alert with its deliveries; false (and nothing written) when one is open for the key.
    func openAlert(_ key: AlertKey, since: Timestamp, at: Timestamp, detail: String, messageZh: String, messageEn: String,
                   deliveries: [AlertDelivery]) async throws -> Bool
    /// Resolves the open alert for the key with its deliveries; false when none was open.
    func resolveAlert(_ key: AlertKey, at: Timestamp, deliveries: [AlertDelivery]) async throws -> Bool
    /// Alerts by state, newest first (at most `limit`).
    func alerts(_ filter: AlertStateFilter, limit: Int) async throws -> [AlertRecord]
    /// When each key's latest alert was resolved, for those resolved at or after `since`.
    func alertsResolved(since: Timestamp) async throws -> [AlertKey: Timestamp]
    /// Leases up to `limit` due deliveries to `owner` until `now + lease` (each at most once
    /// among collectors); a delivery waits for the earlier ones of its alert and channel.
    func claimDeliveries(owner: String, now: Timestamp, lease: Duration, limit: Int) async throws -> [ClaimedDelivery]
    /// Records a delivery made; false when the lease was lost (another collector took it).
    func deliveryDone(_ id: Int64, owner: String, at: Timestamp) async throws -> Bool
    /// A failed attempt at `at`: tried again at `retryAt`, or never (`retryAt` nil: kept as failed).
    func deliveryFailed(_ id: Int64, owner: String, error: String, at: Timestamp, retryAt: Timestamp?) async throws

    /// Reconciliation: how many of a station's events the store holds with a seq in `range`.
    func eventCount(station: String, seqs range: ClosedRange<Int64>) async throws -> Int64
    /// Reconciliation: those seqs, ascending.
    func eventSeqs(station: String, seqs range: ClosedRange<Int64>) async throws -> [Int64]
}
