import Dispatch
import Foundation
import Logging
import Metrics
import Synchronization
import YizhanCore
import YizhanWeb

/// One commit of the recorder's loop: the batch's inputs decided by the core against a
/// draft of the station's state, the events appended durably, then the state swapped in,
/// the callers answered and the observers told.
extension VisitRecorder {
    func commit(_ batch: [Input]) throws {
        var draft = state.withLock { $0 }
        // Requests that become an event, answered after the commit with their event's index.
        var requestReplies: [(@Sendable (Result<RecordedEvent, any Error>) -> Void, Int)] = []
        var refused: [(@Sendable (Result<RecordedEvent, any Error>) -> Void, any Error)] = []
        var events: [StationEvent] = []
        var outcomes: [SwipeOutcome] = []
        var replies: [(@Sendable (Result<CloseDayResult, any Error>) -> Void, Int)] = []
        var policyReplies: [@Sendable () -> Void] = []
        var ticked = false
        var readCounts: [(reader: String, bad: Bool)] = []

        func take(_ decided: [StationEvent]) {
            draft.apply(decided)
            events += decided
        }

        for input in batch {
            switch input {
            case .signal(let reader, let signal, let time):
                switch signal {
                case .card(let number, let displayName):
                    let decided = draft.visits.decideSwipe(card: keyer.key(for: number), hint: number.hint, reader: reader, now: time)
                    take(decided)
                    if let last = decided.last {
                        outcomes.append(SwipeOutcome(kind: last.kind, displayName: displayName, reader: reader, time: time))
                    }
                    readCounts.append((reader, false))
                case .badRead(let reason):
                    take(draft.visits.decideBadRead(reader: reader, reason: reason, now: time))
                    outcomes.append(SwipeOutcome(kind: .badRead, displayName: nil, reader: reader, time: time))
                    readCounts.append((reader, true))
                case .up(let device):
                    take(draft.visits.decideReader(.readerUp, reader: reader, detail: device, now: time))
                case .down(let reason):
                    take(draft.visits.decideReader(.readerDown, reader: reader, detail: reason, now: time))
                }
            case .started(let version, let time):
                take([StationEvent(time: time, kind: .stationStarted, occupancy: draft.occupancy, detail: "version \(version)")])
            case .tick(let now):
                take(draft.visits.decideTick(now: now))
                draft.prune(now: now)
                ticked = true
            case .closeDay(let who, let reply):
                let decided = draft.visits.decideCloseDay(now: .now(), by: who)
                take(decided)
                replies.append((reply, decided.count - 1))
            case .policy(let policy, let amenities, let reply):
                draft.replacePolicy(policy)
                if let amenities, amenities != draft.board.entries.map(\.definition) {
                    // An amenity offered again gets back its latest status from the log.
                    let added = amenities.contains { draft.board.entry($0.id) == nil }
                    draft.replaceAmenities(amenities, log: added ? try store.eventsForAmenityBoard() : [])
                }
                policyReplies.append(reply)
            case .request(let request, let time, let reply):
                do {
                    // Decided and applied by the state; only the event list is ours to extend.
                    events.append(try draft.decide(request, at: time))
                    requestReplies.append((reply, events.count - 1))
                } catch {
                    // Refused: nothing to write. Answered after the commit, so a retried batch
                    // never answers twice.
                    refused.append((reply, error))
                }
            }
        }

        let recorded: [RecordedEvent]
        if events.isEmpty {
            if ticked { try store.ping() }
            recorded = []
        } else {
            recorded = try store.append(events)
        }
        for (reader, bad) in readCounts { registry.update(reader) { if bad { $0.badReads += 1 } else { $0.reads += 1 } } }
        // Committed: now the state may change and be shown.
        let occupancy = draft.occupancy
        let isOpen = draft.policy.hours.isOpen(at: .now())
        state.withLock { $0 = draft }
        for (reply, index) in requestReplies { reply(.success(recorded[index])) }
        for (reply, error) in refused { reply(.failure(error)) }
        for reply in policyReplies { reply() }
        snapshotState.withLock { s in
            s.occupancy = occupancy
            s.isOpen = isOpen
            if let last = recorded.last { s.lastSeq = last.seq }
            if s.storeError != nil { logger.notice("event log writable again") }
            s.storeError = nil
        }
        let lastSeq = snapshot.lastSeq
        for (reply, count) in replies { reply(.success(CloseDayResult(checkedOut: count, lastSeq: lastSeq))) }
        guard !recorded.isEmpty else { return }
        Metrics.Gauge(label: "yizhan_occupancy").record(occupancy)
        for r in recorded {
            Metrics.Counter(label: "yizhan_events_total", dimensions: [("kind", r.event.kind.rawValue)]).increment()
            logEvent(r)
        }
        let current = observers.withLock { $0 }
        for o in current { o(recorded, outcomes) }
    }

    private func logEvent(_ r: RecordedEvent) {
        let e = r.event
        var metadata: Logger.Metadata = ["seq": "\(r.seq)", "kind": "\(e.kind.rawValue)", "occupancy": "\(e.occupancy)"]
        if let reader = e.reader, !reader.isEmpty { metadata["reader"] = "\(reader)" }
        if let hint = e.cardHint { metadata["card"] = "\(hint)" }  // the masked hint, never the number
        if let detail = e.detail { metadata["detail"] = "\(detail)" }
        switch e.kind {
        case .readerDown, .badRead: logger.warning("\(e.kind.rawValue)", metadata: metadata)
        case .duplicate: logger.debug("\(e.kind.rawValue)", metadata: metadata)
        default: logger.info("\(e.kind.rawValue)", metadata: metadata)
        }
    }
}
