/// The station's uplink as a pure state machine. The event log is the outbox: everything
/// after the collector's acknowledged sequence number is owed, in order. The adapter asks
/// for the next `Step` (send, wait, await events or credentials), carries it out, and
/// reports the collector's answer; the machine decides what comes next and which
/// `Action`s (record the watermark, quarantine) the adapter performs. Time and randomness are
/// passed in, so every path is tested without sleeping.
///
/// Rules:
/// - Batches are contiguous, in sequence order, at most `maximumEvents` events and
///   `maximumBytes` encoded bytes (a single larger event still goes alone).
/// - Transport errors, 5xx and 429 back off exponentially with full jitter, capped;
///   a `Retry-After` is honoured as the minimum wait.
/// - 413 (too large) halves the batch limit and retries at once; a single event that is
///   still too large is quarantined.
/// - 422/400 (invalid batch): the batch is split to find the bad event; a single invalid
///   event is quarantined (kept locally, reported, skipped) so it never blocks the rest.
/// - 401/403: stop sending until the operator fixes the token (`resumeAfterCredentialsChange`).
public struct OutboxStateMachine: Sendable {
    public struct Policy: Hashable, Sendable {
        public var maximumEvents = 500
        public var maximumBytes = 512 * 1024
        public var backoffBase: Duration = .seconds(1)
        public var backoffCap: Duration = .seconds(300)
        public init() {}
    }

    /// What the collector (or the network) answered to a batch.
    public enum Answer: Hashable, Sendable {
        /// 2xx: everything up to and including `seq` is stored at the collector.
        case acknowledged(through: Int64)
        /// Connection refused, timeout, TLS failure, 5xx, 429 ...; `retryAfter` from the header.
        case retryable(reason: String, retryAfter: Duration?)
        /// 401 or 403.
        case unauthorized(reason: String)
        /// 413.
        case tooLarge
        /// 400/422 for this batch, with the collector's message.
        case invalid(reason: String)
    }

    public enum State: Hashable, Sendable {
        /// Ready to send whatever is owed.
        case ready
        /// A batch is in flight.
        case sending(first: Int64, last: Int64)
        /// Waiting until `until` before the next attempt.
        case backingOff(until: Duration, reason: String)
        /// Credentials refused; nothing is sent until they change.
        case stopped(reason: String)
    }

    public enum Action: Hashable, Sendable {
        /// Persist the new acknowledged watermark (durably, before sending more).
        case recordAcknowledged(Int64)
        /// Keep events `first...last` aside as quarantined with `reason`, and skip them.
        case quarantine(first: Int64, last: Int64, reason: String)
    }

    /// What the adapter does next; it carries the step out and comes back.
    public enum Step: Hashable, Sendable {
        /// Send these events (they are now in flight) and report the answer with `received`.
        case send(ClosedRange<Int64>)
        /// Backing off: ask again at `until` (or earlier if nothing else happens).
        case wait(until: Duration)
        /// Nothing owed (or the next owed event is not in the log yet): wait for new events.
        case awaitEvents
        /// Credentials refused: wait for them to change, then `resumeAfterCredentialsChange`.
        case awaitCredentials(reason: String)
        /// A batch is in flight already.
        case awaitAnswer
    }

    public let policy: Policy
    public private(set) var state: State = .ready
    /// Everything up to here is at the collector (or quarantined).
    public private(set) var acknowledged: Int64
    /// Consecutive failed attempts (for the backoff and for status).
    public private(set) var failures = 0
    /// The batch size limit in force (lowered by 413s).
    public private(set) var eventLimit: Int
    /// While isolating an invalid event: send at most this many.
    private var probeLimit: Int?

    public init(policy: Policy = Policy(), acknowledged: Int64) {
        self.policy = policy
        self.acknowledged = acknowledged
        self.eventLimit = policy.maximumEvents
    }

    /// Events owed, given the last committed sequence number.
    public func backlog(lastSeq: Int64) -> Int64 { max(0, lastSeq - acknowledged) }

    /// Whether `next` would look at the owed events now (ready, or its wait is over): the
    /// adapter reads the log only then.
    public func wantsEvents(now: Duration) -> Bool {
        switch state {
        case .ready: true
        case .backingOff(let until, _): now >= until
        case .sending, .stopped: false
        }
    }

    /// The next step: `sizes` are the encoded sizes of the owed events in order (the adapter
    /// reads up to `eventLimit` of them after `acknowledged`).
    public mutating func next(owed sizes: [(seq: Int64, bytes: Int)], now: Duration) -> Step {
        switch state {
        case .stopped(let reason): return .awaitCredentials(reason: reason)
        case .sending: return .awaitAnswer
        case .backingOff(let until, _):
            guard now >= until else { return .wait(until: until) }
            state = .ready
        case .ready: break
        }
        guard let first = sizes.first, first.seq == acknowledged + 1 else { return .awaitEvents }
        let limit = min(eventLimit, probeLimit ?? Int.max)
        var bytes = 0
        var last = first.seq
        for (i, e) in sizes.prefix(limit).enumerated() {
            // Contiguous only; the first event always goes, even alone above the byte limit.
            if i > 0 && (e.seq != last + 1 || bytes + e.bytes > policy.maximumBytes) { break }
            bytes += e.bytes
            last = e.seq
        }
        state = .sending(first: first.seq, last: last)
        return .send(first.seq...last)
    }

    /// The collector's answer to the batch in flight. `random` is in 0..<1 (full jitter).
    public mutating func received(_ answer: Answer, now: Duration, random: Double) -> [Action] {
        guard case .sending(let first, let last) = state else { return [] }
        switch answer {
        case .acknowledged(let through):
            // A collector may only acknowledge what it was sent (or had already).
            let upTo = min(max(through, acknowledged), last)
            failures = 0
            state = .ready
            if probeLimit != nil && upTo >= first { probeLimit = nil }
            guard upTo > acknowledged else { return [] }
            acknowledged = upTo
            return [.recordAcknowledged(upTo)]
        case .retryable(let reason, let retryAfter):
            failures += 1
            let exponent = min(failures - 1, 30)
            let ceiling = min(policy.backoffCap, policy.backoffBase * (1 << exponent))
            var delay = ceiling * max(0, min(random, 1))
            if let retryAfter { delay = max(delay, min(retryAfter, policy.backoffCap)) }
            state = .backingOff(until: now + delay, reason: reason)
            return []
        case .unauthorized(let reason):
            state = .stopped(reason: reason)
            return []
        case .tooLarge:
            if first == last {
                return quarantine(first: first, last: last, reason: "too large for the collector (413)")
            }
            eventLimit = max(1, Int(last - first + 1) / 2)
            state = .ready
            return []
        case .invalid(let reason):
            if first == last {
                return quarantine(first: first, last: last, reason: "rejected by the collector: \(reason)")
            }
            // Halve until the bad event is alone; the good ones before it go through.
            probeLimit = max(1, Int(last - first + 1) / 2)
            state = .ready
            return []
        }
    }

    /// The operator replaced the token: try again.
    public mutating func resumeAfterCredentialsChange() {
        if case .stopped = state { state = .ready; failures = 0 }
    }

    private mutating func quarantine(first: Int64, last: Int64, reason: String) -> [Action] {
        acknowledged = last
        probeLimit = nil
        state = .ready
        return [.quarantine(first: first, last: last, reason: reason), .recordAcknowledged(last)]
    }
}
