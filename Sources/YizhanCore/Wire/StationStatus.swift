import CYizhanVersion

/// `yizhanctl status --format json` and `/api/v1/status`. Field names are a contract.
public struct StationStatus: Codable, Hashable, Sendable {
    public struct Reader: Codable, Hashable, Sendable {
        public var name: String
        public var `protocol`: String
        /// The device in use, or the configured path / match when none is found.
        public var device: String
        /// `up`, `down` (not found or failing) or `starting`.
        public var state: String
        public var since: String?
        public var detail: String?
        public var reads: Int
        public var badReads: Int
        enum CodingKeys: String, CodingKey {
            case name, `protocol`, device, state, since, detail, reads
            case badReads = "bad_reads"
        }
        public init(name: String, protocol: String, device: String, state: String, since: String?, detail: String?,
                    reads: Int, badReads: Int) {
            self.name = name; self.protocol = `protocol`; self.device = device; self.state = state
            self.since = since; self.detail = detail; self.reads = reads; self.badReads = badReads
        }
    }

    public struct Uplink: Codable, Hashable, Sendable {
        /// `not_configured` until the uplink is set up.
        public var state: UplinkState
        /// Events not yet acknowledged by the collector.
        public var backlog: Int64
        public var lastAck: Int64
        public var detail: String?
        /// Events acknowledged by the collector since the daemon started.
        public var sent: Int
        /// Failed attempts since the daemon started.
        public var retried: Int
        /// Events the collector refused for good (kept locally).
        public var quarantined: Int
        public var lastHeartbeat: String?
        enum CodingKeys: String, CodingKey {
            case state, backlog, detail, sent, retried, quarantined
            case lastAck = "last_ack"
            case lastHeartbeat = "last_heartbeat"
        }
        public init(state: UplinkState, backlog: Int64, lastAck: Int64, detail: String? = nil, sent: Int = 0, retried: Int = 0,
                    quarantined: Int = 0, lastHeartbeat: String? = nil) {
            self.state = state; self.backlog = backlog; self.lastAck = lastAck; self.detail = detail
            self.sent = sent; self.retried = retried; self.quarantined = quarantined; self.lastHeartbeat = lastHeartbeat
        }
    }

    public struct Amenity: Codable, Hashable, Sendable {
        public var id: String
        public var kind: String
        public var nameZh: String
        public var nameEn: String
        public var status: AmenityStatus
        public var since: String?
        public var by: String?
        public var note: String?
        /// Workers' fault reports since the status was last set.
        public var openReports: Int
        public var lastReportNote: String?
        enum CodingKeys: String, CodingKey {
            case id, kind, status, since, by, note
            case nameZh = "name_zh", nameEn = "name_en", openReports = "open_reports", lastReportNote = "last_report_note"
        }
        public init(_ e: AmenityBoard.Entry, offset: UTCOffset) {
            id = e.definition.id; kind = e.definition.kind; nameZh = e.definition.nameZh; nameEn = e.definition.nameEn
            status = e.status; since = e.since.map { RFC3339.format($0, offset: offset) }; by = e.by; note = e.note
            openReports = e.openReports; lastReportNote = e.lastReportNote
        }
    }

    public var stationID: String
    public var name: String
    public var occupancy: Int
    public var capacity: Int
    public var full: Bool
    public var open: Bool
    public var mode: String
    public var readers: [Reader]
    public var uplink: Uplink
    public var amenities: [Amenity] = []
    public var lastSeq: Int64
    public var time: String
    public var startedAt: String
    public var version: String
    /// The office settings revision applied (0 before any), why the last fetched one was
    /// refused, and the keys station.toml pins.
    public var settingsRevision: Int64?
    public var settingsError: String?
    public var settingsPinned: [String]?

    enum CodingKeys: String, CodingKey {
        case stationID = "station_id"
        case name, occupancy, capacity, full, open, mode, readers, uplink, amenities
        case lastSeq = "last_seq"
        case time
        case startedAt = "started_at"
        case version
        case settingsRevision = "settings_revision", settingsError = "settings_error", settingsPinned = "settings_pinned"
    }

    public init(stationID: String, name: String, occupancy: Int, capacity: Int, full: Bool, open: Bool, mode: String,
                readers: [Reader], uplink: Uplink, lastSeq: Int64, time: String, startedAt: String, version: String) {
        self.stationID = stationID; self.name = name; self.occupancy = occupancy; self.capacity = capacity
        self.full = full; self.open = open; self.mode = mode; self.readers = readers; self.uplink = uplink
        self.lastSeq = lastSeq; self.time = time; self.startedAt = startedAt; self.version = version
    }
}

/// The answer of `POST /api/v1/checkout-all`.
public struct CloseDayResult: Codable, Hashable, Sendable {
    public var checkedOut: Int
    public var lastSeq: Int64
    enum CodingKeys: String, CodingKey { case checkedOut = "checked_out"; case lastSeq = "last_seq" }
    public init(checkedOut: Int, lastSeq: Int64) { self.checkedOut = checkedOut; self.lastSeq = lastSeq }
}

/// JSON error body with a stable `error` code.
/// Where the uplink stands (`yizhanctl status`, the kiosk's link light).
public enum UplinkState: String, Codable, Hashable, Sendable {
    case notConfigured = "not_configured"
    case starting, idle, sending
    /// The collector cannot be reached or is refusing for now: backing off.
    case retrying
    /// The collector refused the token: nothing is sent until it changes.
    case stopped

    /// Working as it should (or not asked to): the kiosk shows no warning.
    public var isHealthy: Bool { self != .retrying && self != .stopped }
}

public struct APIError: Codable, Hashable, Sendable, Error {
    public var error: String
    public var message: String
    public init(error: String, message: String) { self.error = error; self.message = message }
}

/// The software version: set in one place, Package.swift (`YIZHAN_VERSION` overrides it at
/// build time), and reported by `--version`, heartbeats and the station's start event.
public enum YizhanVersion {
    public static let current = String(cString: yizhan_version())
}
