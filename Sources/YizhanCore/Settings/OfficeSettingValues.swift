/// Why a setting's value is refused: the key, the value and the rule, in one sentence.
public struct OfficeSettingError: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var value: String
    public var reason: String
    public init(key: String, value: String, reason: String) { self.key = key; self.value = value; self.reason = reason }
    public var description: String { "\(key)=\(value): \(reason)" }
}

/// The values the office may set, checked the same way at the collector (before storing)
/// and at the station (before applying, since the station is the one that must live with
/// them), and applied to a station's `VisitPolicy`.
public enum OfficeSettingValues {
    public static let largestCapacity = 10_000
    /// At most this many dated exceptions in one `opening_hours`.
    public static let mostExceptions = 400
    public static let longestValue = 8_000

    /// The value in its normal form (what is stored and sent), or why it is refused.
    public static func normalize(_ key: OfficeSettingKey, _ text: String, offset: UTCOffset = .china) throws(OfficeSettingError) -> String {
        switch key {
        case .capacity: return String(try capacity(text))
        case .maximumStayMinutes: return String(try maximumStayMinutes(text))
        case .openingHours: return try openingHours(text, offset: offset).normalizedSpec
        case .amenities: return try OfficeAmenities.normalize(text)
        }
    }

    public static func capacity(_ text: String) throws(OfficeSettingError) -> Int {
        guard let n = Int(text.trimmed), (1...largestCapacity).contains(n) else {
            throw OfficeSettingError(key: "capacity", value: text, reason: "a capacity is a whole number from 1 to \(largestCapacity)")
        }
        return n
    }

    public static func maximumStayMinutes(_ text: String) throws(OfficeSettingError) -> Int {
        let longest = Int(VisitPolicy.longestStay.components.seconds / 60)
        guard let n = Int(text.trimmed), (1...longest).contains(n) else {
            throw OfficeSettingError(key: "maximum_stay_minutes", value: text, reason: "a maximum stay is 1 to \(longest) minutes")
        }
        return n
    }

    /// `06:00-22:00`, `24h`, `07:00-12:00,13:00-22:00`, and exceptions by local date:
    /// `2026-10-01=closed`, `2026-07-20=06:00-23:00`, `2026-07-21=24h` (several entries for
    /// one date add ranges to it).
    public static func openingHours(_ text: String, offset: UTCOffset) throws(OfficeSettingError) -> OpeningHours {
        func fail(_ why: String) -> OfficeSettingError { OfficeSettingError(key: "opening_hours", value: text, reason: why) }
        guard text.utf8.count <= longestValue else { throw fail("longer than \(longestValue) bytes") }
        var daily: [String] = []
        var exceptions: [String: [OpeningHours.Range]] = [:]
        for raw in text.split(separator: ",") {
            let entry = String(raw.trimmingCharacters())
            if entry.isEmpty { continue }
            if let eq = entry.firstIndex(of: "=") {
                let date = String(entry[..<eq]).trimmed, spec = String(entry[entry.index(after: eq)...]).trimmed
                guard isDate(date) else { throw fail("\"\(date)\" is not a date (YYYY-MM-DD)") }
                if spec == "closed" { exceptions[date, default: []] += []; continue }
                do {
                    let hours = try OpeningHours(parsing: [spec == "24h" ? "00:00-24:00" : spec], offset: offset)
                    exceptions[date, default: []] += hours.ranges
                } catch { throw fail("\"\(spec)\" on \(date): expected HH:MM-HH:MM, 24h or closed") }
            } else {
                daily.append(entry == "24h" ? "00:00-24:00" : entry)
            }
        }
        guard !daily.isEmpty else { throw fail("no daily hours (e.g. 06:00-22:00 or 24h)") }
        guard exceptions.count <= mostExceptions else { throw fail("more than \(mostExceptions) dated exceptions") }
        var hours: OpeningHours
        do { hours = try OpeningHours(parsing: daily, offset: offset) } catch { throw fail("\"\(error.text)\": expected HH:MM-HH:MM or 24h") }
        hours.exceptions = exceptions
        return hours
    }

    private static func isDate(_ s: String) -> Bool {
        let p = s.split(separator: "-", omittingEmptySubsequences: false)
        guard s.count == 10, p.count == 3, p[0].count == 4, p[1].count == 2, p[2].count == 2,
              let y = Int(p[0]), let m = Int(p[1]), let d = Int(p[2]), (2000...2099).contains(y), (1...12).contains(m), d >= 1 else { return false }
        // The day exists (no 2026-02-30): it survives the trip through a timestamp.
        let c = CivilTime(CivilTime(year: y, month: m, day: d).timestamp(offset: .utc), offset: .utc)
        return c.day == d && c.month == m
    }

    /// The policy a station applies: its configured one with the office's settings over
    /// it, except the keys pinned in its station.toml. Refuses the whole document (nothing
    /// changes) when one value is wrong; keys this station does not know are left out.
    public static func apply(_ document: OfficeSettingsDocument, to base: VisitPolicy, pinned: Set<OfficeSettingKey>) throws(OfficeSettingError) -> VisitPolicy {
        var policy = base
        for (name, value) in document.settings.sorted(by: { $0.key < $1.key }) {
            guard let key = OfficeSettingKey(rawValue: name) else { continue }
            // Checked even when pinned: a wrong value is reported, not hidden.
            switch key {
            case .capacity:
                let n = try capacity(value)
                if !pinned.contains(key) { policy.capacity = n }
            case .maximumStayMinutes:
                let n = try maximumStayMinutes(value)
                if !pinned.contains(key) { policy.maximumStay = .seconds(n * 60) }
            case .openingHours:
                let hours = try openingHours(value, offset: base.hours.offset)
                if !pinned.contains(key) { policy.hours = hours }
            case .amenities:
                // Not part of the policy (`OfficeAmenities.apply`), but one bad value refuses all.
                _ = try OfficeAmenities.kinds(value)
            }
        }
        return policy
    }
}

extension OpeningHours {
    /// Daily ranges then exceptions by date, as `OfficeSettingValues.openingHours` reads them.
    public var normalizedSpec: String {
        var parts = isAlwaysOpen && ranges.count == 1 ? ["24h"] : specs
        for date in exceptions.keys.sorted() {
            let day = exceptions[date]!
            if day.isEmpty { parts.append("\(date)=closed"); continue }
            parts += OpeningHours(ranges: day, offset: offset).specs.map { "\(date)=\($0)" }
        }
        return parts.joined(separator: ",")
    }
}

extension String {
    var trimmed: String { String(Substring(self).trimmingCharacters()) }
}
