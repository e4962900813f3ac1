import Foundation
import YizhanCore
import YizhanWeb

/// A station as the office sees it.
public struct StationRecord: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var district: String?
    /// province/city/district/street; the nation (empty) when not given.
    public var region: RegionPath
    public var address: String?
    public var capacity: Int
    public var latitude: Double?
    public var longitude: Double?
    public var occupancy: Int
    public var lastSeen: Timestamp?
    public var lastAck: Int64
    /// What the last heartbeat said beyond occupancy; nil before the first.
    public var live: LiveState?

    public init(id: String, name: String, district: String? = nil, region: RegionPath = .nation, address: String? = nil, capacity: Int,
                latitude: Double? = nil, longitude: Double? = nil,
                occupancy: Int = 0, lastSeen: Timestamp? = nil, lastAck: Int64 = 0, live: LiveState? = nil) {
        self.id = id; self.name = name; self.district = district; self.region = region; self.address = address
        self.capacity = capacity; self.latitude = latitude
        self.longitude = longitude; self.occupancy = occupancy; self.lastSeen = lastSeen; self.lastAck = lastAck; self.live = live
    }
}

/// A station's live state from its heartbeats, stored as one JSON document (the same text
/// in both stores).
public struct LiveState: Sendable, Hashable, Codable {
    public var open: Bool
    /// The station's configured capacity (it wins over the one given at `station add`).
    public var capacity: Int
    public var amenities: [String: AmenityStatus]
    public var readers: [Heartbeat.Reader]
    public var backlog: Int64
    public var lastSeq: Int64
    public var version: String
    /// Station clock minus collector clock when the heartbeat arrived.
    public var clockSkewSeconds: Int64
    /// The daily hours the station applies (`"HH:MM-HH:MM"`), if it reports them.
    public var openingHours: [String]?
    /// Share of the station's storage cap in use, if it reports it (alerts).
    public var storagePercent: Int?
    /// Reconciliation: per local day, the events the collector lacks ("seq 101-150 missing").
    public var sequenceGaps: [String: String]?
    /// Office settings: the revision the station applies, why it refused the last, the
    /// keys it pins (absent from older stations).
    public var settingsRevision: Int64?
    public var settingsError: String?
    public var settingsPinned: [String]?

    enum CodingKeys: String, CodingKey {
        case open, capacity, amenities, readers, backlog, version
        case lastSeq = "last_seq"
        case clockSkewSeconds = "clock_skew_seconds"
        case openingHours = "opening_hours"
        case storagePercent = "storage_percent"
        case sequenceGaps = "sequence_gaps"
        case settingsRevision = "settings_revision", settingsError = "settings_error", settingsPinned = "settings_pinned"
    }

    public init(open: Bool, capacity: Int, amenities: [String: AmenityStatus], readers: [Heartbeat.Reader], backlog: Int64, lastSeq: Int64,
                version: String, clockSkewSeconds: Int64, openingHours: [String]? = nil, storagePercent: Int? = nil,
                sequenceGaps: [String: String]? = nil,
                settingsRevision: Int64? = nil, settingsError: String? = nil, settingsPinned: [String]? = nil) {
        self.open = open; self.capacity = capacity; self.amenities = amenities; self.readers = readers; self.backlog = backlog; self.lastSeq = lastSeq
        self.version = version; self.clockSkewSeconds = clockSkewSeconds; self.openingHours = openingHours
        self.storagePercent = storagePercent; self.sequenceGaps = sequenceGaps
        self.settingsRevision = settingsRevision; self.settingsError = settingsError; self.settingsPinned = settingsPinned
    }

    var json: String {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return String(decoding: try! e.encode(self), as: UTF8.self)
    }

    static func decode(_ text: String?) -> LiveState? {
        text.flatMap { try? JSONDecoder().decode(LiveState.self, from: Data($0.utf8)) }
    }
}

/// One heartbeat as stored: the collector's time of arrival and what the station said.
public struct HeartbeatRecord: Sendable, Hashable {
    public var station: String
    public var at: Timestamp
    public var occupancy: Int
    public var live: LiveState
    public init(station: String, at: Timestamp, occupancy: Int, live: LiveState) {
        self.station = station; self.at = at; self.occupancy = occupancy; self.live = live
    }
}

public enum UserRole: String, Sendable, Codable, CaseIterable { case office, manager }

public struct UserRecord: Sendable, Hashable {
    public var name: String
    public var role: UserRole
    /// Manager: the stations they may see. Office: all.
    public var stations: [String]
    /// Office: the region they see (the nation when nil).
    public var region: RegionPath?

    public init(name: String, role: UserRole, stations: [String], region: RegionPath? = nil) {
        self.name = name; self.role = role; self.stations = stations; self.region = region
    }
}

