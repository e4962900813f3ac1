import Foundation
import Logging
import PostgresNIO
import Testing
import YizhanCore
@testable import YizhanCollector

/// The two stores the contract suite runs against. PostgreSQL is the throwaway cluster
/// `make test` starts (scripts/test-postgres.sh sets YIZHAN_TEST_POSTGRES_URL). Without it
/// the PostgreSQL cases fail and say how to run them: they never vanish from a run.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }

    static let postgresURL = ProcessInfo.processInfo.environment["YIZHAN_TEST_POSTGRES_URL"]
    static var available: [StoreKind] { allCases }
}

let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh, empty database of that kind: a SQLite file in a temporary directory, or a new
/// database in the test cluster (dropped afterwards). `body` gets the storage URL too, so
/// it can open a second store on the same data (a second collector).
func withStore(_ kind: StoreKind, _ body: (_ store: any CollectorStore, _ url: String) async throws -> Void) async throws {
    switch kind {
    case .sqlite:
        let scratch = Scratch()
        let url = "sqlite://" + scratch.path + "/collector.db"
        try await CollectorStores.with(url, logger: quietLogger) { try await body($0, url) }
    case .postgres:
        let admin = try #require(StoreKind.postgresURL,
                                 "YIZHAN_TEST_POSTGRES_URL is not set: run the tests inside a PostgreSQL cluster (scripts/test-postgres.sh swift test; make test does)")
        let name = "yizhan_t\(UInt32.random(in: 0...UInt32.max))"
        try await adminQuery(admin, "CREATE DATABASE \(name)")
        let url = admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
        do { try await CollectorStores.with(url, logger: quietLogger) { try await body($0, url) } } catch {
            try? await adminQuery(admin, "DROP DATABASE \(name) WITH (FORCE)")
            // PostgresNIO's errors hide their details unless reflected.
            if error is PSQLError { Issue.record("PostgreSQL: \(String(reflecting: error))") }
            throw error
        }
        try await adminQuery(admin, "DROP DATABASE \(name) WITH (FORCE)")
    }
}

/// A second store on the same data, as a second collector instance would open it.
func withSecondStore<T: Sendable>(_ url: String, _ body: (any CollectorStore) async throws -> T) async throws -> T {
    try await CollectorStores.with(url, logger: quietLogger, body)
}

private func adminQuery(_ url: String, _ sql: String) async throws {
    let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        try await client.query(PostgresQuery(unsafeSQL: sql))
        group.cancelAll()
    }
}
