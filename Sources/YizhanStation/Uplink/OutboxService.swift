import Foundation
import Logging
import Metrics
import ServiceLifecycle
import YizhanCore

/// Sends the event log to the collector, carrying out the steps the pure
/// `OutboxStateMachine` returns. At least once, in order, idempotent at the collector by
/// (station, seq); the acknowledged watermark is durable in station.db, so a restart or a
/// week offline resends nothing that was acknowledged and loses nothing that was not.
struct OutboxService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    var description: String { "outbox" }
    let configuration: StationConfiguration
    let uplink: StationConfiguration.Uplink
    let store: EventStore
    let recorder: VisitRecorder
    let client: CollectorClient
    let status: UplinkStatus
    let newEvents: DeviceChangeNotifier
    let logger: Logger
    let clock: C

    func run() async throws {
        try await cancelWhenGracefulShutdown { await loop() }
    }

    private func loop() async {
        var policy = OutboxStateMachine.Policy()
        policy.maximumEvents = uplink.batchEvents
        policy.maximumBytes = uplink.batchBytes
        policy.backoffCap = uplink.backoffCap
        let acknowledged = (try? store.acknowledged()) ?? 0
        var machine = OutboxStateMachine(policy: policy, acknowledged: acknowledged)
        status.update { $0.lastAck = acknowledged; $0.quarantined = (try? store.quarantinedCount()) ?? 0 }
        let origin = clock.now
        var refusedToken: String?
        var encoded: [(seq: Int64, json: Data)] = []
        while !Task.isCancelled {
            let generation = newEvents.generation
            let now = origin.duration(to: clock.now)
            do {
                encoded = machine.wantsEvents(now: now) ? try await owed(after: machine.acknowledged, limit: machine.eventLimit) : []
            } catch {
                logger.error("uplink: cannot read the event log: \(error)")
                await newEvents.wait(timeout: .seconds(5))
                continue
            }
            let step = machine.next(owed: encoded.map { ($0.seq, $0.json.count) }, now: now)
            status.record(machine, lastSeq: recorder.snapshot.lastSeq, tokenFile: uplink.tokenFile, logger: logger)
            switch step {
            case .send(let range):
                let batch = encoded.filter { range.contains($0.seq) }
                let answer = await client.send(batch.map(\.json))
                if case .unauthorized = answer { refusedToken = try? client.readToken() }
                if case .retryable = answer { status.update { $0.retries += 1 } }
                for action in machine.received(answer, now: origin.duration(to: clock.now), random: Double.random(in: 0..<1)) {
                    perform(action)
                }
                if case .acknowledged = answer {
                    status.update { $0.sentEvents += batch.count }
                    Metrics.Counter(label: "yizhan_uplink_sent_events_total").increment(by: batch.count)
                }
                status.record(machine, lastSeq: recorder.snapshot.lastSeq, tokenFile: uplink.tokenFile, logger: logger)
            case .wait(let until):
                try? await clock.sleep(for: max(.milliseconds(10), until - now))
            case .awaitEvents, .awaitAnswer:
                await newEvents.wait(timeout: .seconds(5), since: generation)
            case .awaitCredentials:
                // The token file is read again every few seconds; a new token resumes.
                if let token = try? client.readToken(), token != refusedToken {
                    machine.resumeAfterCredentialsChange()
                    logger.notice("uplink: token file changed, sending again")
                } else {
                    await newEvents.wait(timeout: .seconds(10))
                }
            }
        }
    }

    /// The owed events, each encoded once: its size feeds the batch limit, its bytes the body.
    private func owed(after acknowledged: Int64, limit: Int) async throws -> [(seq: Int64, json: Data)] {
        var q = EventStore.Query()
        q.after = acknowledged
        q.limit = limit
        return try await store.events(q).map { r in
            var e = EventRecord(r, offset: configuration.station.utcOffset)
            e.cardHint = nil  // hints stay at the station
            return (e.seq, Data(e.jsonBytes))
        }
    }

    private func perform(_ action: OutboxStateMachine.Action) {
        switch action {
        case .recordAcknowledged(let seq):
            do { try store.setAcknowledged(seq) } catch { logger.error("uplink: cannot record the acknowledgement \(seq): \(error)") }
        case .quarantine(let first, let last, let reason):
            logger.error("uplink: events \(first)...\(last) quarantined: \(reason)")
            try? store.quarantine(first: first, last: last, reason: reason, now: .now())
            status.update { $0.quarantined += Int(last - first + 1) }
            Metrics.Counter(label: "yizhan_uplink_quarantined_events_total").increment(by: Int(last - first + 1))
        }
    }
}
