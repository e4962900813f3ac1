/// A notice the office shows on kiosks (`notice add`), as the heartbeat answer carries it
/// to a station and the station keeps it: the texts and the period, nothing about who.
public struct OfficeNotice: Codable, Hashable, Sendable, Identifiable {
    public var id: Int64
    /// Chinese text, required, at most `OfficeNotice.longestText` characters.
    public var zh: String
    public var en: String?
    /// RFC 3339.
    public var from: String
    public var until: String

    public init(id: Int64, zh: String, en: String?, from: String, until: String) {
        self.id = id; self.zh = zh; self.en = en; self.from = from; self.until = until
    }

    public static let longestText = 200
    /// The longest period a notice may run (a notice for longer is a sign, not a notice).
    public static let longestPeriod: Duration = .seconds(90 * 86_400)
    /// The answer carries notices starting within this long, so a station going offline
    /// still shows one that starts later.
    public static let lookAhead: Duration = .seconds(86_400)

    /// Shown at `now`: started and not over (a notice whose times do not parse is never shown).
    public func isShown(at now: Timestamp) -> Bool {
        guard let f = RFC3339.parseStrict(from), let u = RFC3339.parseStrict(until) else { return false }
        return f <= now && now < u
    }

    /// Over at `now` (the station forgets it).
    public func isOver(at now: Timestamp) -> Bool {
        guard let u = RFC3339.parseStrict(until) else { return true }
        return now >= u
    }
}

/// Why a notice is refused at `notice add` or `POST /api/v1/notices`.
public struct OfficeNoticeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: String
    public var message: String
    public var description: String { message }
}

/// The rules for a new notice, pure: the texts' lengths, the period's order and length.
public enum OfficeNoticeRules {
    /// The period: `from` defaults to `now`, `until` to the end of `from`'s local day.
    public static func check(zh: String, en: String?, from: Timestamp?, until: Timestamp?, now: Timestamp,
                             offset: UTCOffset) throws(OfficeNoticeError) -> (from: Timestamp, until: Timestamp) {
        let z = zh.trimmed
        guard !z.isEmpty else { throw OfficeNoticeError(code: "bad_notice", message: "zh: the Chinese text is required") }
        guard z.count <= OfficeNotice.longestText, (en ?? "").count <= OfficeNotice.longestText else {
            throw OfficeNoticeError(code: "bad_notice", message: "a notice's text is at most \(OfficeNotice.longestText) characters")
        }
        for text in [z, en ?? ""] where text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            throw OfficeNoticeError(code: "bad_notice", message: "a notice's text has no control characters (one line)")
        }
        let start = from ?? now
        let end = until ?? endOfDay(start, offset: offset)
        guard end > start else { throw OfficeNoticeError(code: "bad_period", message: "until must be after from") }
        guard end > now else { throw OfficeNoticeError(code: "bad_period", message: "until is in the past") }
        guard end - start <= OfficeNotice.longestPeriod else {
            throw OfficeNoticeError(code: "bad_period", message: "a notice runs at most 90 days")
        }
        return (start, end)
    }

    /// The next local midnight after `t`.
    public static func endOfDay(_ t: Timestamp, offset: UTCOffset) -> Timestamp {
        let c = CivilTime(t, offset: offset)
        return CivilTime(year: c.year, month: c.month, day: c.day).timestamp(offset: offset) + .seconds(86_400)
    }
}
