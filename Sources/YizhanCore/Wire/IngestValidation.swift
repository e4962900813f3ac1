/// What the collector accepts from a station, decided here so that every figure that
/// reaches a store (and later a sum) is bounded. A batch is all or nothing; the rejection
/// names the first bad event so the station can isolate and quarantine it.

/// A validated event of one station, ready to store.
public struct IngestedEvent: Sendable, Hashable {
    public var seq: Int64
    public var time: Timestamp
    public var kind: String
    public var cardKey: String?
    public var reader: String?
    public var occupancy: Int
    public var staySeconds: Int64?
    public var detail: String?

    public init(seq: Int64, time: Timestamp, kind: String, cardKey: String?, reader: String?, occupancy: Int,
                staySeconds: Int64?, detail: String?) {
        self.seq = seq; self.time = time; self.kind = kind; self.cardKey = cardKey; self.reader = reader
        self.occupancy = occupancy; self.staySeconds = staySeconds; self.detail = detail
    }
}

/// Why a batch or heartbeat was refused: `code` is the API's stable error code.
public struct IngestRejection: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Reason: Hashable, Sendable {
        /// Well-formed JSON whose content is wrong (HTTP 422).
        case invalid
        /// More than a request may carry (HTTP 413).
        case tooLarge
    }
    public var reason: Reason
    public var code: String
    public var message: String
    public var description: String { message }
}

public enum IngestLimits {
    /// Sequence numbers stay far below `Int64.max` (and exact in a JSON double): a station
    /// writing a thousand events a second would need 285,000 years to reach it.
    public static let maximumSeq: Int64 = 1 << 53
    public static let maximumEventsPerBatch = 5000
    /// More people than any room holds; still small enough that sums over 200,000
    /// stations cannot overflow.
    public static let maximumOccupancy = 100_000
    public static let maximumStaySeconds = VisitPolicy.longestStay.wholeSeconds
    public static let maximumReaderLength = 64
    public static let maximumDetailLength = 512
    /// The earliest time an event can have (2020-01-01, before the project) and how far
    /// ahead of the collector's clock a station's may run.
    public static let earliestEvent = Timestamp(secondsSinceEpoch: 1_577_836_800)
    public static let clockLead: Duration = .seconds(7 * 86_400)
}

public enum IngestValidation {
    /// Checks a station's batch: sizes, kinds, times, sequences, every figure in range.
    public static func validate(_ records: [EventRecord], now: Timestamp) throws(IngestRejection) -> [IngestedEvent] {
        guard !records.isEmpty else { throw IngestRejection(reason: .invalid, code: "empty_batch", message: "the batch has no events") }
        guard records.count <= IngestLimits.maximumEventsPerBatch else {
            throw IngestRejection(reason: .tooLarge, code: "too_many_events", message: "at most \(IngestLimits.maximumEventsPerBatch) events per batch")
        }
        var out: [IngestedEvent] = []
        out.reserveCapacity(records.count)
        var previous: Int64 = 0
        for r in records {
            func bad(_ why: String) -> IngestRejection {
                IngestRejection(reason: .invalid, code: "invalid_event", message: "event \(r.seq): \(why)")
            }
            guard r.seq > 0, r.seq <= IngestLimits.maximumSeq else { throw bad("seq must be in 1...\(IngestLimits.maximumSeq)") }
            guard r.seq > previous else {
                throw IngestRejection(reason: .invalid, code: "out_of_order", message: "event \(r.seq) follows \(previous): seqs must increase")
            }
            previous = r.seq
            guard EventKind(rawValue: r.kind) != nil else { throw bad("unknown kind \"\(printable(r.kind))\"") }
            guard let time = RFC3339.parseStrict(r.time) else { throw bad("time \"\(printable(r.time))\" is not an RFC 3339 date-time") }
            // Station clocks drift; a time from before the project or from next week is not a clock, it is garbage.
            guard time >= IngestLimits.earliestEvent, time <= now + IngestLimits.clockLead else {
                throw bad("time \(r.time) is implausible")
            }
            if let key = r.cardKey, !isHex64(key) { throw bad("card_key must be 64 hex digits") }
            guard (0...IngestLimits.maximumOccupancy).contains(r.occupancy) else { throw bad("occupancy must be in 0...\(IngestLimits.maximumOccupancy)") }
            if let s = r.staySeconds, !(0...IngestLimits.maximumStaySeconds).contains(s) {
                throw bad("stay_seconds must be in 0...\(IngestLimits.maximumStaySeconds) (the longest stay a station can have)")
            }
            guard isText(r.reader, upTo: IngestLimits.maximumReaderLength), isText(r.detail, upTo: IngestLimits.maximumDetailLength) else {
                throw bad("reader (at most \(IngestLimits.maximumReaderLength)) or detail (at most \(IngestLimits.maximumDetailLength)) too long or with a NUL")
            }
            if AmenityEventDetail.kinds.contains(r.kind) {
                do { _ = try AmenityEventDetail.parse(kind: r.kind, detail: r.detail) } catch { throw bad("\(error)") }
            }
            // Empty text is stored as absent, the same in both stores.
            out.append(IngestedEvent(seq: r.seq, time: time, kind: r.kind, cardKey: r.cardKey, reader: r.reader.flatMap { $0.isEmpty ? nil : $0 },
                                     occupancy: r.occupancy, staySeconds: r.staySeconds, detail: r.detail.flatMap { $0.isEmpty ? nil : $0 }))
        }
        return out
    }

