/// What the collector knows about one station when it evaluates the alert rules.
public struct StationAlertFacts: Hashable, Sendable {
    public var station: String
    /// The collector's time of the last heartbeat; nil for a station never activated
    /// (it never raises an alert).
    public var lastSeen: Timestamp?
    /// The hours the station applies; nil when it does not report them (always open).
    public var hours: OpeningHours?
    /// The last heartbeat's figures (nil before the first).
    public var occupancy: Int
    public var capacity: Int
    public var backlog: Int64
    public var readers: [Heartbeat.Reader]
    public var clockSkewSeconds: Int64
    /// Share of the station's storage cap in use, when it reports it.
    public var storagePercent: Int?
    /// Amenities out of order now, and since when.
    public var outages: [String: Timestamp]
    /// Reconciliation: per subject (a local day), what is missing ("seq 101-150 missing").
    public var gaps: [String: String]

    public init(station: String, lastSeen: Timestamp?, hours: OpeningHours? = nil, occupancy: Int = 0, capacity: Int = 0,
                backlog: Int64 = 0, readers: [Heartbeat.Reader] = [], clockSkewSeconds: Int64 = 0, storagePercent: Int? = nil,
                outages: [String: Timestamp] = [:], gaps: [String: String] = [:]) {
        self.station = station; self.lastSeen = lastSeen; self.hours = hours; self.occupancy = occupancy; self.capacity = capacity
        self.backlog = backlog; self.readers = readers; self.clockSkewSeconds = clockSkewSeconds; self.storagePercent = storagePercent
        self.outages = outages; self.gaps = gaps
    }
}
