import YizhanCore

/// What the office does — set settings, add and end notices — checked the same way for the
/// command line and the API, with who did it for the audit log.
public enum OfficeActions {
    /// A refused action, with the API's stable error code.
    public struct Refusal: Error, CustomStringConvertible {
        public var code: String
        public var message: String
        public var description: String { message }
    }

    /// `KEY=VALUE` arguments as values to store: each key known, each value checked and in
    /// its normal form; an empty value removes the key at that scope.
    public static func parseAssignments(_ pairs: [String], offset: UTCOffset) throws(Refusal) -> [OfficeSettingKey: String?] {
        var values: [OfficeSettingKey: String?] = [:]
        guard !pairs.isEmpty else { throw Refusal(code: "bad_setting", message: "no KEY=VALUE given") }
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "=") else {
                throw Refusal(code: "bad_setting", message: "\"\(pair)\": expected KEY=VALUE")
            }
            let name = String(pair[..<eq]), text = String(pair[pair.index(after: eq)...])
            let k = try key(name)
            values[k] = text.isEmpty ? .some(nil) : .some(try check(k, text, offset: offset))
        }
        return values
    }

    /// A key by name, or the list of the ones there are.
    public static func key(_ name: String) throws(Refusal) -> OfficeSettingKey {
        guard let k = OfficeSettingKey(rawValue: name) else {
            throw Refusal(code: "unknown_setting", message: "\"\(name)\" is not a setting (\(OfficeSettingKey.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return k
    }

    public static func check(_ key: OfficeSettingKey, _ text: String, offset: UTCOffset) throws(Refusal) -> String {
        do { return try OfficeSettingValues.normalize(key, text, offset: offset) } catch {
            throw Refusal(code: "bad_setting", message: error.description)
        }
    }

    /// Whether `user` may act on `scope` (an office user; within their region if they have one).
    public static func authorize(_ user: UserRecord, _ scope: OfficeScope, stationRegions: [String: RegionPath]) throws(Refusal) {
        guard user.role == .office else { throw Refusal(code: "forbidden", message: "only office users set settings and notices") }
        switch scope {
        case .region(let p):
            if let mine = user.region, !mine.contains(p) {
                throw Refusal(code: "forbidden", message: "\(user.name) acts within region \(mine), not \(p.isNation ? "the nation" : p.description)")
            }
        case .station(let id):
            guard let region = stationRegions[id] else { throw Refusal(code: "unknown_station", message: "no station \(id)") }
            if let mine = user.region, !mine.contains(region) {
                throw Refusal(code: "forbidden", message: "\(user.name) acts within region \(mine); station \(id) is in \(region)")
            }
        }
    }

    /// A notice ready to store, its period checked (`from` defaults to now, `until` to the
    /// end of that local day).
    public static func notice(audience: NoticeRecord.Audience, zh: String, en: String?, from: Timestamp?, until: Timestamp?,
                              actor: String, now: Timestamp, offset: UTCOffset) throws(Refusal) -> NoticeRecord {
        let period: (from: Timestamp, until: Timestamp)
        do { period = try OfficeNoticeRules.check(zh: zh, en: en, from: from, until: until, now: now, offset: offset) } catch {
            throw Refusal(code: error.code, message: error.message)
        }
        if case .stations(let ids) = audience, ids.isEmpty { throw Refusal(code: "bad_notice", message: "no station given") }
        let english = en.flatMap { $0.isEmpty ? nil : $0 }
        return NoticeRecord(audience: audience, zh: zh.trimmedText, en: english?.trimmedText, from: period.from, until: period.until,
                            createdBy: actor, createdAt: now)
    }
}

/// Whether a station applies what the office wants: the desired revision against the one
/// its heartbeat reports, or the station's reason for refusing it.
public struct SettingsSync: Sendable, Hashable, Encodable {
    public var station: String
    public var desiredRevision: Int64
    /// Nil before the station's first heartbeat with the field (an older station).
    public var appliedRevision: Int64?
    public var settingsError: String?
    public var pinned: [String]
    public var inSync: Bool
    enum CodingKeys: String, CodingKey {
        case station, pinned
        case desiredRevision = "desired_revision", appliedRevision = "applied_revision"
        case settingsError = "settings_error", inSync = "in_sync"
    }

    public init(station: StationRecord, rows: [OfficeSettingRow]) {
        self.station = station.id
        desiredRevision = OfficeSettingsResolver.resolve(rows, station: station.id, region: station.region).revision
        appliedRevision = station.live?.settingsRevision
        settingsError = station.live?.settingsError
        pinned = station.live?.settingsPinned ?? []
        // A station with nothing to apply is in sync whatever it reports.
        inSync = desiredRevision == (appliedRevision ?? 0)
    }
}

extension String {
    var trimmedText: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
