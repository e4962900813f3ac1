import Logging
import ServiceLifecycle
import YizhanCore
import YizhanWeb

/// Every `heartbeat_seconds`: the station's live state to the collector (occupancy and
/// capacity, opening hours, readers, amenities, backlog, clock, version).
struct HeartbeatService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    var description: String { "heartbeats" }
    let configuration: StationConfiguration
    let uplink: StationConfiguration.Uplink
    let recorder: VisitRecorder
    let registry: ReaderRegistry
    let client: CollectorClient
    let status: UplinkStatus
    let answers: HeartbeatAnswerHandler
    let logger: Logger
    let clock: C

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await send()
                try? await clock.sleep(for: uplink.heartbeat)
            }
        }
    }

    /// The heartbeat as of `now`; the capacity and hours are the ones the station applies.
    static func heartbeat(stationID: String, offset: UTCOffset, recorder: VisitRecorder, registry: ReaderRegistry,
                          status: UplinkStatus.Snapshot, now: Timestamp) -> Heartbeat {
        let snapshot = recorder.snapshot
        let policy = recorder.policy
        return Heartbeat(stationID: stationID, time: RFC3339.format(now, offset: offset),
                         occupancy: snapshot.occupancy, capacity: policy.capacity, open: policy.hours.isOpen(at: now),
                         readers: registry.snapshot().map { Heartbeat.Reader(name: $0.name, state: $0.state) },
                         amenities: recorder.amenities.statuses.mapValues(\.rawValue), backlog: max(0, snapshot.lastSeq - status.lastAck),
                         lastAck: status.lastAck, lastSeq: snapshot.lastSeq, version: YizhanVersion.current,
                         openingHours: policy.hours.specs)
    }

    private func send() async {
        let now = Timestamp.now()
        var beat = Self.heartbeat(stationID: configuration.station.id, offset: configuration.station.utcOffset, recorder: recorder,
                                  registry: registry, status: status.snapshot, now: now)
        // Alerts and reconciliation: storage use, and what the log holds per day.
        let cap = Int64(configuration.storage.maximumMegabytes) << 20
        if cap > 0 { beat.storagePercent = Int(min(100, recorder.store.sizeInBytes() * 100 / cap)) }
        do { beat.dayCounts = try recorder.store.dayCounts(now: now, offset: configuration.station.utcOffset) } catch {
            logger.warning("heartbeat: cannot count the log's days: \(error)")
        }
        answers.office?.fill(&beat)
        do {
            let (code, answer) = try await client.send(beat)
            if (200..<300).contains(code) {
                status.update { $0.lastHeartbeat = .now() }
                if let answer { await answers.handle(answer) } else { logger.warning("the collector's heartbeat answer did not decode") }
            } else {
                logger.debug("heartbeat answered \(code)")
            }
        } catch {
            logger.debug("heartbeat failed: \(error)")
        }
    }
}