/// Everything the collector stores, behind one protocol: SQLite (embedded, the default)
/// and PostgreSQL (several stateless collectors share it) implement it, and one contract
/// suite runs against both.
public protocol CollectorStore: SessionRecords, RollupStore, AlertStore, OfficeStore, StationRosterStore {
    /// Runs what the store needs while it is used (PostgreSQL's connection pool) until
    /// cancelled; SQLite needs nothing and returns at once.
    func run() async
    /// Makes the store ready once it runs (schema migrations).
    func prepare() async throws
    /// Registers a station; `tokenHash` is SHA-256 of its token (the token is never stored).
    func addStation(_ station: StationRecord, tokenHash: String) async throws
    /// The station whose token hashes to `tokenHash`.
    func station(forTokenHash tokenHash: String) async throws -> String?
    /// Every station's token hash, to warm the collector's cache at start.
    func stationTokens() async throws -> [(tokenHash: String, station: String)]
    /// Stores the events not stored yet (by station and seq) in one transaction; returns
    /// how many were new. The newest event's occupancy becomes the station's live occupancy.
    func ingest(station: String, events: [IngestedEvent]) async throws -> Int
    /// Live state from heartbeats, several at once (the collector coalesces them).
    func recordHeartbeats(_ heartbeats: [HeartbeatRecord]) async throws
    func stations() async throws -> [StationRecord]
    /// The stations whose last heartbeat is at or after `heardSince` (all with nil): what
    /// changed since an in-memory copy was read (`StationMirror`).
    func stations(heardSince: Timestamp?) async throws -> [StationRecord]
    func eventCount(station: String) async throws -> Int
    /// Adds new stations and updates existing ones (keeping their tokens), all or nothing.
    /// `tokenHashes` has one for every station that may be new.
    func importStations(_ stations: [StationRecord], tokenHashes: [String: String]) async throws -> [StationImportResult]

    /// Rollup rows of one level in [from, to): a region's own, or some stations' summed per start.
    /// Sketches come as stored, to be merged by `SketchAccumulator`.
    func rollupRows(_ scope: RollupScope, level: RollupLevel, from: Timestamp, to: Timestamp) async throws -> [RollupRow<SketchAccumulator>]
    /// `stationTotals` for several periods in one statement, one answer per period in order.
    /// `only`: the figures (column names) to sum, the others left 0; nil: all of them.
    func stationTotals(_ stations: [String], periods: [(from: Timestamp, to: Timestamp)], only: Set<String>?) async throws -> [[String: RollupFigures]]
    /// Per region (keyed by its `description`) and period, the sums of its own day rows
    /// starting in the period (the peak: its highest day), one answer per period in order.
    func regionTotals(_ regions: [RegionPath], periods: [(from: Timestamp, to: Timestamp)]) async throws -> [[String: RollupFigures]]
    /// Amenities of these stations out of order now, and since when.
    func ongoingOutages(_ stations: [String]) async throws -> [OngoingOutage]
    /// Every amenity outage still going on, at every station (the alert evaluator's pass:
    /// naming 200,000 stations in the query cost more than the table holds).
    func allOngoingOutages() async throws -> [OngoingOutage]

    func addUser(_ user: UserRecord, passwordHash: String, tokenHash: String) async throws
    func user(forTokenHash tokenHash: String) async throws -> UserRecord?
    /// A user and their bcrypt password hash, by name (the dashboard's login).
    func user(named name: String) async throws -> (user: UserRecord, passwordHash: String)?

    /// Lets go of connections; the store is not used afterwards.
    func close() async throws
}

public struct StationImportResult: Hashable, Sendable {
    public var id: String
    public var added: Bool
    /// The region before, for a station that moved (its regions' rollups are folded again).
    public var movedFrom: RegionPath?
    public init(id: String, added: Bool, movedFrom: RegionPath?) { self.id = id; self.added = added; self.movedFrom = movedFrom }
}

public enum CollectorStoreError: Error, CustomStringConvertible {
    case duplicateStation(String)
    case duplicateUser(String)
    case unknownStation(String)
    public var description: String {
        switch self {
        case .duplicateStation(let id): return "station \(id) exists already"
        case .duplicateUser(let n): return "user \(n) exists already"
        case .unknownStation(let id): return "no station \(id)"
        }
    }
}

extension CollectorStore {
    /// Per station, its days in [from, to) summed (the peak: its highest day).
    func stationTotals(_ stations: [String], from: Timestamp, to: Timestamp) async throws -> [String: RollupFigures] {
        try await stationTotals(stations, periods: [(from, to)])[0]
    }

    func stationTotals(_ stations: [String], periods: [(from: Timestamp, to: Timestamp)]) async throws -> [[String: RollupFigures]] {
        try await stationTotals(stations, periods: periods, only: nil)
    }
}
