/// Turns swipes into visit events. Pure: time is passed in, and every decision comes out
/// as `StationEvent`s. State changes only through `apply(_:)`, the same function that
/// rebuilds the state from the log after a restart, so live state and log cannot disagree.
///
/// Deciding does not change state: `decide…` returns events; the caller commits them to
/// the log and only then applies them (an event is committed before anything shows it).
public struct VisitStateMachine: Sendable {
    public struct Presence: Hashable, Sendable {
        public var since: Timestamp
        public var cardHint: String?
        public var reader: String?
    }

    public var policy: VisitPolicy
    public private(set) var inside: [CardKey: Presence] = [:]
    /// Last accepted swipe (check-in or check-out) per card, for the debounce window.
    private var lastAccepted: [CardKey: Timestamp] = [:]

    public init(policy: VisitPolicy) { self.policy = policy }

    public var occupancy: Int { inside.count }
    public var isFull: Bool { inside.count >= policy.capacity }

    // MARK: decisions

    public func decideSwipe(card: CardKey, hint: String, reader: String, now: Timestamp) -> [StationEvent] {
        func event(_ kind: EventKind, occupancy: Int, stay: Int64? = nil, detail: String? = nil) -> StationEvent {
            StationEvent(time: now, kind: kind, cardKey: card, cardHint: hint, reader: reader,
                         occupancy: occupancy, staySeconds: stay, detail: detail)
        }
        // A clock stepped backwards (NTP after a boot without RTC) must not turn every swipe
        // into a duplicate: only a swipe at or after the last one can be inside its window.
        if let last = lastAccepted[card], now >= last, now - last < policy.debounce {
            return [event(.duplicate, occupancy: occupancy)]
        }
        if let presence = inside[card] {
            switch policy.mode {
            case .toggle:
                return [event(.checkOut, occupancy: occupancy - 1, stay: stay(since: presence.since, now: now))]
            case .entryOnly:
                // Back again before the assumed stay ended: the earlier visit ends now.
                return [event(.checkOut, occupancy: occupancy - 1, stay: stay(since: presence.since, now: now), detail: "re_entry"),
                        event(.checkIn, occupancy: occupancy)]
            }
        }
        guard policy.hours.isOpen(at: now) else {
            return [event(.outsideHours, occupancy: occupancy, detail: "open \(policy.hours)")]
        }
        if isFull {
            switch policy.whenFull {
            case .deny: return [event(.rejectedFull, occupancy: occupancy, detail: "capacity \(policy.capacity)")]
            case .admit: return [event(.checkIn, occupancy: occupancy + 1, detail: "over_capacity")]
            }
        }
        return [event(.checkIn, occupancy: occupancy + 1)]
    }

    public func decideBadRead(reader: String, reason: String, now: Timestamp) -> [StationEvent] {
        [StationEvent(time: now, kind: .badRead, reader: reader, occupancy: occupancy, detail: reason)]
    }

    public func decideReader(_ kind: EventKind, reader: String, detail: String, now: Timestamp) -> [StationEvent] {
        precondition(kind == .readerUp || kind == .readerDown)
        return [StationEvent(time: now, kind: kind, reader: reader, occupancy: occupancy, detail: detail)]
    }

    /// Automatic check-outs that are due: stays past the limit, and everyone at closing time.
    public func decideTick(now: Timestamp) -> [StationEvent] {
        let closing = policy.checkOutAtClosing && !inside.isEmpty && !policy.hours.isOpen(at: now)
        var remaining = occupancy
        var events: [StationEvent] = []
        for (card, presence) in inside.sorted(by: { $0.value.since < $1.value.since }) {
            let limitReached = now - presence.since >= policy.stayLimit
            guard limitReached || closing else { continue }
            remaining -= 1
            let stay = stay(since: presence.since, now: now)
            events.append(StationEvent(
                time: now, kind: .autoCheckOut, cardKey: card, cardHint: presence.cardHint, reader: presence.reader,
                occupancy: remaining, staySeconds: stay,
                detail: limitReached ? (policy.mode == .toggle ? "maximum_stay" : "assumed_stay") : "closing"))
        }
        return events
    }

    /// Close the day: everyone inside is checked out, then a `day_closed` marker.
    public func decideCloseDay(now: Timestamp, by who: String) -> [StationEvent] {
        var remaining = occupancy
        var events: [StationEvent] = []
        for (card, presence) in inside.sorted(by: { $0.value.since < $1.value.since }) {
            remaining -= 1
            events.append(StationEvent(time: now, kind: .autoCheckOut, cardKey: card, cardHint: presence.cardHint,
                                       reader: presence.reader, occupancy: remaining,
                                       staySeconds: stay(since: presence.since, now: now), detail: "close_day"))
        }
        events.append(StationEvent(time: now, kind: .dayClosed, occupancy: 0, detail: "by \(who)"))
        return events
    }

    /// Seconds inside; never negative, even when the clock stepped backwards, and never
    /// more than the stay limit (a clock stepped forwards, a daemon down for days).
    private func stay(since: Timestamp, now: Timestamp) -> Int64 {
        min(max(0, (now - since).wholeSeconds), policy.stayLimit.wholeSeconds)
    }

    /// The earliest time at which `decideTick` may have something to do (nil: nothing inside).
    public func nextDeadline() -> Timestamp? {
        inside.values.map { $0.since + policy.stayLimit }.min()
    }

    // MARK: state

    /// Applies a committed event. Also used to rebuild the state from the log.
    public mutating func apply(_ e: StationEvent) {
        switch e.kind {
        case .checkIn:
            guard let card = e.cardKey else { return }
            inside[card] = Presence(since: e.time, cardHint: e.cardHint, reader: e.reader)
            lastAccepted[card] = e.time
        case .checkOut:
            guard let card = e.cardKey else { return }
            inside[card] = nil
            lastAccepted[card] = e.time
        case .autoCheckOut:
            guard let card = e.cardKey else { return }
            inside[card] = nil
        case .dayClosed:
            inside.removeAll()
        default:
            break
        }
    }

    /// Forgets debounce entries that can no longer matter (keeps memory flat over months).
    public mutating func prune(now: Timestamp) {
        lastAccepted = lastAccepted.filter { now >= $0.value && now - $0.value < policy.debounce }
    }
}
