/// What kind of thing happened at the station. The raw values are the `kind` strings of
/// the event log, the JSON lines of `yizhanctl log` and the uplink: keep them stable.
public enum EventKind: String, Hashable, Sendable, Codable, CaseIterable {
    case checkIn = "check_in"
    case checkOut = "check_out"
    case autoCheckOut = "auto_check_out"
    case duplicate
    case rejectedFull = "rejected_full"
    case outsideHours = "outside_hours"
    case badRead = "bad_read"
    case readerUp = "reader_up"
    case readerDown = "reader_down"
    case dayClosed = "day_closed"
    case stationStarted = "station_started"
    /// An amenity's status changed (detail: `AmenityEventDetail.change`).
    case amenity
    /// A worker reported a problem with an amenity at the kiosk.
    case faultReport = "fault_report"
    /// A one-tap satisfaction score after check-out (detail `score=1..5`).
    case rating

    /// Kinds that change who is inside.
    public var changesOccupancy: Bool {
        self == .checkIn || self == .checkOut || self == .autoCheckOut
    }
}

/// One entry of the station's append-only event log (before it has a sequence number).
/// Holds no raw card number and no name: only the card key and the masked hint.
public struct StationEvent: Hashable, Sendable {
    public var time: Timestamp
    public var kind: EventKind
    public var cardKey: CardKey?
    public var cardHint: String?
    public var reader: String?
    /// People inside after this event.
    public var occupancy: Int
    /// Length of the visit, on check-outs.
    public var staySeconds: Int64?
    /// Why (a bad read's reason, a reader's device, `close_day`, ...).
    public var detail: String?

    public init(time: Timestamp, kind: EventKind, cardKey: CardKey? = nil, cardHint: String? = nil,
                reader: String? = nil, occupancy: Int, staySeconds: Int64? = nil, detail: String? = nil) {
        self.time = time; self.kind = kind; self.cardKey = cardKey; self.cardHint = cardHint
        self.reader = reader; self.occupancy = occupancy; self.staySeconds = staySeconds; self.detail = detail
    }
}

/// An event as committed: with its station-wide, contiguous sequence number.
public struct RecordedEvent: Hashable, Sendable {
    public var seq: Int64
    public var event: StationEvent
    public init(seq: Int64, event: StationEvent) { self.seq = seq; self.event = event }
}
