import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization
import YizhanCore
import YizhanWeb

/// Turns reader signals into committed events: card → card key → visit decision →
/// durable commit → live state → observers, in that order. Nothing is shown or sent before
/// it is committed.
///
/// One loop consumes a queue of inputs. Inputs that arrive while a commit is in flight are
/// decided together on a copy of the station state and committed in one transaction
/// (group commit); the copy replaces the live state only once the commit succeeded. When a
/// commit fails (disk full, I/O error) the inputs stay queued in order and are retried
/// with backoff; the state is untouched, so the decisions are the same on retry.
public final class VisitRecorder: ReaderSignalSink, Sendable {
    public struct Snapshot: Sendable {
        public var occupancy: Int
        public var lastSeq: Int64
        public var storeError: String?
        public var isOpen: Bool
    }

    /// What the kiosk shows after a swipe; never stored (the name is masked).
    public struct SwipeOutcome: Sendable {
        public var kind: EventKind
        public var displayName: String?
        public var reader: String
        public var time: Timestamp
    }

    /// Something a person asks the station to record, answered once committed (the rules
    /// are `StationState`'s).
    public typealias Request = StationState.Request
    public typealias RequestError = StationState.Refusal

    enum Input: Sendable {
        case signal(reader: String, ReaderSignal, Timestamp)
        case tick(Timestamp)
        case started(version: String, Timestamp)
        case closeDay(by: String, reply: @Sendable (Result<CloseDayResult, any Error>) -> Void)
        case request(Request, Timestamp, reply: @Sendable (Result<RecordedEvent, any Error>) -> Void)
        /// New rules and, when given, a new amenity list (office settings), applied together.
        case policy(VisitPolicy, [AmenityDefinition]?, reply: @Sendable () -> Void)
    }

