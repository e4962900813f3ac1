/// Turns rollup rows into the office's answer: buckets of an hour, a day, a week (from
/// Monday) or a calendar month in the report's offset, and totals over the period.

/// One event as usage needs it.
public struct UsageEvent: Hashable, Sendable {
    public var station: String
    public var seq: Int64
    public var time: Timestamp
    public var kind: String
    public var cardKey: String?
    public var occupancy: Int
    public var staySeconds: Int64?
    public var detail: String?

    public init(station: String, seq: Int64, time: Timestamp, kind: String, cardKey: String?, occupancy: Int,
                staySeconds: Int64?, detail: String?) {
        self.station = station; self.seq = seq; self.time = time; self.kind = kind; self.cardKey = cardKey
        self.occupancy = occupancy; self.staySeconds = staySeconds; self.detail = detail
    }
}

extension UsageEvent {
    public init(station: String, ingested e: IngestedEvent) {
        self.init(station: station, seq: e.seq, time: e.time, kind: e.kind, cardKey: e.cardKey, occupancy: e.occupancy,
                  staySeconds: e.staySeconds, detail: e.detail)
    }
}

public struct UsageFigures: Hashable, Sendable {
    public var start: Timestamp
    public var visits = 0
    public var uniqueWorkers = 0
    /// The most workers inside at once (summed over the stations at each moment).
    public var peakOccupancy = 0
    public var meanStaySeconds: Int64?
    public var rejectedFull = 0
    public var badReads = 0
    public var faultReports = 0
    /// Summed over amenities: time spent out_of_order inside the bucket (up to now).
    public var amenityDowntimeSeconds: Int64 = 0
    public var ratings = 0
    /// Mean satisfaction 1–5, to two decimals.
    public var meanRating: Double?

    public init(start: Timestamp) { self.start = start }
}

public struct UsageReport: Hashable, Sendable {
    public var buckets: [UsageFigures]
    /// The whole period: unique workers are distinct over the period, not a sum.
    public var totals: UsageFigures
    /// Some unique-worker figure is a sketch's estimate (beyond its exact small-set mode).
    public var uniqueWorkersEstimated = false
    /// Several stations: the peak is the sum of their peaks, an upper bound.
    public var peakIsUpperBound = false

    public init(buckets: [UsageFigures], totals: UsageFigures) { self.buckets = buckets; self.totals = totals }
}

public enum UsageBucket: String, Hashable, Sendable, CaseIterable {
    case hour, day, week, month
    /// Which rollup level answers it: hour rows for hours, day rows for the rest.
    public var level: RollupLevel { self == .hour ? .hour : .day }
}

public enum RollupLevel: String, Hashable, Sendable { case hour, day }

/// A union-mergeable distinct count (the HyperLogLog sketch of card keys; a plain set in
/// tests of this file).
public protocol WorkerSketch: Sendable {
    static var empty: Self { get }
    mutating func merge(_ other: Self)
    /// `merge(other)`, returning `other.distinctCount` (one pass where a sketch can).
    mutating func merge(counting other: Self) -> Int
    var distinctCount: Int { get }
    /// False once the sketch estimates (beyond its exact small-set mode).
    var isExact: Bool { get }
}

extension WorkerSketch {
    public mutating func merge(counting other: Self) -> Int {
        merge(other)
        return other.distinctCount
    }
}

/// One rollup row as a question reads it: a station's or a region's hour or day.
public struct RollupRow<Sketch: WorkerSketch>: Sendable {
    public var start: Int64
    public var figures: RollupFigures
    public var workers: Sketch
    public init(start: Int64, figures: RollupFigures, workers: Sketch) { self.start = start; self.figures = figures; self.workers = workers }
}

/// An outage still going on, in the question's scope.
public struct OngoingOutage: Hashable, Sendable {
    public var station: String
    public var amenity: String
    public var since: Int64
    public init(station: String, amenity: String, since: Int64) { self.station = station; self.amenity = amenity; self.since = since }
}

