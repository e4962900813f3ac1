import YizhanCore

/// The rollup rows one ingested batch adds to, as deltas: both stores sum the plans of the
/// batches they write together (`RollupGroup`) and write them in the transaction that
/// stores the batches' new events (see `RollupFigures` for the levels).
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
}

/// Where rows live: the four rollup tables.
public enum RollupTable: String, CaseIterable, Sendable {
    case stationHours = "rollup_station_hours", stationDays = "rollup_station_days"
    case regionHours = "rollup_region_hours", regionDays = "rollup_region_days"
    /// The key column beside `start_ms`.
    public var keyColumn: String { self == .stationHours || self == .stationDays ? "station_id" : "region" }
}
