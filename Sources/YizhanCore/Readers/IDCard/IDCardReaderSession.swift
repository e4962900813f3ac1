/// The conversation with a SAM ID-card reader, as a pure state machine. The adapter
/// feeds it decoded responses and clock ticks and carries out the actions it returns.
///
/// Rules (GA 467 chapter 7 and how real readers behave):
/// - Start with SAM status; the reader is up once the SAM answers `90`.
/// - Poll "find card"; on `9F` select, then read. After a successful read the reader answers
///   `80` while the card stays, so a visit is the no-card → card transition: a `9F` right
///   after a read without an `80` in between is the same card and is ignored.
/// - Re-check the SAM every `samCheckInterval`.
/// - No valid answer for `failureTimeout` marks the reader failed; the adapter reopens it.
public struct IDCardReaderSession: Sendable {
    public struct Timing: Hashable, Sendable {
        public var pollInterval: Duration = .milliseconds(250)
        public var responseTimeout: Duration = .milliseconds(1500)
        public var failureTimeout: Duration = .seconds(5)
        public var samCheckInterval: Duration = .seconds(5)
        public init() {}
    }

    public enum Action: Hashable, Sendable {
        case send(IDCardCommand)
        /// The SAM answered: the reader works.
        case up
        /// A card was read; the 256-byte text block (photo already dropped).
        case cardRead(textBlock: [UInt8])
        /// A card was presented but could not be read.
        case badRead(String)
        /// The reader stopped answering or its SAM is broken; close and reopen it.
        case failed(String)
    }

    private enum Phase: Hashable, Sendable {
        case idle
        case awaiting(IDCardCommand, sentAt: Duration)
        case failed
    }

    public let timing: Timing
    private var phase: Phase = .idle
    private var isUp = false
    private var lastValidAnswer: Duration = .zero
    private var lastSAMCheck: Duration = .zero
    private var lastFind: Duration?
    /// A card was read and no "no card" has been seen since.
    private var cardConsumed = false
    /// A failed read was reported for the card on the reader; retries stay quiet until it leaves.
    private var failureReported = false

    public init(timing: Timing = Timing()) {
        self.timing = timing
    }

    public var hasFailed: Bool { phase == .failed }

    public mutating func start(now: Duration) -> [Action] {
        lastValidAnswer = now
        return send(.samStatus, now: now)
    }

    public mutating func receive(_ response: IDCardResponse, now: Duration) -> [Action] {
        guard case .awaiting(let command, _) = phase else { return [] }  // unsolicited: ignore
        lastValidAnswer = now
        phase = .idle
        var actions: [Action] = []
        switch command {
        case .samStatus:
            guard response.isStatus(.success) else {
                phase = .failed
                return [.failed("SAM status check failed: \(response.status)")]
            }
            lastSAMCheck = now
            if !isUp {
                isUp = true
                actions.append(.up)
            }
        case .findCard:
            lastFind = now
            if response.isStatus(.cardPresent) {
                if !cardConsumed { return send(.selectCard, now: now) }
            } else if response.isStatus(.noCard) {
                cardConsumed = false
                failureReported = false
            }
        case .selectCard:
            // A failed select is normal when a card is pulled away quickly; the next find retries.
            if response.isStatus(.success) { return send(.readText, now: now) }
        case .readText:
            if response.isStatus(.success) {
                cardConsumed = true
                do {
                    actions.append(.cardRead(textBlock: try IDCardReadData.textBlock(from: response.data)))
                } catch {
                    actions.append(.badRead(error.description))
                }
            } else if !failureReported {
                // Retried at the next poll while the card stays; reported once per presentation.
                failureReported = true
                actions.append(.badRead("read failed: \(response.status)"))
            }
        }
        return actions + schedule(now: now)
    }

    /// A corrupt frame arrived. A damaged answer (bad checksum or length) means the request
    /// will not be answered: ask again now instead of waiting for the timeout, so a quick
    /// swipe is not missed. Stray bytes between frames change nothing.
    public mutating func frameError(_ error: GA467FrameError, now: Duration) -> [Action] {
        guard case .awaiting = phase else { return [] }
        switch error {
        case .garbage: return []
        case .badChecksum, .badLength:
            phase = .idle
            lastFind = nil  // poll again at once
            return schedule(now: now)
        }
    }

    public mutating func tick(now: Duration) -> [Action] {
        if phase == .failed { return [] }
        if now - lastValidAnswer >= timing.failureTimeout {
            phase = .failed
            return [.failed("no valid answer for \(timing.failureTimeout.wholeSeconds) s")]
        }
        if case .awaiting(_, let sentAt) = phase {
            guard now - sentAt >= timing.responseTimeout else { return [] }
            phase = .idle
        }
        return schedule(now: now)
    }

    private mutating func schedule(now: Duration) -> [Action] {
        guard phase == .idle else { return [] }
        if !isUp {
            // Until the SAM answers, ask again at the poll rate.
            if now - lastSAMCheck >= timing.pollInterval { return send(.samStatus, now: now) }
            return []
        }
        if now - lastSAMCheck >= timing.samCheckInterval { return send(.samStatus, now: now) }
        if lastFind.map({ now - $0 >= timing.pollInterval }) ?? true { return send(.findCard, now: now) }
        return []
    }

    private mutating func send(_ command: IDCardCommand, now: Duration) -> [Action] {
        phase = .awaiting(command, sentAt: now)
        if command == .samStatus && !isUp { lastSAMCheck = now }
        if command == .findCard { lastFind = now }
        return [.send(command)]
    }
}
