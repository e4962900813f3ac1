/// A setting the office may give a region or a station (`settings set KEY=VALUE`).
public enum OfficeSettingKey: String, CaseIterable, Codable, Hashable, Sendable, Comparable {
    /// Seats: 1 to `OfficeSettingValues.largestCapacity`.
    case capacity
    /// `06:00-22:00`, `24h`, several ranges and date exceptions, comma-separated.
    case openingHours = "opening_hours"
    /// Toggle mode: automatic check-out after this many minutes.
    case maximumStayMinutes = "maximum_stay_minutes"
    /// The amenity kinds the station offers, in order (`microwave,toilet`), or `none`
    /// (`OfficeAmenities`).
    case amenities

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// Who a setting or a notice is for: every station in a region (the nation is the empty
/// path), or one station.
public enum OfficeScope: Hashable, Sendable, CustomStringConvertible {
    case region(RegionPath)
    case station(String)

    /// `region` or `station`, as stored.
    public var kind: String {
        switch self { case .region: "region"; case .station: "station" }
    }
    /// The region's path or the station's id, as stored.
    public var target: String {
        switch self { case .region(let p): p.description; case .station(let id): id }
    }
    public init?(kind: String, target: String) {
        switch kind {
        case "region": guard let p = RegionPath(parsing: target) else { return nil }; self = .region(p)
        case "station": self = .station(target)
        default: return nil
        }
    }
    /// Whether a station (its id and region) is in this scope.
    public func covers(station: String, region: RegionPath) -> Bool {
        switch self {
        case .region(let p): p.contains(region)
        case .station(let id): id == station
        }
    }
    public var description: String {
        switch self {
        case .region(let p): p.isNation ? "region (the nation)" : "region \(p)"
        case .station(let id): "station \(id)"
        }
    }
}

/// One stored setting. `value == nil` is a removal kept as a row, so that removing a
/// setting still gives the stations it covered a new revision.
public struct OfficeSettingRow: Hashable, Sendable {
    public var scope: OfficeScope
    public var key: OfficeSettingKey
    public var value: String?
    /// The office-wide counter when this row last changed (every write takes the next one).
    public var revision: Int64
    public init(scope: OfficeScope, key: OfficeSettingKey, value: String?, revision: Int64) {
        self.scope = scope; self.key = key; self.value = value; self.revision = revision
    }
}

/// The settings a station should apply, as `GET /api/v1/station/settings` sends them.
///
/// `revision` is the highest revision among the rows that apply to the station (removed
/// ones included): any change to one of them takes the next value of the office-wide
/// counter, so a station's revision only grows while its region stays the same. Moving a
/// station to another region can give it a lower one; it is still different from what the
/// station applied, which is all the station compares.
public struct OfficeSettingsDocument: Codable, Hashable, Sendable {
    public var revision: Int64
    /// Key → value text, only the keys set somewhere above the station.
    public var settings: [String: String]
    public init(revision: Int64, settings: [String: String]) { self.revision = revision; self.settings = settings }
    public static let empty = OfficeSettingsDocument(revision: 0, settings: [:])
}

/// The pure rule for what a station should apply: region settings from the nation down to
/// its street, each deeper one overriding, then the station's own.
public enum OfficeSettingsResolver {
    public static func resolve(_ rows: [OfficeSettingRow], station: String, region: RegionPath) -> OfficeSettingsDocument {
        let applicable = rows.filter { $0.scope.covers(station: station, region: region) }
        var revision: Int64 = 0
        var settings: [String: String] = [:]
        var depth: [OfficeSettingKey: Int] = [:]
        for row in applicable {
            revision = max(revision, row.revision)
            guard let value = row.value else { continue }
            // The station's own row is deeper than any region.
            let d: Int
            switch row.scope { case .region(let p): d = p.depth; case .station: d = Int.max }
            if let seen = depth[row.key], seen >= d { continue }
            depth[row.key] = d
            settings[row.key.rawValue] = value
        }
        return OfficeSettingsDocument(revision: revision, settings: settings)
    }
}
