/// Rollups: what the office's questions need, kept per station and hour as events arrive,
/// so a question costs its buckets, not its events (docs/analytics.md).
///
/// Four levels, each defined by the one below, and every figure only ever grows as new
/// events arrive (so a level can be kept up to date by adding deltas, exactly once):
/// - station-hour: folded from the station's events of that hour (`RollupBuilder`);
/// - station-day: the station's hours of that local day (sums; peak = the highest hour);
/// - region-hour: the region's stations' hours (sums; peak = the sum of the stations' hour
///   peaks, an upper bound of the most workers inside at once);
/// - region-day: the region's stations' days (sums; peak = the sum of their day peaks).
/// A question about several stations sums their rows the same way; longer buckets (weeks,
/// months) take the highest day.
/// Unique workers are sketches of card keys, merged by union at every level.
public struct RollupFigures: Hashable, Sendable, Codable {
    public var visits: Int64 = 0
    /// Check-outs and automatic check-outs with a valid stay; `staySeconds` is their sum.
    public var checkOuts: Int64 = 0
    public var staySeconds: Int64 = 0
    public var rejectedFull: Int64 = 0
    public var badReads: Int64 = 0
    public var faultReports: Int64 = 0
    public var ratings: Int64 = 0
    public var ratingSum: Int64 = 0
    /// The most workers inside (see the levels above for what it means beyond a station).
    public var peakOccupancy: Int64 = 0
    /// Seconds amenities spent out of order, summed over amenities (closed outages only;
    /// an outage still going on is added at question time).
    public var downtimeSeconds: Int64 = 0

    public init() {}

    public enum PeakMerge: Sendable { case highest, sum }

    /// Adds `other` in: every count is summed (saturating), the peak by `peak`.
    public mutating func add(_ other: RollupFigures, peak: PeakMerge) {
        visits = visits.saturatingAdd(other.visits)
        checkOuts = checkOuts.saturatingAdd(other.checkOuts)
        staySeconds = staySeconds.saturatingAdd(other.staySeconds)
        rejectedFull = rejectedFull.saturatingAdd(other.rejectedFull)
        badReads = badReads.saturatingAdd(other.badReads)
        faultReports = faultReports.saturatingAdd(other.faultReports)
        ratings = ratings.saturatingAdd(other.ratings)
        ratingSum = ratingSum.saturatingAdd(other.ratingSum)
        downtimeSeconds = downtimeSeconds.saturatingAdd(other.downtimeSeconds)
        switch peak {
        case .highest: peakOccupancy = max(peakOccupancy, other.peakOccupancy)
        case .sum: peakOccupancy = peakOccupancy.saturatingAdd(other.peakOccupancy)
        }
    }

    public var isZero: Bool { self == RollupFigures() }

    /// The columns as stores keep them, in this order (`RollupFigures(columns:)` reads them back).
    public static let columnNames = ["visits", "check_outs", "stay_seconds", "rejected_full", "bad_reads", "fault_reports",
                                     "ratings", "rating_sum", "peak_occupancy", "downtime_seconds"]
    public var columns: [Int64] {
        [visits, checkOuts, staySeconds, rejectedFull, badReads, faultReports, ratings, ratingSum, peakOccupancy, downtimeSeconds]
    }
    public init(columns c: [Int64]) {
        precondition(c.count == Self.columnNames.count)
        visits = c[0]; checkOuts = c[1]; staySeconds = c[2]; rejectedFull = c[3]; badReads = c[4]; faultReports = c[5]
        ratings = c[6]; ratingSum = c[7]; peakOccupancy = c[8]; downtimeSeconds = c[9]
    }
}

/// What new events add to one station's hour: figures and the card keys of check-ins.
public struct RollupHourDelta: Hashable, Sendable {
    public var figures = RollupFigures()
    public var cardKeys: Set<String> = []
    public init() {}
}

/// A station's amenities out of order right now, and since when (milliseconds): kept by
/// the store beside the rollups, because an outage's downtime is known when it ends.
public typealias OpenOutages = [String: Int64]

public enum RollupBuilder {
    public static let hourMilliseconds: Int64 = 3_600_000

    /// The start of the UTC hour `t` falls in. Local hours are UTC hours: report offsets
    /// are whole hours (`UTCOffset.isWholeHours`).
    public static func hour(of t: Int64) -> Int64 {
        (t >= 0 ? t / hourMilliseconds : (t - hourMilliseconds + 1) / hourMilliseconds) * hourMilliseconds
    }

