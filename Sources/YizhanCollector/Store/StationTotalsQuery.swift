import YizhanCore

/// The one statement that sums stations' rows over several periods at once (a period, the
/// one before it and a year earlier). Each period is read in pieces (`StationLevel.pieces`):
/// its whole months from month rows, whole weeks of the rest from week rows, the remaining
/// days from day rows, each row labelled with its period; then grouped by station and
/// period. The benchmark's 30 days (Saturday to Saturday) are then 11 rows a station instead
/// of 29. Both stores build it here; only their placeholders differ.
struct StationTotalsQuery {
    /// Half-open ranges of `start_ms`, in the caller's order.
    let periods: [Range<Int64>]
    let offset: UTCOffset

    init(_ periods: [(from: Timestamp, to: Timestamp)], offset: UTCOffset) {
        self.periods = periods.map { p in
            let (f, t) = (p.from.millisecondsSinceEpoch, p.to.millisecondsSinceEpoch)
            return f..<max(f, t)
        }
        self.offset = offset
    }

    /// The statement, and the bounds to bind after the station list, in order.
    /// - Parameters:
    ///   - stations: the SQL that restricts `d.station_id` to the stations asked about,
    ///     joined or filtered (`FROM <table> d` precedes it).
    ///   - placeholder: the n-th bound's placeholder (1-based among the bounds).
    ///   - only: the columns to sum (the rest come back 0); nil: all. A ranking of 10,000
    ///     stations needs one figure of each, and each sum costs as much as reading the row.
    func sql(stations: String, placeholder: (Int) -> String, bigint: String, only: Set<String>? = nil) -> (sql: String, bounds: [Int64])? {
        let cols = RollupFigures.columnNames
        var bounds: [Int64] = []
        func bind(_ v: Int64) -> String {
            bounds.append(v)
            return placeholder(bounds.count)
        }
        var selects: [String] = []
        for (p, range) in periods.enumerated() where !range.isEmpty {
            for piece in StationLevel.pieces(from: range.lowerBound, to: range.upperBound, offset: offset) {
                let table = RollupTable.station(piece.level).rawValue
                selects.append("SELECT d.station_id, \(p) AS p, \(cols.map { "d.\($0)" }.joined(separator: ", ")) FROM \(table) d \(stations) "
                    + "AND d.start_ms >= \(bind(piece.from)) AND d.start_ms < \(bind(piece.to))")
            }
        }
        guard !selects.isEmpty else { return nil }
        let sums = cols.map { c -> String in
            if let only, !only.contains(c) { return "0\(bigint)" }
            return c == "peak_occupancy" ? "max(\(c))\(bigint)" : "sum(\(c))\(bigint)"
        }.joined(separator: ", ")
        let sql = "SELECT station_id, p, \(sums) FROM (\(selects.joined(separator: " UNION ALL "))) AS t GROUP BY station_id, p"
        return (sql, bounds)
    }

    /// The same for regions, from their own day rows (`rollup_region_days`): each period's
    /// days summed per region (the peak: the highest day). A region page's child regions are
    /// read this way, a few rows per child and day whatever the number of their stations.
    /// - Parameter regions: the SQL that restricts `d.region` (`FROM rollup_region_days d` precedes it).
    func regionSQL(regions: String, placeholder: (Int) -> String, bigint: String) -> (sql: String, bounds: [Int64])? {
        let cols = RollupFigures.columnNames
        var bounds: [Int64] = []
        func bind(_ v: Int64) -> String {
            bounds.append(v)
            return placeholder(bounds.count)
        }
        let selects = periods.enumerated().filter { !$0.element.isEmpty }.map { p, range in
            "SELECT d.region, \(p) AS p, \(cols.map { "d.\($0)" }.joined(separator: ", ")) FROM \(RollupTable.regionDays.rawValue) d \(regions) "
                + "AND d.start_ms >= \(bind(range.lowerBound)) AND d.start_ms < \(bind(range.upperBound))"
        }
        guard !selects.isEmpty else { return nil }
        let sums = cols.map { c in c == "peak_occupancy" ? "max(\(c))\(bigint)" : "sum(\(c))\(bigint)" }.joined(separator: ", ")
        return ("SELECT region, p, \(sums) FROM (\(selects.joined(separator: " UNION ALL "))) AS t GROUP BY region, p", bounds)
    }
}
