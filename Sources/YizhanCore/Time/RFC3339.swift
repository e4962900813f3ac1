/// RFC 3339 timestamps, as `yizhanctl log` prints them and `--since` / `--until` read them.
public enum RFC3339 {
    /// `2026-11-23T12:30:05.120+08:00` (milliseconds always present).
    public static func format(_ t: Timestamp, offset: UTCOffset) -> String {
        let c = CivilTime(t, offset: offset)
        return "\(pad(c.year, 4))-\(pad2(c.month))-\(pad2(c.day))T\(pad2(c.hour)):\(pad2(c.minute)):\(pad2(c.second)).\(pad(c.millisecond, 3))\(offset)"
    }

    /// Accepts a full RFC 3339 date-time (`2026-11-23T08:00:00+08:00`, fraction optional,
    /// `T` or space), a local date-time without offset (`2026-11-23 08:00`), or a date
    /// (`2026-11-23`, local midnight). Local forms use `defaultOffset`.
    public static func parse(_ text: String, defaultOffset: UTCOffset) -> Timestamp? {
        let s = Array(text.trimmingSpaces())
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= s.count, r.allSatisfy({ s[$0].isASCII && s[$0].isNumber }) else { return nil }
            return Int(String(s[r]))
        }
        guard s.count >= 10, let year = num(0..<4), s[4] == "-", let month = num(5..<7), s[7] == "-",
              let day = num(8..<10), (1...12).contains(month), day >= 1,
              day <= CivilTime.daysInMonth(year, month)
        else { return nil }
        var civil = CivilTime(year: year, month: month, day: day)
        var i = 10
        var offset = defaultOffset
        if i < s.count {
            guard s[i] == "T" || s[i] == "t" || s[i] == " ", let h = num(i + 1 ..< i + 3),
                  i + 3 < s.count, s[i + 3] == ":", let mi = num(i + 4 ..< i + 6), h < 24, mi < 60
            else { return nil }
            civil.hour = h; civil.minute = mi
            i += 6
            if i < s.count, s[i] == ":" {
                guard let sec = num(i + 1 ..< i + 3), sec < 61 else { return nil }
                civil.second = min(sec, 59); i += 3
                if i < s.count, s[i] == "." {
                    var j = i + 1
                    var digits = ""
                    while j < s.count, s[j].isASCII, s[j].isNumber { digits.append(s[j]); j += 1 }
                    guard !digits.isEmpty else { return nil }
                    let ms = Int(String((digits + "00").prefix(3)))!
                    civil.millisecond = ms
                    i = j
                }
            }
            if i < s.count {
                guard let o = UTCOffset(parsing: String(s[i...])) else { return nil }
                offset = o
                i = s.count
            }
        }
        return civil.timestamp(offset: offset)
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
