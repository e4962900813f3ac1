import Foundation
import Logging
import YizhanCore

/// Carries out a reconciliation request: sends a range of the log again (the collector
/// stores each seq once, so a resend never doubles anything). Events the log no longer has
/// (purged by retention) are reported in the log, never silently skipped.
struct EventResender: Sendable {
    let store: EventStore
    let client: CollectorClient
    let offset: UTCOffset
    let logger: Logger
    /// At most this many events per request, as the outbox sends them.
    let batchEvents: Int

    func resend(_ range: ResendRange) async {
        guard range.fromSeq >= 1, range.fromSeq <= range.toSeq else { return }
        // At most 1,000 per heartbeat: a large gap is closed over several heartbeats.
        let asked = range.fromSeq...min(range.toSeq, range.fromSeq + 999)
        let events: [RecordedEvent]
        do { events = try store.events(resending: asked) } catch {
            logger.error("reconciliation: cannot read seq \(asked.lowerBound)-\(asked.upperBound): \(error)")
            return
        }
        let have = Set(events.map(\.seq))
        let gone = asked.filter { !have.contains($0) }
        if !gone.isEmpty {
            logger.error("reconciliation: the collector lacks seq \(gone.first!)-\(gone.last!) (\(gone.count) events) and this station no longer has them (purged or quarantined): they cannot be sent again")
        }
        logger.notice("reconciliation: the collector asked for seq \(asked.lowerBound)-\(asked.upperBound); sending \(events.count) event(s) again")
        var index = events.startIndex
        while index < events.endIndex {
            let end = min(index + max(batchEvents, 1), events.endIndex)
            let batch = events[index..<end].map { r -> Data in
                var e = EventRecord(r, offset: offset)
                e.cardHint = nil  // hints stay at the station
                return Data(e.jsonBytes)
            }
            let answer = await client.send(batch)
            guard case .acknowledged = answer else {
                logger.warning("reconciliation: resending seq \(events[index].seq)...: \(answer); asked again at a later heartbeat")
                return
            }
            index = end
        }
    }
}
