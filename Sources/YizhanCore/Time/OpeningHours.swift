/// Daily opening hours in station-local time, e.g. `["07:00-12:00", "13:00-22:30"]`.
/// A range may cross midnight (`"20:00-06:00"`); `"00:00-24:00"` is always open.
public struct OpeningHours: Hashable, Sendable, CustomStringConvertible {
    public struct Range: Hashable, Sendable {
        /// Minutes since local midnight; `end` may be 1440.
        public var start: Int
        public var end: Int

        func contains(_ minute: Int) -> Bool {
            start <= end ? (minute >= start && minute < end) : (minute >= start || minute < end)
        }
    }

    public var ranges: [Range]
    public var offset: UTCOffset
    /// Days that differ from `ranges` (a holiday closed, a heat wave's longer hours), by
    /// local date `YYYY-MM-DD`; an empty list is closed all that day. Set by the office
    /// (`opening_hours = "06:00-22:00,2026-10-01=closed"`, see OfficeSettingValues).
    public var exceptions: [String: [Range]] = [:]

    public static func always(offset: UTCOffset = .china) -> OpeningHours {
        OpeningHours(ranges: [Range(start: 0, end: 1440)], offset: offset)
    }

    public init(ranges: [Range], offset: UTCOffset) {
        self.ranges = ranges
        self.offset = offset
    }

    /// Parses `"HH:MM-HH:MM"` strings; returns the first bad string on failure.
    public init(parsing specs: [String], offset: UTCOffset) throws(OpeningHoursError) {
        var ranges: [Range] = []
        for spec in specs {
            let parts = spec.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Self.minute(parts[0], allow24: false),
                  let b = Self.minute(parts[1], allow24: true), a != b
            else { throw OpeningHoursError(text: spec) }
            ranges.append(Range(start: a, end: b))
        }
        self.init(ranges: ranges, offset: offset)
    }

    private static func minute(_ text: Substring, allow24: Bool) -> Int? {
        let p = text.trimmingCharacters().split(separator: ":")
        guard p.count == 2, p[0].count == 2, p[1].count == 2, let h = Int(p[0]), let m = Int(p[1]),
              m >= 0, m < 60, h >= 0, h < 24 || (allow24 && h == 24 && m == 0)
        else { return nil }
        return h * 60 + m
    }

    public func isOpen(at t: Timestamp) -> Bool {
        let civil = CivilTime(t, offset: offset)
        let minute = civil.minuteOfDay
        // An exception replaces the day's ranges for the minutes of that local date.
        let today = exceptions.isEmpty ? nil : exceptions[Self.dateKey(civil)]
        return (today ?? ranges).contains { $0.contains(minute) }
    }

    /// `YYYY-MM-DD` of a local time, the key of `exceptions`.
    public static func dateKey(_ c: CivilTime) -> String {
        let y = String(c.year)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + pad2(c.month) + "-" + pad2(c.day)
    }

    public var isAlwaysOpen: Bool { ranges.contains { $0.start == 0 && $0.end == 1440 } }

    /// The ranges as `"HH:MM-HH:MM"` strings, what `init(parsing:offset:)` reads back.
    public var specs: [String] {
        ranges.map { "\(pad2($0.start / 60)):\(pad2($0.start % 60))-\(pad2($0.end / 60)):\(pad2($0.end % 60))" }
    }

    public var description: String { specs.joined(separator: ", ") }
}

public struct OpeningHoursError: Error, Hashable, Sendable, CustomStringConvertible {
    public var text: String
    public var description: String { "bad opening hours \"\(text)\": expected \"HH:MM-HH:MM\"" }
}

extension Substring {
    func trimmingCharacters() -> Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
