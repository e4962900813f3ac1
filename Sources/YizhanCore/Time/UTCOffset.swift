/// A fixed offset from UTC. China has a single time zone without daylight saving
/// (UTC+08:00), so a fixed offset is exact for the stations and keeps the core free of
/// time-zone databases.
public struct UTCOffset: Hashable, Sendable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) { self.seconds = seconds }

    public static let utc = UTCOffset(seconds: 0)
    public static let china = UTCOffset(seconds: 8 * 3600)

    /// Parses `+08:00`, `-05:30`, `Z`.
    public init?(parsing text: String) {
        if text == "Z" || text == "z" { self.seconds = 0; return }
        // Digits only: `Int("+1")` would let `++1:00` through.
        let chars = Array(text.utf8)
        guard chars.count == 6, chars[0] == UInt8(ascii: "+") || chars[0] == UInt8(ascii: "-"), chars[3] == UInt8(ascii: ":"),
              let h = RFC3339.number(chars, 1, 2), let m = RFC3339.number(chars, 4, 2),
              h <= 14, m < 60
        else { return nil }
        let total = h * 3600 + m * 60
        self.seconds = chars[0] == UInt8(ascii: "-") ? -total : total
    }

    public var description: String {
        if seconds == 0 { return "Z" }
        let sign = seconds < 0 ? "-" : "+"
        let a = abs(seconds)
        return "\(sign)\(pad2(a / 3600)):\(pad2((a % 3600) / 60))"
    }
}

@inline(__always) func pad2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
@inline(__always) func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
