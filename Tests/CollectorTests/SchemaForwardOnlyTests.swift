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

/// The office settings migration comes after the ones a running fleet already has, under
/// the same name in both stores, and a database from before it gains its tables on start.
@Suite struct OfficeSettingsMigrationTests {
    @Test func bothStoresKnowTheOfficeSettingsMigrationAfterTheirEarlierOnes() {
        let sqlite = SQLiteCollectorStore.migrator.migrations
        let postgres = PostgresCollectorStore.migrations.map(\.0)
        #expect(sqlite.firstIndex(of: "v6-office-settings") == sqlite.firstIndex(of: "v4-regions-rollups").map { $0 + 1 })
        #expect(postgres.firstIndex(of: "v6-office-settings") == postgres.firstIndex(of: "v5-partitioned-events").map { $0 + 1 })
    }

    @Test func aDatabaseFromBeforeOfficeSettingsIsMigratedOnOpen() async throws {
        let scratch = Scratch()
        let path = scratch.path + "/collector.db"
        var config = Configuration()
        config.prepareDatabase { db in SQLiteCollectorStore.addSketchFunctions(db) }
        let old = try DatabaseQueue(path: path, configuration: config)
        try SQLiteCollectorStore.migrator.migrate(old, upTo: "v4-regions-rollups")
        try await old.write { db in
            try db.execute(sql: "INSERT INTO stations(id, name, capacity, token_hash, region) VALUES ('s1', 's1', 5, 'h', '浙江省')")
        }
        try old.close()
        let store = try SQLiteCollectorStore(path: path)
        #expect(try await store.settingRows().isEmpty)
        #expect(try await store.setSettings(.station("s1"), [.capacity: "7"], actor: "t", at: .now()) == 1)
        #expect(try await store.stationRegions() == ["s1": RegionPath(parsing: "浙江省")!])
        try await store.close()
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
