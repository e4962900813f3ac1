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

    /// Every station with coordinates, sorted by id (the feed's order).
    public let stations: [FinderStation]
    /// Counts up with every rebuild: part of the feed's ETag.
    public let generation: UInt64
    public let builtAt: Timestamp
    /// Where the stations are: built when the set of stations or a position changes, and
    /// shared (not copied) by every index made from this one by `updating(_:)`.
    let grid: Grid

    /// The cells and the id → position table: immutable, so indexes share one by reference.
    final class Grid: Sendable {
        let cellDegrees: Double
        let cells: [Int64: [Int32]]
        let positions: [String: Int32]

        init(_ stations: [FinderStation], cellDegrees: Double) {
            self.cellDegrees = cellDegrees
            var cells: [Int64: [Int32]] = [:]
            cells.reserveCapacity(stations.count / 4 + 1)
            var positions: [String: Int32] = [:]
            positions.reserveCapacity(stations.count)
            for (i, s) in stations.enumerated() {
                cells[FinderIndex.key(row: FinderIndex.cell(s.latitude + 90, cellDegrees),
                                      column: FinderIndex.cell(s.longitude + 180, cellDegrees)), default: []].append(Int32(i))
                positions[s.id] = Int32(i)
            }
            self.cells = cells
            self.positions = positions
        }
    }

    public static let empty = FinderIndex(stations: [], generation: 0, builtAt: Timestamp(millisecondsSinceEpoch: 0))

    /// Places the stations on the grid (those with impossible coordinates are left out;
    /// of two with the same id, the first). O(n log n): done on a reload, not per heartbeat.
    public init(stations: [FinderStation], generation: UInt64, builtAt: Timestamp, cellDegrees: Double = 0.02) {
        var seen = Set<String>()
        let located = stations
            .filter { (-90...90).contains($0.latitude) && (-180...180).contains($0.longitude) && seen.insert($0.id).inserted }
            .sorted { $0.id < $1.id }
        self.init(stations: located, grid: Grid(located, cellDegrees: cellDegrees), generation: generation, builtAt: builtAt)
    }

    private init(stations: [FinderStation], grid: Grid, generation: UInt64, builtAt: Timestamp) {
        self.stations = stations; self.grid = grid; self.generation = generation; self.builtAt = builtAt
    }

    /// This index with some stations' live state replaced (free seats, open, amenities,
    /// hours, last seen): the grid is shared, only the station array is copied once. Nil
    /// when a change names a station this index does not hold or moves one (a new
    /// position needs a new grid: build the index again).
    public func updating(_ changes: [FinderStation], generation: UInt64, builtAt: Timestamp) -> FinderIndex? {
        var stations = self.stations
        for change in changes {
            guard let at = grid.positions[change.id].map(Int.init),
                  stations[at].latitude == change.latitude, stations[at].longitude == change.longitude else { return nil }
            stations[at] = change
        }
        return FinderIndex(stations: stations, grid: grid, generation: generation, builtAt: builtAt)
    }

    /// One station by id, when it has a position.
    public func station(_ id: String) -> FinderStation? { grid.positions[id].map { stations[Int($0)] } }

    static func cell(_ degrees: Double, _ size: Double) -> Int64 { Int64((degrees / size).rounded(.down)) }
    static func key(row: Int64, column: Int64) -> Int64 { row &* 1_000_000 &+ column }

    /// The stations open now (said so, and heard from within `offlineAfter`) near a point:
    /// those with room and the amenity working first, nearest first; then the open ones
    /// that are full or whose amenity does not work, nearest first. Closed and offline
    /// stations are never offered. `excluding` leaves one station out (a kiosk's own).
    public func nearest(latitude: Double, longitude: Double, amenity: String? = nil, limit: Int, now: Timestamp,
                        offlineAfter: Duration, maximumMeters: Double = 20_000, excluding: String? = nil) -> [Match] {
        guard limit > 0, !stations.isEmpty else { return [] }
        // Candidates are (position, metres) pairs: sorting them moves no strings or
        // dictionaries (measured: sorting whole matches was half of a question's time).
        var usable: [Candidate] = [], others: [Candidate] = []
        let cellDegrees = grid.cellDegrees
        let row0 = Self.cell(latitude + 90, cellDegrees), column0 = Self.cell(longitude + 180, cellDegrees)
        var ring: Int64 = 0
        while true {
            stations.withUnsafeBufferPointer { all in
                visitRing(ring, row0: row0, column0: column0) { index in
                    // Fields read in place: a copy of the station would retain its six
                    // strings and collections (measured: the largest cost of a question).
                    let i = Int(index)
                    guard all[i].open, all[i].isOnline(now: now, offlineAfter: offlineAfter), all[i].id != excluding else { return }
                    let d = GeoDistance.meters(latitude, longitude, all[i].latitude, all[i].longitude)
                    guard d <= maximumMeters else { return }
                    let c = Candidate(index: index, meters: Int(d.rounded()), exactMeters: d)
                    if all[i].capacity > all[i].occupancy && (amenity == nil || all[i].amenities[amenity!]?.isWorking == true) {
                        usable.append(c)
                    } else {
                        others.append(c)
                    }
                }
            }
            // Nothing in ring + 1 or beyond is nearer than `ring` whole cells; a cell is
            // narrowest east–west at the highest latitude that ring reaches.
            let far = min(89.0, abs(latitude) + Double(ring + 1) * cellDegrees)
            let reach = Double(ring) * cellDegrees * GeoDistance.metersPerDegree * GeoDistance.cosine(far * Double.pi / 180)
            if reach > maximumMeters || ring > 200 { break }
            if usable.count >= limit {
                sortCandidates(&usable)
                if Double(usable[limit - 1].meters) <= reach { break }
            }
            ring += 1
        }
        sortCandidates(&usable)
        if usable.count < limit { sortCandidates(&others) }
        return (usable.prefix(limit) + others.prefix(max(0, limit - usable.count))).map { c in
            let s = stations[Int(c.index)]
            let status = amenity.flatMap { s.amenities[$0] }
            let free = max(0, s.capacity - s.occupancy)
            return Match(station: s, distanceMeters: c.meters, walkMinutes: WalkEstimate.minutes(straightLineMeters: c.exactMeters),
                         freeSeats: free, available: free > 0 && (amenity == nil || status?.isWorking == true), amenity: status)
        }
    }

    /// A station found near the question, before it becomes a `Match`.
    struct Candidate {
        var index: Int32
        var meters: Int
        var exactMeters: Double
    }

    /// Nearer first; of two as near, the smaller id (positions follow ids).
    private func sortCandidates(_ list: inout [Candidate]) {
        list.sort { ($0.meters, $0.index) < ($1.meters, $1.index) }
    }

    private func visitRing(_ r: Int64, row0: Int64, column0: Int64, _ body: (Int32) -> Void) {
        func visit(_ row: Int64, _ column: Int64) {
            if let list = grid.cells[Self.key(row: row, column: column)] { for i in list { body(i) } }
        }
        guard r > 0 else { return visit(row0, column0) }
        for c in (column0 - r)...(column0 + r) { visit(row0 - r, c); visit(row0 + r, c) }
        for row in (row0 - r + 1)...(row0 + r - 1) { visit(row, column0 - r); visit(row, column0 + r) }
    }
}
