/// RFC 3339 timestamps, as `yizhanctl log` prints them and `--since` / `--until` read them.
public enum RFC3339 {
    /// `2026-11-23T12:30:05.120+08:00` (milliseconds always present).
    public static func format(_ t: Timestamp, offset: UTCOffset) -> String {
        let c = CivilTime(t, offset: offset)
        return "\(pad(c.year, 4))-\(pad2(c.month))-\(pad2(c.day))T\(pad2(c.hour)):\(pad2(c.minute)):\(pad2(c.second)).\(pad(c.millisecond, 3))\(offset)"
    }

    /// Accepts a full RFC 3339 date-time (`2026-11-23T08:00:00+08:00`, fraction optional,
    /// `T` or space), a local date-time without offset (`2026-11-23 08:00`), or a date
    /// (`2026-11-23`, local midnight). Local forms use `defaultOffset`. For people typing
    /// times; what arrives over the wire goes through `parseStrict`.
    public static func parse(_ text: String, defaultOffset: UTCOffset) -> Timestamp? {
        let s = Array(text.trimmingSpaces().utf8)
        guard s.count >= 10, let date = date(s) else { return nil }
        var civil = date
        var i = 10
        var offset = defaultOffset
        if i < s.count {
            guard s[i] == UInt8(ascii: "T") || s[i] == UInt8(ascii: "t") || s[i] == UInt8(ascii: " "),
                  let h = number(s, i + 1, 2), i + 3 < s.count, s[i + 3] == UInt8(ascii: ":"),
                  let mi = number(s, i + 4, 2), h < 24, mi < 60
            else { return nil }
            civil.hour = h; civil.minute = mi
            i += 6
            if i < s.count, s[i] == UInt8(ascii: ":") {
                guard let sec = number(s, i + 1, 2), sec < 60 else { return nil }
                civil.second = sec; i += 3
                guard let next = fraction(s, at: i, into: &civil) else { return nil }
                i = next
            }
            if i < s.count {
                guard let o = UTCOffset(parsing: String(decoding: s[i...], as: UTF8.self)) else { return nil }
                offset = o
            }
        }
        return civil.timestamp(offset: offset)
    }

    /// Exactly RFC 3339's `date-time`: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with
    /// a year from 1970 to 9999, no leap second and nothing around it. Station events and
    /// heartbeats are parsed with this: a device's time is either well-formed or rejected.
    public static func parseStrict(_ text: String) -> Timestamp? {
        let s = Array(text.utf8)
        guard s.count >= 20, s.count <= 40, var civil = date(s), civil.year >= 1970,
              s[10] == UInt8(ascii: "T") || s[10] == UInt8(ascii: "t"),
              let h = number(s, 11, 2), s[13] == UInt8(ascii: ":"), let mi = number(s, 14, 2),
              s[16] == UInt8(ascii: ":"), let sec = number(s, 17, 2), h < 24, mi < 60, sec < 60
        else { return nil }
        civil.hour = h; civil.minute = mi; civil.second = sec
        guard let i = fraction(s, at: 19, into: &civil), i < s.count,
              let offset = UTCOffset(parsing: String(decoding: s[i...], as: UTF8.self))
        else { return nil }
        return civil.timestamp(offset: offset)
    }

    /// `YYYY-MM-DD` at the start of `s`, a real calendar day.
    private static func date(_ s: [UInt8]) -> CivilTime? {
        guard let year = number(s, 0, 4), s[4] == UInt8(ascii: "-"), let month = number(s, 5, 2),
              s[7] == UInt8(ascii: "-"), let day = number(s, 8, 2),
              (1...12).contains(month), day >= 1, day <= CivilTime.daysInMonth(year, month)
        else { return nil }
        return CivilTime(year: year, month: month, day: day)
    }

    /// An optional `.digits` at `i` (milliseconds kept); the index after it, nil if malformed.
    private static func fraction(_ s: [UInt8], at start: Int, into civil: inout CivilTime) -> Int? {
        guard start < s.count, s[start] == UInt8(ascii: ".") else { return start }
        var j = start + 1, ms = 0, digits = 0
        while j < s.count, isDigit(s[j]) {
            if digits < 3 { ms = ms * 10 + Int(s[j] - 48) }
            digits += 1; j += 1
        }
        guard digits > 0, digits <= 9 else { return nil }
        for _ in digits..<max(digits, 3) { ms *= 10 }
        civil.millisecond = ms
        return j
    }

    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

    /// `width` ASCII digits at `at`, or nil.
    static func number(_ s: [UInt8], _ at: Int, _ width: Int) -> Int? {
        guard at >= 0, at + width <= s.count else { return nil }
        var v = 0
        for c in s[at ..< at + width] {
            guard isDigit(c) else { return nil }
            v = v * 10 + Int(c - 48)
        }
        return v
    }
}

extension String {
    func trimmingSpaces() -> Substring {
        var sub = Substring(self)
        while let f = sub.first, f == " " || f == "\t" || f == "\n" || f == "\r" { sub.removeFirst() }
        while let l = sub.last, l == " " || l == "\t" || l == "\n" || l == "\r" { sub.removeLast() }
        return sub
    }
}
