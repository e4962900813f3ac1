import YizhanCore

/// The one statement that sums stations' day rows over several periods at once (a period,
/// the one before it and a year earlier): periods that follow each other are read as one
/// range of each station's primary key, each row labelled with its period, then grouped by
/// station and period. Both stores build it here; only their placeholders differ.
struct StationTotalsQuery {
    /// Half-open ranges of `start_ms`, in the caller's order.
    let periods: [Range<Int64>]

    init(_ periods: [(from: Timestamp, to: Timestamp)]) {
        self.periods = periods.map { p in
            let (f, t) = (p.from.millisecondsSinceEpoch, p.to.millisecondsSinceEpoch)
            return f..<max(f, t)
        }
    }

    /// Runs of periods that follow each other (sorted by start; empty periods left out),
    /// as indices into `periods`.
    var runs: [[Int]] {
        var out: [[Int]] = []
        for i in periods.indices.filter({ !periods[$0].isEmpty }).sorted(by: { periods[$0].lowerBound < periods[$1].lowerBound }) {
            if let last = out.last?.last, periods[last].upperBound == periods[i].lowerBound {
                out[out.count - 1].append(i)
            } else {
                out.append([i])
            }
        }
        return out
    }

    /// The statement, and the bounds to bind after the station list, in order.
    /// - Parameters:
    ///   - stations: the SQL that restricts `d.station_id` to the stations asked about,
    ///     joined or filtered (`FROM rollup_station_days d` precedes it).
    ///   - placeholder: the n-th bound's placeholder (1-based among the bounds).
    func sql(stations: String, placeholder: (Int) -> String, bigint: String) -> (sql: String, bounds: [Int64])? {
        let runs = runs
        guard !runs.isEmpty else { return nil }
        let cols = RollupFigures.columnNames
        var bounds: [Int64] = []
        func bind(_ v: Int64) -> String {
            bounds.append(v)
            return placeholder(bounds.count)
        }
        let selects = runs.map { run -> String in
            // Each row's period: the first of the run whose end is after the row's start.
            let label = run.count == 1 ? "\(run[0])"
                : "CASE " + run.dropLast().map { "WHEN d.start_ms < \(bind(periods[$0].upperBound)) THEN \($0)" }.joined(separator: " ")
                    + " ELSE \(run.last!) END"
            let from = bind(periods[run.first!].lowerBound), to = bind(periods[run.last!].upperBound)
            return "SELECT d.station_id, \(label) AS p, \(cols.map { "d.\($0)" }.joined(separator: ", ")) FROM rollup_station_days d \(stations) "
                + "AND d.start_ms >= \(from) AND d.start_ms < \(to)"
        }
        let sums = cols.map { $0 == "peak_occupancy" ? "max(\($0))\(bigint)" : "sum(\($0))\(bigint)" }.joined(separator: ", ")
        let sql = "SELECT station_id, p, \(sums) FROM (\(selects.joined(separator: " UNION ALL "))) AS t GROUP BY station_id, p"
        return (sql, bounds)
    }
}