    /// Folds one station's new events (each stored for the first time; in any order) into
    /// per-hour deltas, given the outages open before them. Returns the deltas and the
    /// outages open after them.
    public static func deltas(events: [UsageEvent], openOutages: OpenOutages) -> (hours: [Int64: RollupHourDelta], outages: OpenOutages) {
        var hours: [Int64: RollupHourDelta] = [:]
        var outages = openOutages
        for e in events.sorted(by: { ($0.seq, $0.time) < ($1.seq, $1.time) }) {
            let t = e.time.millisecondsSinceEpoch
            let h = hour(of: t)
            var d = hours[h] ?? RollupHourDelta()
            // Occupancies are bounded at ingest; clamped again for rows from before. A
            // departure's occupancy is the one after it: the one before was one more, and
            // it may be this hour's peak (workers who came in an earlier hour).
            let occ = Int64(min(max(e.occupancy, 0), IngestLimits.maximumOccupancy))
            let before = e.kind == "check_out" || e.kind == "auto_check_out" ? occ + 1 : occ
            d.figures.peakOccupancy = max(d.figures.peakOccupancy, before, occ)
            switch e.kind {
            case "check_in":
                d.figures.visits += 1
                if let k = e.cardKey { d.cardKeys.insert(k) }
            case "check_out", "auto_check_out":
                // A stay outside the bounds (rows stored before ingest bounded them) is not a stay.
                if let s = e.staySeconds, (0...IngestLimits.maximumStaySeconds).contains(s) {
                    d.figures.checkOuts += 1; d.figures.staySeconds = d.figures.staySeconds.saturatingAdd(s)
                }
            case "rejected_full": d.figures.rejectedFull += 1
            case "bad_read": d.figures.badReads += 1
            case "fault_report": d.figures.faultReports += 1
            case "rating":
                if case .rating(let score)? = try? AmenityEventDetail.parse(kind: e.kind, detail: e.detail) {
                    d.figures.ratings += 1; d.figures.ratingSum += Int64(score)
                }
            case "amenity":
                if case .change(let amenity, let status, _, _)? = try? AmenityEventDetail.parse(kind: e.kind, detail: e.detail) {
                    if let since = outages[amenity], !status.isDown {
                        hours[h] = d
                        addDowntime(from: since, to: t, into: &hours)
                        d = hours[h]!
                        outages[amenity] = nil
                    } else if outages[amenity] == nil, status.isDown {
                        outages[amenity] = t
                    }
                }
            default: break
            }
            hours[h] = d
        }
        return (hours, outages)
    }

    /// Spreads the downtime of [from, to) over the hours it covers.
    public static func addDowntime(from: Int64, to: Int64, into hours: inout [Int64: RollupHourDelta]) {
        var t = from
        while t < to {
            let h = hour(of: t)
            let end = min(to, h + hourMilliseconds)
            hours[h, default: RollupHourDelta()].figures.downtimeSeconds += (end - t) / 1000
            t = end
        }
    }

    /// The start of the local day that hour `h` falls in (`offset` in whole hours).
    public static func day(ofHour h: Int64, offset: UTCOffset) -> Int64 {
        let off = Int64(offset.seconds) * 1000
        let local = h + off
        let size: Int64 = 86_400_000
        return (local >= 0 ? local / size : (local - size + 1) / size) * size - off
    }
}

/// A region path: province/city/district/street, written with `/` (浙江省/舟山市/普陀区/沈家门街道).
/// A question about a region covers every station whose path starts with it, by whole
/// segments. The nation is the empty path.
public struct RegionPath: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let segments: [String]
    public static let nation = RegionPath(segments: [])
    public static let maximumDepth = 6
    public static let maximumSegmentLength = 64

    public init(segments: [String]) { self.segments = segments }

    /// Parses `浙江省/舟山市`: segments are trimmed, empty ones (a leading or trailing `/`)
    /// dropped. Nil for control characters, more than 6 levels or a segment over 64 characters.
    public init?(parsing text: String) {
        var segments: [String] = []
        for raw in text.split(separator: "/", omittingEmptySubsequences: false) {
            let s = Self.trimmed(raw)
            if s.isEmpty { continue }
            guard s.count <= Self.maximumSegmentLength, !s.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return nil }
            segments.append(s)
        }
        guard segments.count <= Self.maximumDepth else { return nil }
        self.segments = segments
    }

    /// Without the spaces (ASCII and ideographic) around it.
    static func trimmed(_ raw: Substring) -> String {
        var s = raw
        while let f = s.first, f == " " || f == "\t" || f == "\u{3000}" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\u{3000}" { s = s.dropLast() }
        return String(s)
    }

    public var description: String { segments.joined(separator: "/") }
    // Inlinable: asked of every station of a national page, and a call across the module
    // (with its retain and release of `segments`) cost more than the answer.
    @inlinable public var isNation: Bool { segments.isEmpty }
    @inlinable public var depth: Int { segments.count }
    /// The nation, then each ancestor, then this path itself: every region it counts in.
    public var selfAndAncestors: [RegionPath] { (0...segments.count).map { RegionPath(segments: Array(segments.prefix($0))) } }
    public var parent: RegionPath? { segments.isEmpty ? nil : RegionPath(segments: Array(segments.dropLast())) }
    public var name: String { segments.last ?? "" }
    @inlinable public func contains(_ other: RegionPath) -> Bool { other.segments.starts(with: segments) }
    public static func < (a: RegionPath, b: RegionPath) -> Bool { a.segments.lexicographicallyPrecedes(b.segments) }
}

/// As its text (`浙江省/舟山市`).
extension RegionPath: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let p = RegionPath(parsing: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a region path"))
        }
        self = p
    }
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