    /// A heartbeat after its checks: amenity states typed, the station's clock read.
    public struct CheckedHeartbeat: Hashable, Sendable {
        public var amenities: [String: AmenityStatus]
        public var stationTime: Timestamp
        /// The station's daily hours, if it sent them (offset: the collector's own).
        public var openingHours: [String]?
    }

    public static func validate(_ hb: Heartbeat) throws(IngestRejection) -> CheckedHeartbeat {
        func invalid(_ why: String) -> IngestRejection { IngestRejection(reason: .invalid, code: "invalid_heartbeat", message: why) }
        let counts = 0...IngestLimits.maximumOccupancy, seqs = 0...IngestLimits.maximumSeq
        guard counts.contains(hb.occupancy), counts.contains(hb.capacity) else { throw invalid("occupancy or capacity out of range") }
        guard seqs.contains(hb.backlog), seqs.contains(hb.lastAck), seqs.contains(hb.lastSeq) else {
            throw invalid("backlog, last_ack and last_seq must be in 0...\(IngestLimits.maximumSeq)")
        }
        guard let stationTime = RFC3339.parseStrict(hb.time) else { throw invalid("time \"\(printable(hb.time))\" is not an RFC 3339 date-time") }
        guard hb.amenities.count <= 64, hb.readers.count <= 32, isText(hb.version, upTo: 64),
              hb.readers.allSatisfy({ isText($0.name, upTo: 64) && isText($0.state, upTo: 32) })
        else { throw invalid("too many or too long fields, or a NUL") }
        var amenities: [String: AmenityStatus] = [:]
        for (id, status) in hb.amenities {
            guard AmenityEventDetail.isValidAmenityID(Substring(id)), let s = AmenityStatus(rawValue: status) else {
                throw invalid("amenity \(printable(id))=\(printable(status)): expected an id and one of ok, degraded, out_of_order, closed")
            }
            amenities[id] = s
        }
        if let hours = hb.openingHours {
            guard hours.count <= 8, (try? OpeningHours(parsing: hours, offset: .utc)) != nil else {
                throw invalid("opening_hours: expected at most 8 \"HH:MM-HH:MM\" ranges")
            }
        }
        guard (hb.storagePercent.map { (0...100).contains($0) } ?? true),
              (hb.dayCounts.map { $0.count <= 14 && $0.allSatisfy(\.isValid) } ?? true)
        else { throw invalid("storage_percent must be 0...100; day_counts at most 14 days, each a date with first_seq <= last_seq and count <= their span") }
        return CheckedHeartbeat(amenities: amenities, stationTime: stationTime, openingHours: hb.openingHours)
    }

    static func isHex64(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) || ($0 >= 65 && $0 <= 70) }
    }

    /// At most `limit` characters and no NUL (PostgreSQL refuses it in text, so one would
    /// fail there and pass on SQLite). Other control characters are only ever escaped.
    static func isText(_ s: String?, upTo limit: Int) -> Bool {
        guard let s else { return true }
        return s.count <= limit && !s.utf8.contains(0)
    }

    /// Echoed text in an error message: short, and without control characters.
    public static func printable(_ s: String) -> String {
        String(s.prefix(40).unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}
