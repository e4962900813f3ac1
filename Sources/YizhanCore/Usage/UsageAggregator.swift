/// Usage by hour or day, computed from the stations' event logs: the collector's stores
/// hand over the same rows, this turns them into the same answer (the contract suite
/// checks that SQLite and PostgreSQL agree).
public enum UsageBucketSize: String, Hashable, Sendable, CaseIterable {
    case hour, day
    public var milliseconds: Int64 { self == .hour ? 3_600_000 : 86_400_000 }
}

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

/// A station's state when the period starts: the occupancy after its last earlier event
/// and the amenities then out of order (so a fault that began yesterday counts today).
public struct UsageStart: Hashable, Sendable {
    public var occupancy: Int
    public var amenities: [String: AmenityStatus]
    public init(occupancy: Int = 0, amenities: [String: AmenityStatus] = [:]) { self.occupancy = occupancy; self.amenities = amenities }
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
}

public struct UsageQuery: Hashable, Sendable {
    public var from: Timestamp
    public var to: Timestamp
    public var bucket: UsageBucketSize
    public var offset: UTCOffset

    /// `from` is moved back to the start of its bucket (local time), `to` forward to an end.
    public init(from: Timestamp, to: Timestamp, bucket: UsageBucketSize, offset: UTCOffset = .china) {
        let size = bucket.milliseconds
        let off = Int64(offset.seconds) * 1000
        func floor(_ t: Timestamp) -> Int64 {
            let local = t.millisecondsSinceEpoch + off
            return (local >= 0 ? local / size : (local - size + 1) / size) * size - off
        }
        let start = floor(from)
        var end = floor(to)
        if end < to.millisecondsSinceEpoch { end += size }
        self.from = Timestamp(millisecondsSinceEpoch: start)
        self.to = Timestamp(millisecondsSinceEpoch: max(end, start + size))
        self.bucket = bucket
        self.offset = offset
    }

    public var bucketCount: Int { Int((to.millisecondsSinceEpoch - from.millisecondsSinceEpoch) / bucket.milliseconds) }
}

