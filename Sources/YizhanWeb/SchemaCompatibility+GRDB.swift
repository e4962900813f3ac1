import GRDB
import YizhanCore

extension SchemaCompatibility {
    /// The check for a GRDB migrator, to run before it migrates: GRDB by itself leaves
    /// migrations it does not know alone and carries on.
    public static func check(_ migrator: DatabaseMigrator, _ reader: some DatabaseReader, database: String) throws {
        let applied = try reader.read { db in try migrator.appliedIdentifiers(db) }
        try check(applied: applied, known: migrator.migrations, database: database)
    }
}
