import Synchronization

/// Set once the store's schema is ready (the collector migrates it before it listens);
/// the alert services wait for it, so their first pass never meets a missing table.
public final class StoreReadiness: Sendable {
    private let ready = Mutex(false)
    public init(ready: Bool = false) { self.ready.withLock { $0 = ready } }
    public func markReady() { ready.withLock { $0 = true } }
    public var isReady: Bool { ready.withLock { $0 } }

    /// Returns once ready, or when the task is cancelled.
    public func wait() async {
        while !isReady && !Task.isCancelled { try? await Task.sleep(for: .milliseconds(100)) }
    }
}