public enum UsageAggregator {
    /// - Parameters:
    ///   - starts: each station of the question, with its state at `query.from`.
    ///   - events: the stations' events with `from <= time < to`, in any order.
    ///   - now: downtime and occupancy are not projected past it.
    public static func aggregate(_ query: UsageQuery, starts: [String: UsageStart], events: [UsageEvent], now: Timestamp) -> UsageReport {
        let size = query.bucket.milliseconds
        let from = query.from.millisecondsSinceEpoch
        let count = query.bucketCount
        var buckets = (0..<count).map { UsageFigures(start: Timestamp(millisecondsSinceEpoch: from + Int64($0) * size)) }
        var workers = Array(repeating: Set<String>(), count: count)
        var allWorkers = Set<String>()
        var stay = Array(repeating: (sum: Int64(0), n: 0), count: count)
        var rating = Array(repeating: 0, count: count)

        // Occupancy: the sum over stations, followed event by event.
        var occupancy = starts.mapValues { min(max($0.occupancy, 0), IngestLimits.maximumOccupancy) }
        var inside = occupancy.values.reduce(0, +)
        let horizon = min(query.to.millisecondsSinceEpoch, now.millisecondsSinceEpoch)
        // A bucket starts with the occupancy carried in from before it (workers who came
        // earlier are still inside); buckets up to `carried` have been given theirs.
        var carried = -1
        func carry(through i: Int) {
            while carried < i {
                carried += 1
                if buckets[carried].start.millisecondsSinceEpoch < horizon { buckets[carried].peakOccupancy = inside }
            }
        }

        // Downtime: when each (station, amenity) went out of order, if it is.
        struct Key: Hashable { var station: String; var amenity: String }
        var brokenSince: [Key: Int64] = [:]
        for (station, start) in starts {
            for (amenity, status) in start.amenities where status.isDown { brokenSince[Key(station: station, amenity: amenity)] = from }
        }
        func addDowntime(_ a: Int64, _ b: Int64) {
            let b = min(b, horizon)
            guard b > a else { return }
            var i = Int((a - from) / size)
            var t = a
            while t < b && i < count {
                let end = min(b, from + Int64(i + 1) * size)
                buckets[i].amenityDowntimeSeconds = buckets[i].amenityDowntimeSeconds.saturatingAdd((end - t) / 1000)
                t = end; i += 1
            }
        }

        // Stable order whatever the store returned: time, station, seq.
        let ordered = events.sorted { ($0.time, $0.station, $0.seq) < ($1.time, $1.station, $1.seq) }
        for e in ordered {
            let t = e.time.millisecondsSinceEpoch
            guard t >= from, t < query.to.millisecondsSinceEpoch else { continue }
            let i = Int((t - from) / size)
            carry(through: i)
            if starts[e.station] != nil {
                // Occupancies are bounded at ingest; clamped again for rows from before.
                let occ = min(max(e.occupancy, 0), IngestLimits.maximumOccupancy)
                inside += occ - (occupancy[e.station] ?? 0)
                occupancy[e.station] = occ
                buckets[i].peakOccupancy = max(buckets[i].peakOccupancy, inside)
            }
            switch e.kind {
            case "check_in":
                buckets[i].visits += 1
                if let k = e.cardKey { workers[i].insert(k); allWorkers.insert(k) }
            case "check_out", "auto_check_out":
                // Rows stored before ingest bounded stays may hold anything: such a stay
                // is not a stay and is left out rather than trap the sum.
                if let s = e.staySeconds, (0...IngestLimits.maximumStaySeconds).contains(s) {
                    stay[i].sum = stay[i].sum.saturatingAdd(s); stay[i].n += 1
                }
            case "rejected_full": buckets[i].rejectedFull += 1
            case "bad_read": buckets[i].badReads += 1
            case "fault_report": buckets[i].faultReports += 1
            case "rating":
                if case .rating(let score)? = try? AmenityEventDetail.parse(kind: e.kind, detail: e.detail) {
                    buckets[i].ratings += 1; rating[i] += score
                }
            case "amenity":
                if case .change(let amenity, let status, _, _)? = try? AmenityEventDetail.parse(kind: e.kind, detail: e.detail) {
                    let key = Key(station: e.station, amenity: amenity)
                    if let since = brokenSince[key], !status.isDown {
                        addDowntime(since, t); brokenSince[key] = nil
                    } else if brokenSince[key] == nil, status.isDown {
                        brokenSince[key] = t
                    }
                }
            default: break
            }
        }
        carry(through: count - 1)
        for since in brokenSince.values { addDowntime(since, query.to.millisecondsSinceEpoch) }

        var totals = UsageFigures(start: query.from)
        var totalStay = (sum: Int64(0), n: 0), totalRating = 0
        for i in buckets.indices {
            buckets[i].uniqueWorkers = workers[i].count
            if stay[i].n > 0 { buckets[i].meanStaySeconds = (stay[i].sum + Int64(stay[i].n / 2)) / Int64(stay[i].n) }
            if buckets[i].ratings > 0 { buckets[i].meanRating = rounded(Double(rating[i]) / Double(buckets[i].ratings)) }
            totals.visits += buckets[i].visits
            totals.peakOccupancy = max(totals.peakOccupancy, buckets[i].peakOccupancy)
            totals.rejectedFull += buckets[i].rejectedFull
            totals.badReads += buckets[i].badReads
            totals.faultReports += buckets[i].faultReports
            totals.amenityDowntimeSeconds = totals.amenityDowntimeSeconds.saturatingAdd(buckets[i].amenityDowntimeSeconds)
            totals.ratings += buckets[i].ratings
            totalStay.sum = totalStay.sum.saturatingAdd(stay[i].sum); totalStay.n += stay[i].n
            totalRating += rating[i]
        }
        totals.uniqueWorkers = allWorkers.count
        if totalStay.n > 0 { totals.meanStaySeconds = (totalStay.sum + Int64(totalStay.n / 2)) / Int64(totalStay.n) }
        if totals.ratings > 0 { totals.meanRating = rounded(Double(totalRating) / Double(totals.ratings)) }
        return UsageReport(buckets: buckets, totals: totals)
    }

    private static func rounded(_ x: Double) -> Double { (x * 100).rounded() / 100 }
}

extension Int64 {
    /// `self + other`, held at the bounds instead of trapping.
    @inlinable public func saturatingAdd(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
