/// Reconciliation on the wire: what a station's own log holds per local day (in its
/// heartbeat), and the range the collector asks it to send again (in the answer).
public struct DayCount: Codable, Hashable, Sendable {
    /// The station's local day, `YYYY-MM-DD`.
    public var day: String
    public var firstSeq: Int64
    public var lastSeq: Int64
    /// Events of that day in the log with seq in firstSeq...lastSeq.
    public var count: Int64

    enum CodingKeys: String, CodingKey {
        case day, count
        case firstSeq = "first_seq"
        case lastSeq = "last_seq"
    }
    public init(day: String, firstSeq: Int64, lastSeq: Int64, count: Int64) {
        self.day = day; self.firstSeq = firstSeq; self.lastSeq = lastSeq; self.count = count
    }

    /// `YYYY-MM-DD`, a day that exists.
    static func isDate(_ text: String) -> Bool {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45,
              b.enumerated().allSatisfy({ $0.offset == 4 || $0.offset == 7 || (48...57).contains($0.element) }),
              let y = Int(text.prefix(4)), let m = Int(text.dropFirst(5).prefix(2)), let d = Int(text.suffix(2)),
              (1...12).contains(m), y >= 1
        else { return false }
        return (1...CivilTime.daysInMonth(y, m)).contains(d)
    }

    /// Sane: a date, seqs in order, no more events than seqs.
    public var isValid: Bool {
        return Self.isDate(day) && firstSeq >= 1 && firstSeq <= lastSeq && lastSeq <= IngestLimits.maximumSeq && count >= 0 && count <= lastSeq - firstSeq + 1
    }
}

/// Events the collector lacks: the station sends `fromSeq...toSeq` again.
public struct ResendRange: Codable, Hashable, Sendable {
    public var fromSeq: Int64
    public var toSeq: Int64
    enum CodingKeys: String, CodingKey {
        case fromSeq = "from_seq"
        case toSeq = "to_seq"
    }
    public init(fromSeq: Int64, toSeq: Int64) { self.fromSeq = fromSeq; self.toSeq = toSeq }
}

/// The collector's side of reconciliation, pure: given a station's reported day and the
/// seqs the collector holds in that day's range, what is missing.
public enum ReconciliationCheck {
    /// The missing seqs of `day` as ranges (empty when the collector has as many as the
    /// station). `held` are the seqs the collector holds in firstSeq...lastSeq, ascending.
    public static func missing(_ day: DayCount, held: [Int64]) -> [ClosedRange<Int64>] {
        guard Int64(held.count) < day.count else { return [] }
        var out: [ClosedRange<Int64>] = []
        var next = day.firstSeq
        for s in held where s >= next {
            if s > next { out.append(next...(s - 1)) }
            next = s + 1
        }
        if next <= day.lastSeq { out.append(next...day.lastSeq) }
        return out
    }

    /// How a gap reads in an alert.
    public static func describe(_ ranges: [ClosedRange<Int64>]) -> String {
        let total = ranges.reduce(Int64(0)) { $0 + $1.upperBound - $1.lowerBound + 1 }
        let shown = ranges.prefix(3).map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return "seq \(shown.joined(separator: ", "))\(ranges.count > 3 ? ", …" : "") missing (\(total) events)"
    }
}
