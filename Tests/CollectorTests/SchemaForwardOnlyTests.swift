import Foundation
import GRDB
import Logging
import PostgresNIO
import Testing
import YizhanCore
@testable import YizhanCollector

/// Migrations only go forward, on both stores: a database a newer collector migrated is
/// refused at start with a message naming both schema versions, and nothing is applied.
@Suite struct CollectorSchemaForwardOnlyTests {
    @Test(arguments: StoreKind.available)
    func anOlderCollectorRefusesASchemaANewerOneMigrated(_ kind: StoreKind) async throws {
        let newer = "v99-from-a-newer-collector"
        try await withStore(kind) { _, url in
            let known: [String]
            switch kind {
            case .sqlite:
                let path = String(url.dropFirst("sqlite://".count))
                known = SQLiteCollectorStore.migrator.migrations
                try await DatabaseQueue(path: path).write { db in
                    try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES (?)", arguments: [newer])
                }
            case .postgres:
                known = PostgresCollectorStore.migrations.map(\.0)
                try await rawPostgres(url, "INSERT INTO yizhan_migrations(name) VALUES ('\(newer)')")
            }
            let newestKnown = try #require(known.last)

            let error = await #expect(throws: SchemaNewerThanBinaryError.self) {
                try await withSecondStore(url) { _ in }
            }
            #expect(error?.unknownMigrations == [newer])
            #expect(error?.newestKnownMigration == newestKnown)
            let message = error?.description ?? ""
            #expect(message.contains(newer))
            #expect(message.contains("knows up to \(newestKnown)"))
            #expect(message.contains("yizhan \(YizhanVersion.current)"))
            if kind == .sqlite { #expect(message.contains(String(url.dropFirst("sqlite://".count)))) }
        }
    }
}

private func rawPostgres(_ url: String, _ sql: String) async throws {
    let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        try await client.query(PostgresQuery(unsafeSQL: sql))
        group.cancelAll()
    }
}