    let store: EventStore
    let keyer: CardKeyer
    let registry: ReaderRegistry
    let liveness: Liveness
    let logger: Logger
    private let queue = Mutex<[Input]>([])
    private let wakeSignal = DispatchSemaphore(value: 0)
    private let backoffSignal = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)
    /// Visits, amenities, the rating window and the report throttle: one value, one lock.
    let state: Mutex<StationState>
    let snapshotState: Mutex<Snapshot>
    let observers = Mutex<[@Sendable ([RecordedEvent], [SwipeOutcome]) -> Void]>([])
    static let livenessKey = "recorder"

    public init(store: EventStore, keyer: CardKeyer, policy: VisitPolicy, registry: ReaderRegistry,
                liveness: Liveness, logger: Logger, amenities: [AmenityDefinition] = [], now: Timestamp = .now()) throws {
        self.store = store
        self.keyer = keyer
        self.registry = registry
        self.liveness = liveness
        self.logger = logger
        let rebuilt = StationState(policy: policy, amenities: amenities, amenityLog: try store.eventsForAmenityBoard(),
                                   visitLog: try store.eventsForReplay(now: now, window: policy.debounce))
        self.state = Mutex(rebuilt)
        self.snapshotState = Mutex(Snapshot(occupancy: rebuilt.occupancy, lastSeq: try store.lastSeq(), storeError: nil,
                                            isOpen: policy.hours.isOpen(at: now)))
        Metrics.Gauge(label: "yizhan_occupancy").record(rebuilt.occupancy)
    }

    public var snapshot: Snapshot { snapshotState.withLock { $0 } }
    public var policy: VisitPolicy { state.withLock { $0.policy } }
    public var inside: [CardKey: VisitStateMachine.Presence] { state.withLock { $0.visits.inside } }
    public var amenities: AmenityBoard { state.withLock { $0.board } }

    /// Called after every commit, with the committed events and what a kiosk should show.
    public func observe(_ observer: @escaping @Sendable ([RecordedEvent], [SwipeOutcome]) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    // MARK: inputs

    public func reader(_ name: String, signalled signal: ReaderSignal, at time: Timestamp) {
        enqueue(.signal(reader: name, signal, time))
    }

    /// Records `station_started` once the loop runs.
    public func recordStart(version: String) {
        enqueue(.started(version: version, .now()))
    }

    public func closeDay(by who: String) async throws -> CloseDayResult {
        try await withCheckedThrowingContinuation { c in
            enqueue(.closeDay(by: who, reply: { c.resume(with: $0) }))
        }
    }

    /// Records an amenity change, a fault report or a rating; returns the committed event.
    public func record(_ request: Request, at time: Timestamp = .now()) async throws -> RecordedEvent {
        try await withCheckedThrowingContinuation { c in
            enqueue(.request(request, time, reply: { c.resume(with: $0) }))
        }
    }

    /// Replaces the policy, and the amenity list when given, between two commits (office
    /// settings): a swipe or a kiosk request sees the old or the new, never a mix. Returns
    /// once swapped.
    public func replacePolicy(_ policy: VisitPolicy, amenities: [AmenityDefinition]? = nil) async {
        await withCheckedContinuation { c in enqueue(.policy(policy, amenities, reply: { c.resume() })) }
    }

    /// Inputs held while the store cannot commit are bounded: past this, new swipes and bad
    /// reads are refused (counted and logged); reader changes, ticks and close-day still queue.
    static let maximumQueuedInputs = 10_000

    private func enqueue(_ input: Input) {
        let accepted = queue.withLock { q -> Bool in
            if q.count >= Self.maximumQueuedInputs, case .signal(_, .card, _) = input { return false }
            if q.count >= Self.maximumQueuedInputs, case .signal(_, .badRead, _) = input { return false }
            q.append(input)
            return true
        }
        guard accepted else {
            Metrics.Counter(label: "yizhan_inputs_dropped_total").increment()
            logger.error("event log unwritable and \(Self.maximumQueuedInputs) inputs held: a swipe was refused")
            return
        }
        wakeSignal.signal()
    }

    // MARK: the loop

    /// Runs until cancelled. Commits happen on a dedicated thread: one writer, no task
    /// hops between a swipe and its fsync, and a slow fsync (an SD card) never blocks a
    /// thread of Swift's cooperative pool. The thread also ticks every second for
    /// automatic check-outs and the watchdog's proof that the store answers.
    public func run() async {
        let (exited, exitedContinuation) = AsyncStream<Void>.makeStream()
        let thread = Thread { [self] in
            commitLoop()
            exitedContinuation.finish()
        }
        thread.name = "yizhan-commit"
        thread.start()
        await withTaskCancellationHandler {
            for await _ in exited {}
        } onCancel: {
            stopping.store(true, ordering: .relaxed)
            wakeSignal.signal()
            backoffSignal.signal()
        }
    }

    private func commitLoop() {
        var retryDelay: Duration = .milliseconds(100)
        var nextTick = ContinuousClock.now + .seconds(1)
        while !stopping.load(ordering: .relaxed) {
            let untilTick = max(.zero, nextTick - ContinuousClock.now)
            _ = wakeSignal.wait(timeout: .now() + .milliseconds(Int(untilTick.milliseconds) + 1))
            if stopping.load(ordering: .relaxed) { break }
            if ContinuousClock.now >= nextTick {
                nextTick = ContinuousClock.now + .seconds(1)
                // While commits fail, one queued tick is enough.
                queue.withLock { q in
                    if case .tick = q.last { return }
                    q.append(.tick(.now()))
                }
            }
            while !stopping.load(ordering: .relaxed) {
                let batch = queue.withLock { q in Array(q.prefix(512)) }
                if batch.isEmpty { break }
                do {
                    try commit(batch)
                    queue.withLock { $0.removeFirst(batch.count) }
                    retryDelay = .milliseconds(100)
                    liveness.beat(Self.livenessKey)
                } catch {
                    // The store answered, so the loop is alive; the inputs stay queued, except
                    // close-day requests, whose callers get the error now instead of waiting.
                    liveness.beat(Self.livenessKey)
                    for reply in takeCloseDayRequests(among: batch.count, failing: error) { reply(.failure(error)) }
                    let message = "\(error)"
                    let first = snapshotState.withLock { s in defer { s.storeError = message }; return s.storeError == nil }
                    if first { logger.error("cannot commit to the event log, \(batch.count) input(s) held in memory and retried: \(message)") }
                    Metrics.Counter(label: "yizhan_store_errors_total").increment()
                    _ = backoffSignal.wait(timeout: .now() + .milliseconds(Int(retryDelay.milliseconds)))
                    retryDelay = min(retryDelay * 2, .seconds(10))
                    break  // back to the outer loop: ticks keep coming while we retry
                }
            }
        }
        // Shutting down: nobody will commit what is left; answer waiting close-day callers.
        for reply in takeCloseDayRequests(among: Int.max, failing: CancellationError()) { reply(.failure(CancellationError())) }
        let waiting = queue.withLock { q in q.compactMap { input -> (@Sendable () -> Void)? in
            if case .policy(_, _, let reply) = input { return reply }; return nil } }
        for reply in waiting { reply() }
    }

    /// Takes the close-day requests among the first `count` inputs (returned for the caller
    /// to answer) and fails the amenity/rating requests there with `failure`.
    private func takeCloseDayRequests(among count: Int, failing failure: any Error) -> [@Sendable (Result<CloseDayResult, any Error>) -> Void] {
        var requestReplies: [@Sendable (Result<RecordedEvent, any Error>) -> Void] = []
        defer { for r in requestReplies { r(.failure(failure)) } }
        return queue.withLock { q in
            var replies: [@Sendable (Result<CloseDayResult, any Error>) -> Void] = []
            var kept: [Input] = []
            for (i, input) in q.enumerated() {
                if i < count, case .closeDay(_, let reply) = input { replies.append(reply) }
                else if i < count, case .request(_, _, let reply) = input { requestReplies.append(reply) }
                else { kept.append(input) }
            }
            q = kept
            return replies
        }
    }
}
