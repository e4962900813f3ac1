import YizhanCore

/// The rollup deltas of all the batches one ingest transaction writes (group commit), summed
/// per row in memory, so each rollup row is upserted once per group with one sketch union
/// however many batches touch it: sixteen stations' batches of one hour meet in the
/// nation's, the province's and their city's hour rows, which would otherwise be
/// rewritten (and, on PostgreSQL, locked) once per batch.
///
/// Batches are added in the order the transaction stores them; the sums equal adding them
/// one by one. A station's hour peak is the highest of its batches'; what a region's peak
/// gains is what its stations' peaks rose by, and the rises of successive batches telescope
/// to (the group's peak − the stored peak), so the stored peaks are read once, after all
/// batches (`regionRows(oldHourPeaks:oldDayPeaks:)`).
struct RollupGroup {
    /// A row's key: a station or a region ("" is the nation), and the hour's or day's start.
    struct Key: Hashable, Comparable {
        var key: String
        var start: Int64
        static func < (a: Key, b: Key) -> Bool { (a.key, a.start) < (b.key, b.start) }
    }
    typealias Row = RollupPlan.Row

    private(set) var stationHours: [Key: Row] = [:]
    private(set) var stationDays: [Key: Row] = [:]
    private(set) var stationWeeks: [Key: Row] = [:]
    private(set) var stationMonths: [Key: Row] = [:]
    /// Each station's regions: the nation, its ancestors, its own path.
    private(set) var regions: [String: [String]] = [:]
    /// The open outages to store, for the stations whose outages the group changed.
    private(set) var outages: [String: OpenOutages] = [:]
    /// The open outages as the group left them, for a station's next batch in the group.
    private var current: [String: OpenOutages] = [:]

    var isEmpty: Bool { stationHours.isEmpty && stationDays.isEmpty && outages.isEmpty }

    /// The open outages a batch starts from when the group knows them: none matter without
    /// an amenity event (as for a single batch); nil means the store's stored ones.
    func startingOutages(station: String, newEvents: [UsageEvent]) -> OpenOutages? {
        guard newEvents.contains(where: { $0.kind == "amenity" }) else { return [:] }
        return current[station]
    }

    /// Adds one batch's new events (`openOutages` from `startingOutages`, else the stored ones).
    mutating func add(station: String, newEvents: [UsageEvent], openOutages: OpenOutages, region: RegionPath, offset: UTCOffset) {
        guard !newEvents.isEmpty else { return }
        let plan = RollupPlan(newEvents: newEvents, openOutages: openOutages, region: region, offset: offset)
        regions[station] = plan.regions
        if newEvents.contains(where: { $0.kind == "amenity" }) {
            current[station] = plan.outages
            if plan.outagesChanged || outages[station] != nil { outages[station] = plan.outages }
        }
        Self.add(plan.stationHours, key: station, into: &stationHours)
        Self.add(plan.stationDays, key: station, into: &stationDays)
        Self.add(plan.stationWeeks, key: station, into: &stationWeeks)
        Self.add(plan.stationMonths, key: station, into: &stationMonths)
    }

    private static func add(_ rows: [Row], key: String, into table: inout [Key: Row]) {
        for row in rows { accumulate(row, at: Key(key: key, start: row.start), into: &table, peak: .highest) }
    }

    /// Adds `row` to the row at `k` (figures summed, peaks by `peak`, sketches merged), or
    /// puts it there.
    private static func accumulate(_ row: Row, at k: Key, into table: inout [Key: Row], peak: RollupFigures.PeakMerge) {
        if var old = table[k] {
            old.figures.add(row.figures, peak: peak)
            old.workers.merge(row.workers)
            table[k] = old
        } else {
            table[k] = row
        }
    }

    /// The stations' rows, ordered by station and start.
    var sortedStationHours: [(Key, Row)] { stationHours.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    var sortedStationDays: [(Key, Row)] { stationDays.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    var sortedStationWeeks: [(Key, Row)] { stationWeeks.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }
    var sortedStationMonths: [(Key, Row)] { stationMonths.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } }

    /// What the group adds to its regions' hours and days, ordered by region and start.
    /// `oldHourPeaks`/`oldDayPeaks`: the stations' stored peaks of the group's rows, before it.
    func regionRows(oldHourPeaks: [Key: Int64], oldDayPeaks: [Key: Int64]) -> (hours: [(Key, Row)], days: [(Key, Row)]) {
        func fold(_ stationRows: [Key: Row], _ oldPeaks: [Key: Int64]) -> [(Key, Row)] {
            var out: [Key: Row] = [:]
            for (k, row) in stationRows {
                var delta = row
                delta.figures.peakOccupancy = max(0, row.figures.peakOccupancy - (oldPeaks[k] ?? 0))
                for r in regions[k.key] ?? [""] { Self.accumulate(delta, at: Key(key: r, start: k.start), into: &out, peak: .sum) }
            }
            return out.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        return (fold(stationHours, oldHourPeaks), fold(stationDays, oldDayPeaks))
    }
}

/// How a store's group commit has gone: what it wrote, in how many transactions, and how
/// often a failing group was split into its batches (tests and diagnostics).
struct IngestGroupStats: Sendable, CustomStringConvertible {
    var groups = 0
    var batches = 0
    var largest = 0
    var splits = 0

    mutating func wrote(_ n: Int) {
        groups += 1
        batches += n
        largest = max(largest, n)
    }

    var description: String { "\(batches) batches in \(groups) groups (largest \(largest), \(splits) split)" }
}
