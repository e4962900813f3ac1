/// A station as the public finder and the open-data feed see it: where it is, what it
/// offers and its live state. Nothing about people: no visits, no names but the station's.
public struct FinderStation: Hashable, Sendable {
    public var id: String
    public var name: String
    public var address: String?
    /// The region path as text (`浙江省/舟山市/普陀区`), "" for the nation.
    public var region: String
    public var latitude: Double
    public var longitude: Double
    public var capacity: Int
    public var occupancy: Int
    /// Whether the station said it is open (its opening hours, a manager's closing).
    public var open: Bool
    public var amenities: [String: AmenityStatus]
    /// The daily hours the station reports (`"HH:MM-HH:MM"`), when it does.
    public var openingHours: [String]?
    /// The collector's time of the last heartbeat; nil before the first.
    public var lastSeen: Timestamp?

    public init(id: String, name: String, address: String? = nil, region: String = "", latitude: Double, longitude: Double,
                capacity: Int, occupancy: Int = 0, open: Bool = false, amenities: [String: AmenityStatus] = [:],
                openingHours: [String]? = nil, lastSeen: Timestamp? = nil) {
        self.id = id; self.name = name; self.address = address; self.region = region
        self.latitude = latitude; self.longitude = longitude; self.capacity = capacity; self.occupancy = occupancy
        self.open = open; self.amenities = amenities; self.openingHours = openingHours; self.lastSeen = lastSeen
    }

    /// Heard from within `offlineAfter` of `now`.
    public func isOnline(now: Timestamp, offlineAfter: Duration) -> Bool {
        lastSeen.map { now - $0 < offlineAfter } ?? false
    }

    /// Free seats as a worker may count on them: nil while the station is offline.
    public func freeSeats(now: Timestamp, offlineAfter: Duration) -> Int? {
        isOnline(now: now, offlineAfter: offlineAfter) ? max(0, capacity - occupancy) : nil
    }
}

/// Distances on the ground, without Foundation: the core imports no maths library.
public enum GeoDistance {
    /// The Earth's mean radius.
    static let earthRadiusMeters = 6_371_008.8
    static let radiansPerDegree = Double.pi / 180
    /// Metres in one degree of latitude.
    public static let metersPerDegree = earthRadiusMeters * radiansPerDegree

    /// Straight-line distance by the equirectangular projection around the two points'
    /// mean latitude: within 0.1% of the great circle up to a few tens of kilometres,
    /// which is all a walk is.
    public static func meters(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let x = (lon2 - lon1) * cosine((lat1 + lat2) / 2 * radiansPerDegree)
        let y = lat2 - lat1
        return (x * x + y * y).squareRoot() * metersPerDegree
    }

    /// cos(x) for |x| ≤ π/2 (a latitude in radians) by its Taylor series to x^20, whose
    /// error there is below 1e-16.
    public static func cosine(_ x: Double) -> Double {
        let x2 = x * x
        var term = 1.0, sum = 1.0
        for n in stride(from: 2, through: 20, by: 2) {
            term *= -x2 / Double((n - 1) * n)
            sum += term
        }
        return sum
    }
}

/// Minutes on foot: streets are not straight, so the straight line is stretched by 1.3 (a
/// usual detour factor for city grids) and walked at 80 m a minute (4.8 km/h). Rounded up,
/// at least one minute.
public enum WalkEstimate {
    public static let detourFactor = 1.3
    public static let metersPerMinute = 80.0

    public static func minutes(straightLineMeters d: Double) -> Int {
        max(1, Int((d * detourFactor / metersPerMinute).rounded(.up)))
    }
}

extension FinderStation {
    /// A station's amenities by kind rather than by id: `toilet-2` is a `toilet`, and a
    /// kind counts as working when any of its amenities works (the best status wins).
    public static func byKind(_ amenities: [String: AmenityStatus]) -> [String: AmenityStatus] {
        var kinds: [String: AmenityStatus] = [:]
        for (id, status) in amenities {
            let kind = kind(ofID: id)
            if let have = kinds[kind], rank(have) >= rank(status) { continue }
            kinds[kind] = status
        }
        return kinds
    }

    /// `toilet-2` → `toilet`; an id without a numbered suffix is its own kind.
    public static func kind(ofID id: String) -> String {
        guard let dash = id.lastIndex(of: "-"), dash != id.startIndex else { return id }
        let suffix = id[id.index(after: dash)...]
        return !suffix.isEmpty && suffix.allSatisfy({ $0.isASCII && $0.isNumber }) ? String(id[..<dash]) : id
    }

    static func rank(_ s: AmenityStatus) -> Int {
        switch s { case .ok: 3; case .degraded: 2; case .closed: 1; case .outOfOrder: 0 }
    }
}
