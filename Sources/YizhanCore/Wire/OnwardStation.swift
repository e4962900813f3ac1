/// A station nearby that a worker can go on to, as the collector tells a station in its
/// heartbeat answer (`onward`): the kiosk of a full or soon closing station shows them.
public struct OnwardStation: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var address: String?
    /// Straight line × 1.3 at 80 m a minute (`WalkEstimate`), rounded up.
    public var walkMinutes: Int
    public var distanceMeters: Int
    /// Free seats when the collector last heard from that station.
    public var freeSeats: Int
    public var openingHours: [String]?

    enum CodingKeys: String, CodingKey {
        case id, name, address
        case walkMinutes = "walk_minutes", distanceMeters = "distance_m", freeSeats = "free_seats", openingHours = "opening_hours"
    }

    public init(id: String, name: String, address: String? = nil, walkMinutes: Int, distanceMeters: Int, freeSeats: Int,
                openingHours: [String]? = nil) {
        self.id = id; self.name = name; self.address = address; self.walkMinutes = walkMinutes
        self.distanceMeters = distanceMeters; self.freeSeats = freeSeats; self.openingHours = openingHours
    }

    public init(_ m: FinderIndex.Match) {
        self.init(id: m.station.id, name: m.station.name, address: m.station.address, walkMinutes: m.walkMinutes,
                  distanceMeters: m.distanceMeters, freeSeats: m.freeSeats, openingHours: m.station.openingHours)
    }

    /// How many the collector sends: the kiosk shows three.
    public static let count = 3
}
