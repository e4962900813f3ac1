import Logging
import ServiceLifecycle
import YizhanCore
import YizhanWeb

/// Daily store upkeep in the collector's ServiceGroup: PostgreSQL's month partitions made
/// ahead, and raw events past `[storage] raw_retention_months` removed (rollups kept).
/// Several collectors may run it at once: both steps are idempotent.
public struct StoreMaintenanceService: Service, CustomStringConvertible {
    public let store: any CollectorStore
    public let retentionMonths: Int
    public let logger: Logger
    public var description: String { "store-maintenance" }

    public init(store: any CollectorStore, retentionMonths: Int, logger: Logger) {
        self.store = store; self.retentionMonths = retentionMonths; self.logger = logger
    }

    /// The first instant kept: the start of the UTC month `months` before `now`'s.
    public static func cutoff(now: Timestamp, months: Int) -> Timestamp {
        var c = CivilTime(now, offset: .utc)
        c.day = 1; c.hour = 0; c.minute = 0; c.second = 0; c.millisecond = 0
        c.month -= months
        while c.month < 1 { c.month += 12; c.year -= 1 }
        return c.timestamp(offset: .utc)
    }

    public func runOnce(now: Timestamp = .now()) async throws {
        if let pg = store as? PostgresCollectorStore { try await pg.makePartitionsAhead(now: now) }
        guard retentionMonths > 0 else { return }
        let removed = try await store.purgeRawEvents(before: Self.cutoff(now: now, months: retentionMonths))
        logger.info("raw event retention (\(retentionMonths) months): \(removed) removed")
    }

    public func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do { try await runOnce() } catch { logger.error("store maintenance failed: \(String(reflecting: error)); trying again in an hour") }
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: .seconds(3600)) }
        }
    }
}
