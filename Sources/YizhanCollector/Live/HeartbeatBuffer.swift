import Logging
import ServiceLifecycle
import Synchronization
import YizhanCore

/// Heartbeats are many (a national network sends thousands a second) and each only
/// replaces the last: they are answered at once, kept here newest per station, and written
/// in one transaction per interval. A read of the live state flushes first, so an answer
/// never lags what was acknowledged. Losing the unflushed ones in a crash costs one
/// interval of freshness, nothing else: the next heartbeat brings it back.
public final class HeartbeatBuffer: Sendable {
    private let pending = Mutex<[String: HeartbeatRecord]>([:])
    private let store: any CollectorStore

    public init(store: any CollectorStore) { self.store = store }

    public func add(_ heartbeat: HeartbeatRecord) {
        pending.withLock { $0[heartbeat.station] = heartbeat }
    }

    public var count: Int { pending.withLock { $0.count } }

    public func flush() async throws {
        let batch = pending.withLock { p in defer { p = [:] }; return Array(p.values) }
        guard !batch.isEmpty else { return }
        do {
            try await store.recordHeartbeats(batch)
        } catch {
            // Put back what no newer heartbeat has replaced meanwhile; the store also never
            // lets an older heartbeat overwrite a newer one.
            pending.withLock { p in for h in batch where p[h.station] == nil { p[h.station] = h } }
            throw error
        }
    }
}

/// Flushes the buffer every interval, and once more on shutdown.
public struct HeartbeatFlusher: Service {
    let buffer: HeartbeatBuffer
    let interval: Duration
    let logger: Logger

    public init(buffer: HeartbeatBuffer, interval: Duration, logger: Logger) {
        self.buffer = buffer; self.interval = interval; self.logger = logger
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do { try await buffer.flush() } catch { logger.error("could not store heartbeats: \(error)") }
        }
        do { try await buffer.flush() } catch { logger.error("could not store heartbeats on shutdown: \(error)") }
    }
}
