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

    /// The station's hours, days, weeks and months, ascending.
    var stationHours: [Row]
    var stationDays: [Row]
    var stationWeeks: [Row]
    var stationMonths: [Row]
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
        stationDays = Self.fold(stationHours) { RollupBuilder.day(ofHour: $0, offset: offset) }
        stationWeeks = Self.fold(stationDays) { StationLevel.week.start(ofDay: $0, offset: offset) }
        stationMonths = Self.fold(stationDays) { StationLevel.month.start(ofDay: $0, offset: offset) }
        regions = region.selfAndAncestors.map(\.description)
        self.outages = outages
        outagesChanged = outages != openOutages
    }

    var isEmpty: Bool { stationHours.isEmpty && !outagesChanged }

    /// A station's rows summed into the longer rows their starts fall in (`start`: a row's
    /// start to the longer row's), ascending; the peak is the highest row's.
    static func fold(_ rows: [Row], start: (Int64) -> Int64) -> [Row] {
        var out: [Int64: Row] = [:]
        for row in rows {
            let s = start(row.start)
            var longer = out[s] ?? Row(start: s, figures: RollupFigures(), workers: HyperLogLog())
            longer.figures.add(row.figures, peak: .highest)
            longer.workers.merge(row.workers)
            out[s] = longer
        }
        return out.keys.sorted().map { out[$0]! }
    }
}

/// Where rows live: the rollup tables.
public enum RollupTable: String, CaseIterable, Sendable {
    case stationHours = "rollup_station_hours", stationDays = "rollup_station_days"
    case regionHours = "rollup_region_hours", regionDays = "rollup_region_days"
    /// Station weeks and months (migration v9, `StationLevel`).
    case stationWeeks = "rollup_station_weeks", stationMonths = "rollup_station_months"
    /// The key column beside `start_ms`.
    public var keyColumn: String { self == .regionHours || self == .regionDays ? "region" : "station_id" }
    /// The tables of the first rollup migration (v4), made as they were then.
    static let firstTables: [RollupTable] = [.stationHours, .stationDays, .regionHours, .regionDays]

    /// The table of a station level.
    static func station(_ level: StationLevel) -> RollupTable {
        switch level {
        case .day: .stationDays
        case .week: .stationWeeks
        case .month: .stationMonths
        }
    }
}

/// The SQL both stores fold station weeks with (months need each store's date functions).
enum StationLevelSQL {
    /// The Monday a day row (`start_ms`, a local midnight) falls in: the epoch's day 0 was a
    /// Thursday, so local day d is (d + 3) % 7 days after a Monday.
    static func week(offsetMilliseconds off: Int64) -> String {
        "start_ms - ((((start_ms + \(off)) / 86400000) + 3) % 7) * 86400000"
    }
}
