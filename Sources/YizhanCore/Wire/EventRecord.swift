/// An event as it leaves the station: in `yizhanctl log --format json` (one object per
/// line), in `/api/v1/events` and, later, in uplink batches. Field names are a contract.
public struct EventRecord: Codable, Hashable, Sendable {
    public var seq: Int64
    /// RFC 3339 with the station's UTC offset.
    public var time: String
    public var kind: String
    public var cardKey: String?
    public var cardHint: String?
    public var reader: String?
    public var occupancy: Int
    public var staySeconds: Int64?
    public var detail: String?

    enum CodingKeys: String, CodingKey {
        case seq, time, kind
        case cardKey = "card_key"
        case cardHint = "card_hint"
        case reader, occupancy
        case staySeconds = "stay_seconds"
        case detail
    }

    public init(_ r: RecordedEvent, offset: UTCOffset) {
        let e = r.event
        self.seq = r.seq
        self.time = RFC3339.format(e.time, offset: offset)
        self.kind = e.kind.rawValue
        self.cardKey = e.cardKey?.hex
        self.cardHint = e.cardHint
        self.reader = e.reader
        self.occupancy = e.occupancy
        self.staySeconds = e.staySeconds
        self.detail = e.detail
    }

    public func encode(to encoder: any Encoder) throws {
        // Explicit nulls: every line has every key, which keeps jq and CSV tools simple.
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(seq, forKey: .seq)
        try c.encode(time, forKey: .time)
        try c.encode(kind, forKey: .kind)
        try c.encode(cardKey, forKey: .cardKey)
        try c.encode(cardHint, forKey: .cardHint)
        try c.encode(reader, forKey: .reader)
        try c.encode(occupancy, forKey: .occupancy)
        try c.encode(staySeconds, forKey: .staySeconds)
        try c.encode(detail, forKey: .detail)
    }
}

extension EventRecord {
    /// The columns of the visit log as CSV (`yizhanctl log --format csv`, the manager page).
    public static let csvHeader = ["seq", "time", "kind", "card_key", "card_hint", "reader", "occupancy", "stay_seconds", "detail"]

    /// This event's fields, formatted by `CSV`.
    public var csvFields: [String] {
        [CSV.number(seq), CSV.field(time), CSV.field(kind), CSV.field(cardKey), CSV.field(cardHint), CSV.field(reader),
         CSV.number(occupancy), CSV.number(staySeconds), CSV.field(detail)]
    }
}

/// A page of events from `/api/v1/events`.
public struct EventPage: Codable, Hashable, Sendable {
    public var events: [EventRecord]
    /// Pass as `after` to get the next page; nil when this was the last.
    public var nextAfter: Int64?
    enum CodingKeys: String, CodingKey { case events; case nextAfter = "next_after" }
    public init(events: [EventRecord], nextAfter: Int64?) { self.events = events; self.nextAfter = nextAfter }
}
