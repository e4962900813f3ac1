/// The stations on a grid of cells, for "which open stations are nearest to me": a pure,
/// immutable snapshot the collector rebuilds when stations or their live state change and
/// every public request reads without a lock or a database.
///
/// Cells are `cellDegrees` on a side (0.02°, about 2.2 km north–south); a question looks
/// at the rings of cells around its own until it has `limit` stations a worker can use that
/// are nearer than anything an unvisited ring could hold, or the rings are farther than
/// `maximumMeters`. Longitudes do not wrap at ±180° (no station is there).
public struct FinderIndex: Sendable {
    /// One answer: a station, how far, and whether a worker can use it now.
    public struct Match: Hashable, Sendable {
        public var station: FinderStation
        public var distanceMeters: Int
        public var walkMinutes: Int
        /// Free seats now (the station is open and online here).
        public var freeSeats: Int
        /// Room, and the asked-for amenity working: what the finder offers first.
        public var available: Bool
        /// The asked-for amenity's status, when one was asked for.
        public var amenity: AmenityStatus?
    }

    /// Every station with coordinates, in the order given.
    public let stations: [FinderStation]
    /// Counts up with every rebuild: part of the feed's ETag.
    public let generation: UInt64
    public let builtAt: Timestamp
    let cellDegrees: Double
    let cells: [Int64: [Int32]]
    let positions: [String: Int32]

    public static let empty = FinderIndex(stations: [], generation: 0, builtAt: Timestamp(millisecondsSinceEpoch: 0))

    public init(stations: [FinderStation], generation: UInt64, builtAt: Timestamp, cellDegrees: Double = 0.02) {
        let located = stations.filter { (-90...90).contains($0.latitude) && (-180...180).contains($0.longitude) }
        self.stations = located
        self.generation = generation
        self.builtAt = builtAt
        self.cellDegrees = cellDegrees
        var cells: [Int64: [Int32]] = [:]
        cells.reserveCapacity(located.count / 4 + 1)
        for (i, s) in located.enumerated() {
            cells[Self.key(row: Self.cell(s.latitude + 90, cellDegrees), column: Self.cell(s.longitude + 180, cellDegrees)), default: []].append(Int32(i))
        }
        self.cells = cells
        positions = Dictionary(located.enumerated().map { ($1.id, Int32($0)) }, uniquingKeysWith: { a, _ in a })
    }

    /// One station by id, when it has a position.
    public func station(_ id: String) -> FinderStation? { positions[id].map { stations[Int($0)] } }

    static func cell(_ degrees: Double, _ size: Double) -> Int64 { Int64((degrees / size).rounded(.down)) }
    static func key(row: Int64, column: Int64) -> Int64 { row &* 1_000_000 &+ column }

    /// The stations open now (said so, and heard from within `offlineAfter`) near a point:
    /// those with room and the amenity working first, nearest first; then the open ones
    /// that are full or whose amenity does not work, nearest first. Closed and offline
    /// stations are never offered. `excluding` leaves one station out (a kiosk's own).
    public func nearest(latitude: Double, longitude: Double, amenity: String? = nil, limit: Int, now: Timestamp,
                        offlineAfter: Duration, maximumMeters: Double = 20_000, excluding: String? = nil) -> [Match] {
        guard limit > 0, !stations.isEmpty else { return [] }
        var usable: [Match] = [], others: [Match] = []
        let row0 = Self.cell(latitude + 90, cellDegrees), column0 = Self.cell(longitude + 180, cellDegrees)
        var ring: Int64 = 0
        while true {
            visitRing(ring, row0: row0, column0: column0) { index in
                let s = stations[Int(index)]
                guard s.id != excluding, s.open, s.isOnline(now: now, offlineAfter: offlineAfter) else { return }
                let d = GeoDistance.meters(latitude, longitude, s.latitude, s.longitude)
                guard d <= maximumMeters else { return }
                let free = max(0, s.capacity - s.occupancy)
                let status = amenity.flatMap { s.amenities[$0] }
                let ok = free > 0 && (amenity == nil || status?.isWorking == true)
                let m = Match(station: s, distanceMeters: Int(d.rounded()), walkMinutes: WalkEstimate.minutes(straightLineMeters: d),
                              freeSeats: free, available: ok, amenity: status)
                if ok { usable.append(m) } else { others.append(m) }
            }
            // Nothing in ring + 1 or beyond is nearer than `ring` whole cells; a cell is
            // narrowest east–west at the highest latitude that ring reaches.
            let far = min(89.0, abs(latitude) + Double(ring + 1) * cellDegrees)
            let reach = Double(ring) * cellDegrees * GeoDistance.metersPerDegree * GeoDistance.cosine(far * Double.pi / 180)
            if reach > maximumMeters || ring > 200 { break }
            if usable.count >= limit {
                usable.sort(by: Self.nearerFirst)
                if Double(usable[limit - 1].distanceMeters) <= reach { break }
            }
            ring += 1
        }
        usable.sort(by: Self.nearerFirst)
        others.sort(by: Self.nearerFirst)
        return Array((usable + others).prefix(limit))
    }

    static func nearerFirst(_ a: Match, _ b: Match) -> Bool {
        (a.distanceMeters, a.station.id) < (b.distanceMeters, b.station.id)
    }

    private func visitRing(_ r: Int64, row0: Int64, column0: Int64, _ body: (Int32) -> Void) {
        func visit(_ row: Int64, _ column: Int64) {
            if let list = cells[Self.key(row: row, column: column)] { for i in list { body(i) } }
        }
        guard r > 0 else { return visit(row0, column0) }
        for c in (column0 - r)...(column0 + r) { visit(row0 - r, c); visit(row0 + r, c) }
        for row in (row0 - r + 1)...(row0 + r - 1) { visit(row, column0 - r); visit(row, column0 + r) }
    }
}