/// The buckets of a question: `from` moved back to the start of its bucket, `to` forward
/// to an end, in local time.
public struct UsagePeriod: Hashable, Sendable {
    public let bucket: UsageBucket
    public let offset: UTCOffset
    /// Bucket starts, then the end of the last bucket.
    public let bounds: [Int64]

    public static let maximumBuckets = 4000

    public enum Problem: Error, Equatable { case tooManyBuckets(Int) }

    public init(from: Timestamp, to: Timestamp, bucket: UsageBucket, offset: UTCOffset) throws(Problem) {
        self.bucket = bucket; self.offset = offset
        var t = Self.floor(from.millisecondsSinceEpoch, bucket, offset)
        var bounds = [t]
        let end = to.millisecondsSinceEpoch
        repeat {
            t = Self.next(t, bucket, offset)
            bounds.append(t)
            if bounds.count > Self.maximumBuckets + 1 {
                // Count the rest cheaply to say how many were asked for.
                let size: Int64 = [UsageBucket.hour: 3_600_000, .day: 86_400_000, .week: 604_800_000, .month: 2_629_746_000][bucket]!
                throw .tooManyBuckets(Self.maximumBuckets + Int((end - t) / size) + 1)
            }
        } while t < end
        self.bounds = bounds
    }

    public var from: Timestamp { Timestamp(millisecondsSinceEpoch: bounds.first!) }
    public var to: Timestamp { Timestamp(millisecondsSinceEpoch: bounds.last!) }
    public var count: Int { bounds.count - 1 }

    /// The same buckets shifted back: by one period length (`previous`) or a year.
    public func previous() throws(Problem) -> UsagePeriod {
        let length = bounds.last! - bounds.first!
        return try UsagePeriod(from: Timestamp(millisecondsSinceEpoch: bounds.first! - length),
                               to: Timestamp(millisecondsSinceEpoch: bounds.first!), bucket: bucket, offset: offset)
    }
    public func yearEarlier() throws(Problem) -> UsagePeriod {
        func back(_ ms: Int64) -> Timestamp {
            var c = CivilTime(Timestamp(millisecondsSinceEpoch: ms), offset: offset)
            c.year -= 1
            c.day = min(c.day, CivilTime.daysInMonth(c.year, c.month))
            return c.timestamp(offset: offset)
        }
        return try UsagePeriod(from: back(bounds.first!), to: back(bounds.last!), bucket: bucket, offset: offset)
    }

    /// The bucket a row's start falls in, if any.
    public func index(of t: Int64) -> Int? {
        guard let first = bounds.first, let last = bounds.last, t >= first, t < last else { return nil }
        var lo = 0, hi = bounds.count - 1  // bounds[lo] <= t < bounds[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if bounds[mid] <= t { lo = mid } else { hi = mid }
        }
        return lo
    }

    static func floor(_ t: Int64, _ bucket: UsageBucket, _ offset: UTCOffset) -> Int64 {
        var c = CivilTime(Timestamp(millisecondsSinceEpoch: t), offset: offset)
        c.minute = 0; c.second = 0; c.millisecond = 0
        switch bucket {
        case .hour: break
        case .day: c.hour = 0
        case .week:
            c.hour = 0
            let day = c.timestamp(offset: offset).millisecondsSinceEpoch
            return day - Int64(c.weekday - 1) * 86_400_000
        case .month: c.hour = 0; c.day = 1
        }
        return c.timestamp(offset: offset).millisecondsSinceEpoch
    }

    static func next(_ t: Int64, _ bucket: UsageBucket, _ offset: UTCOffset) -> Int64 {
        switch bucket {
        case .hour: return t + 3_600_000
        case .day: return t + 86_400_000
        case .week: return t + 604_800_000
        case .month:
            var c = CivilTime(Timestamp(millisecondsSinceEpoch: t), offset: offset)
            if c.month == 12 { c.year += 1; c.month = 1 } else { c.month += 1 }
            return c.timestamp(offset: offset).millisecondsSinceEpoch
        }
    }
}

