/// A database whose schema a newer Yizhan has migrated. Migrations only go forward: an
/// older binary does not know the newer tables' rules, so it refuses to open the database
/// rather than write to it. The message names both schema versions and the software's.
public struct SchemaNewerThanBinaryError: Error, CustomStringConvertible, Sendable {
    /// The file or the server/database (never a password).
    public var database: String
    /// Migrations applied to the database that this binary does not know, in name order.
    public var unknownMigrations: [String]
    /// This binary's newest migration.
    public var newestKnownMigration: String
    public var binaryVersion: String

    public var description: String {
        "\(database): the database schema is newer than this binary knows: it has migration "
            + "\(unknownMigrations.joined(separator: ", ")) applied; yizhan \(binaryVersion) knows up to "
            + "\(newestKnownMigration). A newer Yizhan wrote it and downgrades are not supported: "
            + "install that version (or a newer one) again"
    }
}

public enum SchemaCompatibility {
    /// Throws `SchemaNewerThanBinaryError` when `applied` holds a migration not in `known`
    /// (`known` in the order the migrations run).
    public static func check(applied: Set<String>, known: [String], database: String) throws {
        let unknown = applied.subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw SchemaNewerThanBinaryError(database: database, unknownMigrations: unknown,
                                             newestKnownMigration: known.last ?? "none",
                                             binaryVersion: YizhanVersion.current)
        }
    }
}
