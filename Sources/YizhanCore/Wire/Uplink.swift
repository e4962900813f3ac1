/// `POST /api/v1/ingest/events`: a contiguous, ordered batch of a station's events.
/// Sent gzip-compressed with the station's bearer token. Card hints stay at the station:
/// the office counts workers by card key alone.
public struct EventBatch: Codable, Hashable, Sendable {
    public var stationID: String
    public var events: [EventRecord]
    enum CodingKeys: String, CodingKey { case stationID = "station_id"; case events }
    public init(stationID: String, events: [EventRecord]) { self.stationID = stationID; self.events = events }
}

/// The collector's answer to a batch: everything up to `acknowledgedSeq` is stored there.
public struct IngestAcknowledgement: Codable, Hashable, Sendable {
    public var acknowledgedSeq: Int64
    enum CodingKeys: String, CodingKey { case acknowledgedSeq = "acknowledged_seq" }
    public init(acknowledgedSeq: Int64) { self.acknowledgedSeq = acknowledgedSeq }
}

/// `POST /api/v1/ingest/heartbeat`, every `heartbeat_seconds`: the live state of a station.
public struct Heartbeat: Codable, Hashable, Sendable {
    public struct Reader: Codable, Hashable, Sendable {
        public var name: String
        public var state: String
        public init(name: String, state: String) { self.name = name; self.state = state }
    }

    public var stationID: String
    /// The station's clock (RFC 3339), so the collector can spot a wrong clock.
    public var time: String
    public var occupancy: Int
    public var capacity: Int
    public var open: Bool
    public var readers: [Reader]
    /// Amenity states (filled once amenities are tracked).
    public var amenities: [String: String]
    public var backlog: Int64
    public var lastAck: Int64
    public var lastSeq: Int64
    public var version: String
    /// The daily opening hours the station applies (`"HH:MM-HH:MM"` ranges in its local
    /// time), so the collector knows when a silent station should have been open. Absent
    /// from stations older than this field.
    public var openingHours: [String]?
    /// Share of the storage cap in use (alerts), and per-day counts of the station's own log
    /// (reconciliation, Wire/Reconciliation.swift). Optional.
    public var storagePercent: Int?
    public var dayCounts: [DayCount]?
    /// Office settings: the revision the station applies, why it refused the last one it
    /// fetched, and the keys its station.toml pins (absent from older stations).
    public var settingsRevision: Int64?
    public var settingsError: String?
    public var settingsPinned: [String]?

    enum CodingKeys: String, CodingKey {
        case storagePercent = "storage_percent"
        case dayCounts = "day_counts"
        case stationID = "station_id"
        case time, occupancy, capacity, open, readers, amenities, backlog
        case lastAck = "last_ack"
        case lastSeq = "last_seq"
        case version
        case openingHours = "opening_hours"
        case settingsRevision = "settings_revision", settingsError = "settings_error", settingsPinned = "settings_pinned"
    }

    public init(stationID: String, time: String, occupancy: Int, capacity: Int, open: Bool, readers: [Reader],
                amenities: [String: String], backlog: Int64, lastAck: Int64, lastSeq: Int64, version: String,
                openingHours: [String]? = nil) {
        self.stationID = stationID; self.time = time; self.occupancy = occupancy; self.capacity = capacity; self.open = open
        self.readers = readers; self.amenities = amenities; self.backlog = backlog; self.lastAck = lastAck
        self.lastSeq = lastSeq; self.version = version; self.openingHours = openingHours
    }
}
