/// What an alert is about (the `alert` field of every channel's payload).
public enum AlertKind: String, Codable, CaseIterable, Sendable, Comparable {
    case stationOffline = "station_offline"
    case readerDown = "reader_down"
    case amenityOutOfOrder = "amenity_out_of_order"
    case repeatedlyFull = "repeatedly_full"
    case backlogGrowing = "backlog_growing"
    case clockSkew = "clock_skew"
    case storageNearCap = "storage_near_cap"
    case sequenceGap = "sequence_gap"

    public static func < (a: AlertKind, b: AlertKind) -> Bool { a.rawValue < b.rawValue }
}

/// `open` or `resolved`: an alert's lifecycle, and the two transitions delivered.
public enum AlertState: String, Codable, CaseIterable, Sendable {
    case open, resolved
}

/// At most one alert is open per key: a station, a kind, and what in the station it is
/// about (a reader's name, an amenity, a local day; empty for the station itself).
public struct AlertKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var station: String
    public var kind: AlertKind
    public var subject: String

    public init(station: String, kind: AlertKind, subject: String = "") {
        self.station = station; self.kind = kind; self.subject = subject
    }

    public static func < (a: AlertKey, b: AlertKey) -> Bool {
        (a.station, a.kind.rawValue, a.subject) < (b.station, b.kind.rawValue, b.subject)
    }

    public var description: String { "\(station)/\(kind.rawValue)" + (subject.isEmpty ? "" : "/\(subject)") }
}

/// What the rules decided for one key at one evaluation.
public enum AlertDecision: Hashable, Sendable {
    /// Open an alert: the condition holds since `since`; `detail` says what (in English,
    /// short, machine-friendly: "reader door: down", "seq 101-150 missing").
    case open(AlertKey, since: Timestamp, detail: String)
    /// The condition is over.
    case resolve(AlertKey)

    public var key: AlertKey {
        switch self {
        case .open(let k, _, _), .resolve(let k): k
        }
    }
}
