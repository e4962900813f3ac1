import YizhanCore

/// A station as the office sees it.
public struct StationRecord: Sendable, Hashable, Codable {
    public var id: String
    public var name: String
    public var district: String?
    public var capacity: Int
    public var latitude: Double?
    public var longitude: Double?
    public var occupancy: Int
    public var lastSeen: Timestamp?
    public var lastAck: Int64

    public init(id: String, name: String, district: String? = nil, capacity: Int, latitude: Double? = nil, longitude: Double? = nil,
                occupancy: Int = 0, lastSeen: Timestamp? = nil, lastAck: Int64 = 0) {
        self.id = id; self.name = name; self.district = district; self.capacity = capacity; self.latitude = latitude
        self.longitude = longitude; self.occupancy = occupancy; self.lastSeen = lastSeen; self.lastAck = lastAck
    }
}

/// A validated event of one station, ready to store.
public struct IngestedEvent: Sendable, Hashable {
    public var seq: Int64
    public var time: Timestamp
    public var kind: String
    public var cardKey: String?
    public var reader: String?
    public var occupancy: Int
    public var staySeconds: Int64?
    public var detail: String?
}

public enum UserRole: String, Sendable, Codable, CaseIterable { case office, manager }

public struct UserRecord: Sendable, Hashable {
    public var name: String
    public var role: UserRole
    /// Manager: the stations they may see. Office: all.
    public var stations: [String]

    public init(name: String, role: UserRole, stations: [String]) { self.name = name; self.role = role; self.stations = stations }
}

/// Everything the collector stores, behind one protocol: SQLite (embedded, the default)
/// and PostgreSQL (several stateless collectors share it) implement it, and one contract
/// suite runs against both.
public protocol CollectorStore: Sendable {
    /// Registers a station; `tokenHash` is SHA-256 of its token (the token is never stored).
    func addStation(_ station: StationRecord, tokenHash: String) async throws
    /// The station whose token hashes to `tokenHash`.
    func station(forTokenHash tokenHash: String) async throws -> String?
    /// Stores the events not stored yet (by station and seq) in one transaction; returns
    /// how many were new. The newest event's occupancy becomes the station's live occupancy.
    func ingest(station: String, events: [IngestedEvent]) async throws -> Int
    func recordHeartbeat(station: String, occupancy: Int, lastAck: Int64, at: Timestamp) async throws
    func stations() async throws -> [StationRecord]
    func eventCount(station: String) async throws -> Int

    func addUser(_ user: UserRecord, passwordHash: String, tokenHash: String) async throws
    func user(forTokenHash tokenHash: String) async throws -> UserRecord?
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
