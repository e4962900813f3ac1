import Foundation
import GRDB
import Testing
import YizhanCore
@testable import YizhanStation

/// Migrations only go forward: an event log a newer station migrated is refused by an
/// older binary, with a message that names both schema versions, and is left untouched.
@Suite struct SchemaForwardOnlyTests {
    let dir = TemporaryDirectory()

    @Test func anOlderBinaryRefusesAnEventLogANewerOneMigrated() throws {
        let path = dir.file("station.db")
        do {
            let store = try EventStore(path: path, stationID: "a")
            try store.append([StationEvent(time: Timestamp(millisecondsSinceEpoch: 1_795_408_805_000), kind: .checkIn,
                                           cardKey: CardKey(hex: "aa"), cardHint: "**aa", reader: "door", occupancy: 1)])
        }
        // What a newer station would have left: one more applied migration.
        let newer = "v99: from a newer station"
        try DatabaseQueue(path: path).write { db in
            try db.execute(sql: "INSERT INTO grdb_migrations(identifier) VALUES (?)", arguments: [newer])
        }

        let error = try #require(throws: SchemaNewerThanBinaryError.self) { try EventStore(path: path, stationID: "a") }
        let newestKnown = try #require(EventStore.migrator.migrations.last)
        #expect(error.unknownMigrations == [newer])
        #expect(error.newestKnownMigration == newestKnown)
        #expect(error.description.contains(path))
        #expect(error.description.contains(newer))
        #expect(error.description.contains("knows up to \(newestKnown)"))
        #expect(error.description.contains("yizhan \(YizhanVersion.current)"))

        // Nothing was written: the event is still there and the newer migration too.
        let (events, migrations) = try DatabaseQueue(path: path).read { db in
            (try Int.fetchOne(db, sql: "SELECT count(*) FROM events") ?? -1,
             try String.fetchSet(db, sql: "SELECT identifier FROM grdb_migrations"))
        }
        #expect(events == 1)
        #expect(migrations == Set(EventStore.migrator.migrations + [newer]))
    }

    @Test func aDatabaseThisBinaryMigratedOpensAgain() throws {
        let path = dir.file("station.db")
        _ = try EventStore(path: path, stationID: "a")
        _ = try EventStore(path: path, stationID: "a")
    }
}