public enum UsageReportBuilder {
    /// - Parameters:
    ///   - rows: the scope's rows of `period.bucket.level` (one per hour or day), in any order.
    ///   - outages: outages still going on in the scope; counted up to `now`.
    ///   - peakIsSummed: the scope has several stations (the peak is then an upper bound).
    public static func report<S: WorkerSketch>(_ period: UsagePeriod, rows: [RollupRow<S>], outages: [OngoingOutage],
                                              now: Timestamp, peakIsSummed: Bool) -> UsageReport {
        let n = period.count
        var figures = Array(repeating: RollupFigures(), count: n)
        var sketches = Array(repeating: S.empty, count: n)
        var total = RollupFigures()
        var all = S.empty
        for row in rows {
            guard let i = period.index(of: row.start) else { continue }
            figures[i].add(row.figures, peak: .highest)
            sketches[i].merge(row.workers)
        }
        let horizon = min(period.bounds.last!, now.millisecondsSinceEpoch)
        for o in outages {
            for i in 0..<n {
                let a = max(o.since, period.bounds[i]), b = min(period.bounds[i + 1], horizon)
                if b > a { figures[i].downtimeSeconds = figures[i].downtimeSeconds.saturatingAdd((b - a) / 1000) }
            }
        }
        var exact = true
        let buckets = (0..<n).map { i -> UsageFigures in
            total.add(figures[i], peak: .highest)
            let unique = all.merge(counting: sketches[i])
            exact = exact && sketches[i].isExact
            return usageFigures(figures[i], uniqueWorkers: unique, start: period.bounds[i])
        }
        exact = exact && all.isExact
        var report = UsageReport(buckets: buckets, totals: usageFigures(total, uniqueWorkers: all.distinctCount, start: period.bounds[0]))
        report.uniqueWorkersEstimated = !exact
        report.peakIsUpperBound = peakIsSummed
        return report
    }

    static func usageFigures(_ f: RollupFigures, uniqueWorkers: Int, start: Int64) -> UsageFigures {
        var u = UsageFigures(start: Timestamp(millisecondsSinceEpoch: start))
        u.visits = clampInt(f.visits)
        u.uniqueWorkers = uniqueWorkers
        u.peakOccupancy = clampInt(f.peakOccupancy)
        if f.checkOuts > 0 { u.meanStaySeconds = f.staySeconds.saturatingAdd(f.checkOuts / 2) / f.checkOuts }
        u.rejectedFull = clampInt(f.rejectedFull)
        u.badReads = clampInt(f.badReads)
        u.faultReports = clampInt(f.faultReports)
        u.amenityDowntimeSeconds = f.downtimeSeconds
        u.ratings = clampInt(f.ratings)
        if f.ratings > 0 { u.meanRating = (Double(f.ratingSum) / Double(f.ratings) * 100).rounded() / 100 }
        return u
    }

    private static func clampInt(_ v: Int64) -> Int { Int(clamping: v) }
}

/// The collector's sketches: postgresql-hll's defaults (log2m 11, regwidth 5: about 2.3 %
/// standard error; exact below its explicit threshold).
extension HyperLogLog: WorkerSketch {
    public static var empty: HyperLogLog { HyperLogLog() }
    /// Sketches of other parameters are never written by the collector; one read from a
    /// damaged row is left out of the union rather than fail the question.
    public mutating func merge(_ other: HyperLogLog) {
        do throws(HyperLogLogError) { try formUnion(other) } catch {}
    }
    public var distinctCount: Int { cardinality.map { Int($0.rounded()) } ?? 0 }
    public var isExact: Bool { representation == .empty || representation == .explicit }

    /// A sketch of the given card keys (64 hex digits each; anything else hashed as text).
    public static func of(cardKeys: some Sequence<String>) -> HyperLogLog {
        var h = HyperLogLog()
        for k in cardKeys {
            let hash = (try? HyperLogLog.hash(cardKey: CardKey(hex: k))) ?? HyperLogLog.hash(text: k)
            h.add(hashedValue: hash)
        }
        return h
    }
}

extension Int64 {
    /// `self + other`, held at the bounds instead of trapping.
    @inlinable public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
