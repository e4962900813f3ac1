/// The `[alerts]` thresholds of collector.toml (docs/alerts.md), with their defaults.
public struct AlertThresholds: Hashable, Sendable {
    /// No heartbeat this long, while the station should be open: `station_offline`.
    public var offlineAfter: Duration = .seconds(120)
    /// After an offline alert is resolved, another for the same station opens only this
    /// long after the recovery: a station that flaps is reported once per cycle, not once
    /// per lost heartbeat.
    public var offlineRearm: Duration = .seconds(300)
    /// A reader not `up` this long: `reader_down`.
    public var readerDownAfter: Duration = .seconds(300)
    /// An amenity out of order this long: `amenity_out_of_order`.
    public var amenityOutOfOrderAfter: Duration = .seconds(4 * 3600)
    /// Full (occupancy at capacity) in `fullHeartbeats` of the last `fullWindow` heartbeats:
    /// `repeatedly_full`; resolved when full in fewer than half as many.
    public var fullHeartbeats = 10
    public var fullWindow = 20
    /// Backlog higher at each of the last `backlogHeartbeats` heartbeats and at least
    /// `backlogMinimum` events: `backlog_growing`; resolved below the minimum or once shrinking.
    public var backlogHeartbeats = 5
    public var backlogMinimum: Int64 = 100
    /// Station clock off by more than this: `clock_skew`.
    public var clockSkew: Duration = .seconds(5 * 60)
    /// Local storage used at least this share of its cap: `storage_near_cap`; resolved
    /// 5 points below.
    public var storageNearCapPercent = 90

    public init() {}
}
