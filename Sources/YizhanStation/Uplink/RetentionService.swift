import Logging
import Metrics
import ServiceLifecycle
import YizhanCore
import YizhanWeb

/// Every ten minutes: purges acknowledged events past `[storage] retention_days`; over
/// `max_megabytes`, purges acknowledged events early (oldest first) and alerts.
/// Unacknowledged events are never dropped: a station that cannot reach the collector
/// keeps recording and says so.
struct RetentionService<C: Clock>: Service, CustomStringConvertible where C.Duration == Duration {
    var description: String { "retention" }
    let storage: StationConfiguration.Storage
    let store: EventStore
    let logger: Logger
    let clock: C

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                Self.housekeeping(storage: storage, store: store, logger: logger, now: .now())
                try? await clock.sleep(for: .seconds(600))
            }
        }
    }

    static func housekeeping(storage: StationConfiguration.Storage, store: EventStore, logger: Logger, now: Timestamp) {
        do {
            var purged = try store.purgeAcknowledged(before: now - .seconds(Int64(storage.retentionDays) * 86_400))
            let cap = Int64(storage.maximumMegabytes) * 1024 * 1024
            if store.sizeInBytes() > cap {
                // Keep a day of acknowledged history if we can; then everything acknowledged.
                purged += try store.purgeAcknowledged(before: now - .seconds(86_400))
                if store.sizeInBytes() > cap { purged += try store.purgeAcknowledged(before: now + .seconds(1)) }
            }
            if purged > 0 {
                try store.releaseFreePages()
                logger.info("purged \(purged) acknowledged event(s)")
            }
            let over = store.sizeInBytes() > cap
            Metrics.Gauge(label: "yizhan_storage_over_cap").record(over ? 1 : 0)
            if over {
                logger.error("station.db is over [storage] max_megabytes (\(storage.maximumMegabytes) MB) with unacknowledged events; still recording, nothing is dropped: restore the uplink or raise the cap")
            }
        } catch {
            logger.error("housekeeping failed: \(error)")
        }
    }
}
