import Logging
import ServiceLifecycle
import YizhanCore

/// Opening a store the way the collector does, with structured concurrency: the store
/// runs (PostgreSQL's pool) only while it is in use, and no task outlives it.
public enum CollectorStores {
    /// The store for a `sqlite://` or `postgres://` URL, not yet running.
    public static func make(_ url: String, logger: Logger, reportOffset: UTCOffset = .china) throws -> any CollectorStore {
        url.hasPrefix("sqlite://") ? try SQLiteCollectorStore(path: String(url.dropFirst("sqlite://".count)), reportOffset: reportOffset)
            : try PostgresCollectorStore(url: url, logger: logger, reportOffset: reportOffset)
    }

    /// Runs the store for `url` while `body` uses it (prepared first), then stops and closes it.
    public static func with<T: Sendable>(_ url: String, logger: Logger, reportOffset: UTCOffset = .china,
                                         _ body: (any CollectorStore) async throws -> T) async throws -> T {
        try await with(try make(url, logger: logger, reportOffset: reportOffset), body)
    }

    public static func with<T: Sendable>(_ store: any CollectorStore, _ body: (any CollectorStore) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: Void.self, returning: T.self) { group in
            group.addTask { await store.run() }
            do {
                try await store.prepare()
                let result = try await body(store)
                group.cancelAll()
                try await store.close()
                return result
            } catch {
                group.cancelAll()
                try? await store.close()
                throw error
            }
        }
    }
}

/// The store as a service of the collector's ServiceGroup (listed first, so it stops last).
public struct CollectorStoreService: Service, CustomStringConvertible {
    public let store: any CollectorStore
    public var description: String { "store" }
    public init(_ store: any CollectorStore) { self.store = store }
    public func run() async throws {
        await cancelWhenGracefulShutdown { await store.run() }
        // SQLite's run returns at once: a service that ends would end the group, so this one
        // stays until the group shuts down.
        try? await gracefulShutdown()
    }
}
