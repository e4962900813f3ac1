/// A station's rows above the day: its weeks (from Monday, local time) and its calendar
/// months, each the sum of its days (peak = the highest day, sketches united). Totals over a
/// long period read them instead of every day: a province's 10,000 stations over 30 days
/// were 300,000 day rows, and summing them was most of a ranking's cost (docs/benchmarks.md).
public enum StationLevel: String, Sendable, CaseIterable {
    case day, week, month

    /// The start of the week or month the local day starting at `day` falls in (the day
    /// itself for `.day`).
    public func start(ofDay day: Int64, offset: UTCOffset) -> Int64 {
        self == .day ? day : UsagePeriod.floor(day, bucket, offset)
    }

    var bucket: UsageBucket { self == .week ? .week : self == .month ? .month : .day }

    /// The end of the week or month that starts at `start`.
    func end(ofStart start: Int64, offset: UTCOffset) -> Int64 {
        UsagePeriod.next(start, bucket, offset)
    }

    /// The first week or month start at or after `t`.
    func ceiling(_ t: Int64, offset: UTCOffset) -> Int64 {
        let s = UsagePeriod.floor(t, bucket, offset)
        return s < t ? end(ofStart: s, offset: offset) : s
    }

    /// Whole weeks or months around [from, to): the range a refold of this level covers.
    /// Bounds outside the calendar's years (a rebuild of all time) stay as they are.
    public func widened(from: Int64, to: Int64, offset: UTCOffset) -> (from: Int64, to: Int64) {
        let calendar: Range<Int64> = 0..<253_402_300_800_000  // 1970 to 9999
        return (calendar.contains(from) ? start(ofDay: from, offset: offset) : from, calendar.contains(to) ? ceiling(to, offset: offset) : to)
    }

    /// How to read the sum of a station's day rows starting in [from, to) with as few rows
    /// as possible: the whole months inside from month rows, the whole weeks inside what is
    /// left from week rows, and the rest from day rows. The pieces are disjoint half-open
    /// ranges of row starts, so every day row is counted exactly once.
    public static func pieces(from: Int64, to: Int64, offset: UTCOffset) -> [(level: StationLevel, from: Int64, to: Int64)] {
        func split(_ lo: Int64, _ hi: Int64, _ levels: ArraySlice<StationLevel>) -> [(level: StationLevel, from: Int64, to: Int64)] {
            guard lo < hi else { return [] }
            guard let level = levels.first else { return [(.day, lo, hi)] }
            let rest = levels.dropFirst()
            // Whole blocks inside [lo, hi): from the first start at or after lo to the last
            // start at or before hi.
            let a = level.ceiling(lo, offset: offset)
            let b = UsagePeriod.floor(hi, level.bucket, offset)
            guard a < b else { return split(lo, hi, rest) }
            return split(lo, a, rest) + [(level, a, b)] + split(b, hi, rest)
        }
        // Periods are local whole days in practice; pieces of a period that is not keep
        // the day rows' own rule (a day row counts when it starts in the period).
        return split(from, to, [.month, .week])
    }
}
