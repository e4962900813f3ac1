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
        let pieces = periods.enumerated().filter { !$0.element.isEmpty }.flatMap { p, range in
            StationLevel.pieces(from: range.lowerBound, to: range.upperBound, offset: offset).map {
                (period: p, table: RollupTable.station($0.level), from: $0.from, to: $0.to)
            }
        }
        return grouped(key: "station_id", pieces: pieces, filter: stations, placeholder: placeholder, bigint: bigint, only: only)
    }

    /// The same for regions, from their own day rows (`rollup_region_days`): each period's
    /// days summed per region (the peak: the highest day). A region page's child regions are
    /// read this way, a few rows per child and day whatever the number of their stations.
    /// - Parameter regions: the SQL that restricts `d.region` (`FROM rollup_region_days d` precedes it).
    func regionSQL(regions: String, placeholder: (Int) -> String, bigint: String) -> (sql: String, bounds: [Int64])? {
        let pieces = periods.enumerated().filter { !$0.element.isEmpty }.map { p, range in
            (period: p, table: RollupTable.regionDays, from: range.lowerBound, to: range.upperBound)
        }
        return grouped(key: "region", pieces: pieces, filter: regions, placeholder: placeholder, bigint: bigint, only: nil)
    }

    /// `SELECT key, p, sums...`: each piece's rows labelled with its period, grouped by key and period.
    private func grouped(key: String, pieces: [(period: Int, table: RollupTable, from: Int64, to: Int64)], filter: String,
                         placeholder: (Int) -> String, bigint: String, only: Set<String>?) -> (sql: String, bounds: [Int64])? {
        guard !pieces.isEmpty else { return nil }
        let cols = RollupFigures.columnNames
        var bounds: [Int64] = []
        func bind(_ v: Int64) -> String {
            bounds.append(v)
            return placeholder(bounds.count)
        }
        let selects = pieces.map { piece in
            "SELECT d.\(key), \(piece.period) AS p, \(cols.map { "d.\($0)" }.joined(separator: ", ")) FROM \(piece.table.rawValue) d \(filter) "
                + "AND d.start_ms >= \(bind(piece.from)) AND d.start_ms < \(bind(piece.to))"
        }
        let sums = cols.map { c -> String in
            if let only, !only.contains(c) { return "0\(bigint)" }
            return c == "peak_occupancy" ? "max(\(c))\(bigint)" : "sum(\(c))\(bigint)"
        }.joined(separator: ", ")
        return ("SELECT \(key), p, \(sums) FROM (\(selects.joined(separator: " UNION ALL "))) AS t GROUP BY \(key), p", bounds)
    }
}
