import YizhanCore

/// The rollup rows one ingested batch adds to, as deltas: both stores write them in the
/// transaction that stores the batch's new events (see `RollupFigures` for the levels).
struct RollupPlan {
    struct Row {
        var start: Int64
        var figures: RollupFigures
        var workers: HyperLogLog
        var workerBytes: [UInt8] { workers.bytes }
    }

    /// The station's hours and days, ascending.
    var stationHours: [Row]
    var stationDays: [Row]
    /// Every region the station counts in: the nation (""), its ancestors, its own path.
    var regions: [String]
    /// The outages open after the batch, and whether they changed.
    var outages: OpenOutages
    var outagesChanged: Bool

    init(newEvents: [UsageEvent], openOutages: OpenOutages, region: RegionPath, offset: UTCOffset) {
        let (hours, outages) = RollupBuilder.deltas(events: newEvents, openOutages: openOutages)
        stationHours = hours.keys.sorted().map { h in
            Row(start: h, figures: hours[h]!.figures, workers: HyperLogLog.of(cardKeys: hours[h]!.cardKeys))
        }
        var days: [Int64: Row] = [:]
        for row in stationHours {
            let d = RollupBuilder.day(ofHour: row.start, offset: offset)
            var day = days[d] ?? Row(start: d, figures: RollupFigures(), workers: HyperLogLog())
            day.figures.add(row.figures, peak: .highest)
            day.workers.merge(row.workers)
            days[d] = day
        }
        stationDays = days.keys.sorted().map { days[$0]! }
        regions = region.selfAndAncestors.map(\.description)
        self.outages = outages
        outagesChanged = outages != openOutages
    }

    var isEmpty: Bool { stationHours.isEmpty && !outagesChanged }

    /// What the station's hours add to each of its regions' hours: the same figures, but
    /// the peak is what the station's own hour peak rose by (a region's hour peak is the
    /// sum of its stations' hour peaks). `oldPeaks`: the station's hour peaks before.
    func regionHours(oldPeaks: [Int64: Int64]) -> [Row] {
        stationHours.map { row in
            var r = row
            let old = oldPeaks[row.start] ?? 0
            r.figures.peakOccupancy = max(0, row.figures.peakOccupancy - old)
            return r
        }
    }

    /// What the station's days add to its regions' days, the same way (`oldPeaks`: the
    /// station's day peaks before).
    func regionDays(oldPeaks: [Int64: Int64]) -> [Row] {
        stationDays.map { row in
            var r = row
            r.figures.peakOccupancy = max(0, row.figures.peakOccupancy - (oldPeaks[row.start] ?? 0))
            return r
        }
    }
}

/// Where rows live: the four rollup tables.
public enum RollupTable: String, CaseIterable, Sendable {
    case stationHours = "rollup_station_hours", stationDays = "rollup_station_days"
    case regionHours = "rollup_region_hours", regionDays = "rollup_region_days"
    /// The key column beside `start_ms`.
    public var keyColumn: String { self == .stationHours || self == .stationDays ? "station_id" : "region" }
}
