/// Everything a station decides from, as one value: who is inside (the visit state
/// machine), the amenity board, the check-out that may still be rated and the last kiosk
/// report per amenity. The recorder keeps it behind one lock; it decides on a copy and the
/// copy replaces the state only once its events are committed.
public struct StationState: Sendable {
    public private(set) var visits: VisitStateMachine
    public private(set) var board: AmenityBoard
    /// The latest check-out not rated yet: ratings are one per check-out, soon after it.
    public private(set) var unratedCheckOut: Timestamp?
    /// When each amenity was last reported at the kiosk (the report throttle).
    private var lastReport: [String: Timestamp] = [:]

    /// How long after a check-out the kiosk may send its one rating.
    public static let ratingWindow: Duration = .seconds(60)
    /// One kiosk report per amenity in this time is plenty; more is a child at the screen.
    public static let reportInterval: Duration = .seconds(60)

    /// Something a person asks the station to record.
    public enum Request: Sendable, Hashable {
        /// The manager (or yizhanctl) sets an amenity's status; answers reports about it.
        case amenity(id: String, status: AmenityStatus, by: String, note: String?)
        /// A worker reports a problem at the kiosk.
        case faultReport(id: String, note: String?)
        /// A one-tap score after a check-out.
        case rating(score: Int)
    }

    public enum Refusal: Error, Hashable, Sendable, CustomStringConvertible {
        case amenity(AmenityBoard.ChangeError)
        case noCheckOutToRate
        case invalidScore
        /// The amenity was reported within `reportInterval`: nothing new to record.
        case alreadyReported
        public var description: String {
            switch self {
            case .amenity(let e): e.description
            case .noCheckOutToRate: "nothing to rate: a rating follows a check-out within \(StationState.ratingWindow)"
            case .invalidScore: "a score is 1 to 5"
            case .alreadyReported: "already reported in the last minute"
            }
        }
    }

    public init(policy: VisitPolicy, amenities: [AmenityDefinition] = []) {
        visits = VisitStateMachine(policy: policy)
        board = AmenityBoard(amenities)
    }

    /// The state after a restart, from the log: `amenityLog` holds each amenity's latest
    /// change and the reports since (for the board), `visitLog` the events since the room
    /// was last empty (for who is inside and the rating window).
    public init(policy: VisitPolicy, amenities: [AmenityDefinition], amenityLog: [StationEvent], visitLog: [StationEvent]) {
        self.init(policy: policy, amenities: amenities)
        for e in amenityLog {
            board.apply(e)
            noteReport(e)
        }
        for e in visitLog {
            visits.apply(e)
            noteRating(e)
        }
    }

    public var policy: VisitPolicy { visits.policy }
    public var occupancy: Int { visits.occupancy }

    /// Applies a committed (or replayed) event to every part of the state.
    public mutating func apply(_ e: StationEvent) {
        visits.apply(e)
        board.apply(e)
        noteRating(e)
        noteReport(e)
    }

    private mutating func noteRating(_ e: StationEvent) {
        if e.kind == .checkOut { unratedCheckOut = e.time }
        if e.kind == .rating { unratedCheckOut = nil }
    }

    private mutating func noteReport(_ e: StationEvent) {
        guard e.kind == .faultReport, case .faultReport(let id, _)? = try? AmenityEventDetail.parse(kind: e.kind.rawValue, detail: e.detail) else { return }
        lastReport[id] = e.time
    }

    public mutating func apply(_ events: [StationEvent]) { for e in events { apply(e) } }

    /// Swaps the rules (office settings applied): who is inside stays inside. A capacity
    /// below the occupancy only refuses (or marks) the next check-ins; a shorter maximum
    /// stay or hours that close now check people out at the next tick, as those rules do.
    public mutating func replacePolicy(_ policy: VisitPolicy) { visits.policy = policy }

    /// Swaps the amenity list (office settings applied): see `AmenityBoard.redefined`.
    /// `log` matters only for amenities not on the board now.
    public mutating func replaceAmenities(_ definitions: [AmenityDefinition], log: [StationEvent]) {
        board = board.redefined(definitions, log: log)
    }

    /// The event a request becomes, already applied; or why it is refused (nothing changes).
    public mutating func decide(_ request: Request, at time: Timestamp) throws(Refusal) -> StationEvent {
        let event: StationEvent
        switch request {
        case .amenity(let id, let status, let by, let note):
            do { event = try board.change(id, to: status, by: by, note: note, at: time, occupancy: occupancy) } catch { throw .amenity(error) }
        case .faultReport(let id, let note):
            if let last = lastReport[id], time >= last, time - last < Self.reportInterval { throw .alreadyReported }
            do { event = try board.report(id, note: note, at: time, occupancy: occupancy) } catch { throw .amenity(error) }
        case .rating(let score):
            guard (1...5).contains(score) else { throw .invalidScore }
            guard let since = unratedCheckOut, time >= since, time - since <= Self.ratingWindow else { throw .noCheckOutToRate }
            event = StationEvent(time: time, kind: .rating, occupancy: occupancy, detail: AmenityEventDetail.rating(score: score).detail)
        }
        apply(event)
        return event
    }

    /// Forgets debounce entries that can no longer matter.
    public mutating func prune(now: Timestamp) {
        visits.prune(now: now)
        lastReport = lastReport.filter { now - $0.value < Self.reportInterval }
    }
}
