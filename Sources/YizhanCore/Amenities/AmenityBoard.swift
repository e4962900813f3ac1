/// An amenity a station offers, as configured.
public struct AmenityDefinition: Hashable, Sendable {
    /// Stable id in events and at the collector (`microwave`, `toilet-2`).
    public var id: String
    /// What it is: picks the kiosk's icon and the default names.
    public var kind: String
    public var nameZh: String
    public var nameEn: String

    public init(id: String, kind: String, nameZh: String? = nil, nameEn: String? = nil) {
        let known = AmenityCatalogue.names[kind]
        self.id = id; self.kind = kind
        self.nameZh = nameZh ?? known?.zh ?? kind
        self.nameEn = nameEn ?? known?.en ?? kind
    }
}

/// The kinds the kiosk has an icon and names for. Another kind works too; it needs names.
public enum AmenityCatalogue {
    public static let names: [String: (zh: String, en: String)] = [
        "air_conditioner": ("空调", "Air conditioner"),
        "heater": ("取暖器", "Heater"),
        "microwave": ("微波炉", "Microwave"),
        "water_dispenser": ("饮水机", "Water dispenser"),
        "fridge": ("冰箱", "Fridge"),
        "seating": ("座椅", "Seating"),
        "phone_charging": ("手机充电", "Phone charging"),
        "toilet": ("卫生间", "Toilet"),
        "bookshelf": ("书架", "Bookshelf"),
        "first_aid": ("急救箱", "First-aid kit"),
        "nursing_room": ("母婴室", "Nursing room"),
        "umbrella_loan": ("爱心雨伞", "Umbrella loan"),
        "wifi": ("无线网络", "Wi-Fi"),
        "tool_kit": ("维修工具", "Tool kit"),
        "medicine": ("常用药品", "Common medicines"),
    ]
}

/// The amenities' live state, rebuilt from the event log like occupancy is: status, since
/// when, and workers' fault reports not yet answered by the manager.
public struct AmenityBoard: Hashable, Sendable {
    public struct Entry: Hashable, Sendable {
        public var definition: AmenityDefinition
        public var status: AmenityStatus = .ok
        public var since: Timestamp?
        public var by: String?
        public var note: String?
        /// Fault reports since the manager last set the status.
        public var openReports = 0
        public var lastReport: Timestamp?
        public var lastReportNote: String?
    }

    public private(set) var entries: [Entry]

    public init(_ definitions: [AmenityDefinition]) {
        entries = definitions.map { Entry(definition: $0) }
    }

    public func entry(_ id: String) -> Entry? { entries.first { $0.definition.id == id } }

    /// The board for another list of amenities (the office changed it), in the new order.
    /// One still listed keeps its entry — status, since, open reports — with its new
    /// definition; one added starts as at a restart: `ok`, or, when it was offered before,
    /// what `log` (`eventsForAmenityBoard`) says of it. One removed is gone from the board;
    /// its events stay in the log.
    public func redefined(_ definitions: [AmenityDefinition], log: [StationEvent]) -> AmenityBoard {
        var added = AmenityBoard(definitions.filter { entry($0.id) == nil })
        for e in log { added.apply(e) }
        var board = self
        board.entries = definitions.map { d in
            guard var kept = entry(d.id) ?? added.entry(d.id) else { return Entry(definition: d) }
            kept.definition = d
            return kept
        }
        return board
    }
    public var statuses: [String: AmenityStatus] {
        Dictionary(uniqueKeysWithValues: entries.map { ($0.definition.id, $0.status) })
    }

    public enum ChangeError: Error, Hashable, Sendable, CustomStringConvertible {
        case unknownAmenity(String)
        case invalidActor(String)
        case noteTooLong
        public var description: String {
            switch self {
            case .unknownAmenity(let id): return "no amenity \"\(id)\" is configured"
            case .invalidActor(let by): return "\"\(by)\" is not a valid name for who changed it"
            case .noteTooLong: return "a note is at most 200 characters"
            }
        }
    }

    /// The event that records a status change (not applied yet: apply it once committed).
    public func change(_ id: String, to status: AmenityStatus, by: String, note: String?, at time: Timestamp,
                       occupancy: Int) throws(ChangeError) -> StationEvent {
        guard entry(id) != nil else { throw .unknownAmenity(id) }
        guard AmenityEventDetail.isValidActor(Substring(by)) else { throw .invalidActor(by) }
        let note = Self.clean(note)
        guard (note?.count ?? 0) <= 200 else { throw .noteTooLong }
        return StationEvent(time: time, kind: .amenity, occupancy: occupancy,
                            detail: AmenityEventDetail.change(amenity: id, status: status, by: by, note: note).detail)
    }

    /// The event that records a worker's report of a problem.
    public func report(_ id: String, note: String?, at time: Timestamp, occupancy: Int) throws(ChangeError) -> StationEvent {
        guard entry(id) != nil else { throw .unknownAmenity(id) }
        let note = Self.clean(note)
        guard (note?.count ?? 0) <= 200 else { throw .noteTooLong }
        return StationEvent(time: time, kind: .faultReport, occupancy: occupancy,
                            detail: AmenityEventDetail.faultReport(amenity: id, note: note).detail)
    }

    /// Notes are one line: control characters become spaces, blank means none.
    static func clean(_ note: String?) -> String? {
        guard let note else { return nil }
        let line = String(note.map { $0.isNewline || ($0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } ?? false) ? " " : $0 })
        let trimmed = line.drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed()
        return trimmed.isEmpty ? nil : String(trimmed)
    }

    /// Applies a committed event (and rebuilds the board from the log). Events about
    /// amenities no longer configured are history only.
    public mutating func apply(_ e: StationEvent) {
        guard e.kind == .amenity || e.kind == .faultReport,
              let detail = try? AmenityEventDetail.parse(kind: e.kind.rawValue, detail: e.detail) else { return }
        switch detail {
        case .change(let id, let status, let by, let note):
            guard let i = entries.firstIndex(where: { $0.definition.id == id }) else { return }
            entries[i].status = status; entries[i].since = e.time; entries[i].by = by; entries[i].note = note
            entries[i].openReports = 0
        case .faultReport(let id, let note):
            guard let i = entries.firstIndex(where: { $0.definition.id == id }) else { return }
            entries[i].openReports += 1; entries[i].lastReport = e.time; entries[i].lastReportNote = note
        case .rating:
            break
        }
    }
}
