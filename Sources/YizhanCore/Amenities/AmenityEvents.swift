/// The state of one amenity at a station.
public enum AmenityStatus: String, Hashable, Sendable, Codable, CaseIterable {
    case ok
    /// Works, but not fully (one burner of two, a slow charger).
    case degraded
    /// Broken: this is what the office counts as downtime.
    case outOfOrder = "out_of_order"
    /// Not offered right now (out of hours, cleaning): not a fault.
    case closed

    /// A worker can use it now (ok, or degraded): what the service circle offers.
    public var isWorking: Bool { self == .ok || self == .degraded }
    /// Needs a manager's attention (out of order, or degraded): the dashboard's faults.
    public var needsAttention: Bool { self == .outOfOrder || self == .degraded }
    /// Counts as downtime for the office: out of order only (closed is a choice, degraded works).
    public var isDown: Bool { self == .outOfOrder }
}

/// Events about amenities travel in the event log like visits do, so they reach the
/// collector exactly once. Their `detail` is a short line of `key=value` words, readable
/// in `yizhanctl log` and parsed here alone:
///
///     amenity       detail "amenity=microwave status=out_of_order by=li note=door will not close"
///     fault_report  detail "amenity=microwave note=no heat"
///     rating        detail "score=4"
///
/// `by` names who changed it (a manager's login, `kiosk`, `yizhanctl`); `note` is free
/// text and always last (it may contain spaces).
public enum AmenityEventDetail: Hashable, Sendable {
    case change(amenity: String, status: AmenityStatus, by: String? = nil, note: String?)
    case faultReport(amenity: String, note: String?)
    case rating(score: Int)

    /// The event kinds that carry such a detail.
    public static let kinds: Set<String> = ["amenity", "fault_report", "rating"]

    public var kind: String {
        switch self {
        case .change: return "amenity"
        case .faultReport: return "fault_report"
        case .rating: return "rating"
        }
    }

    public var detail: String {
        switch self {
        case .change(let a, let s, let by, let note):
            return "amenity=\(a) status=\(s.rawValue)" + (by.map { " by=\($0)" } ?? "") + (note.map { " note=\($0)" } ?? "")
        case .faultReport(let a, let note): return "amenity=\(a)" + (note.map { " note=\($0)" } ?? "")
        case .rating(let score): return "score=\(score)"
        }
    }

    /// An amenity id: lower-case ASCII letters, digits, `_` and `-`, 1 to 32 of them.
    public static func isValidAmenityID(_ s: Substring) -> Bool {
        (1...32).contains(s.utf8.count) && s.utf8.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F || $0 == 0x2D }
    }

    /// Who changed an amenity: 1 to 32 of ASCII letters, digits, `_`, `-`, `.` and `@`.
    public static func isValidActor(_ s: Substring) -> Bool {
        (1...32).contains(s.utf8.count) && s.utf8.allSatisfy { c in
            (0x61...0x7A).contains(c) || (0x41...0x5A).contains(c) || (0x30...0x39).contains(c) || "_-.@".utf8.contains(c)
        }
    }

    public enum ParseError: Error, Hashable, Sendable, CustomStringConvertible {
        case missing(String)
        case invalid(String, String)
        case unknownKey(String)
        public var description: String {
            switch self {
            case .missing(let k): return "detail has no \(k)="
            case .invalid(let k, let v): return "detail \(k)=\(v) is not valid"
            case .unknownKey(let k): return "detail has an unknown key \(k)"
            }
        }
    }

    public static func parse(kind: String, detail: String?) throws(ParseError) -> AmenityEventDetail {
        var fields: [Substring: Substring] = [:]
        var rest = Substring(detail ?? "")
        while !rest.isEmpty {
            guard let eq = rest.firstIndex(of: "=") else { throw .invalid("detail", String(rest)) }
            let key = rest[..<eq]
            if key == "note" { fields[key] = rest[rest.index(after: eq)...]; break }
            let valueEnd = rest[eq...].firstIndex(of: " ") ?? rest.endIndex
            fields[key] = rest[rest.index(after: eq)..<valueEnd]
            rest = valueEnd == rest.endIndex ? "" : rest[rest.index(after: valueEnd)...]
        }
        func amenity() throws(ParseError) -> String {
            guard let a = fields["amenity"] else { throw .missing("amenity") }
            guard isValidAmenityID(a) else { throw .invalid("amenity", String(a)) }
            return String(a)
        }
        let note = fields["note"].map(String.init)
        func only(_ keys: Set<Substring>) throws(ParseError) {
            if let extra = fields.keys.first(where: { !keys.contains($0) }) { throw .unknownKey(String(extra)) }
        }
        switch kind {
        case "amenity":
            try only(["amenity", "status", "by", "note"])
            guard let s = fields["status"] else { throw .missing("status") }
            guard let status = AmenityStatus(rawValue: String(s)) else { throw .invalid("status", String(s)) }
            if let by = fields["by"], !isValidActor(by) { throw .invalid("by", String(by)) }
            return .change(amenity: try amenity(), status: status, by: fields["by"].map(String.init), note: note)
        case "fault_report":
            try only(["amenity", "note"])
            return .faultReport(amenity: try amenity(), note: note)
        case "rating":
            try only(["score"])
            guard let s = fields["score"] else { throw .missing("score") }
            guard let score = Int(s), (1...5).contains(score) else { throw .invalid("score", String(s)) }
            return .rating(score: score)
        default:
            throw .invalid("kind", kind)
        }
    }
}
