import GRDB
import PostgresNIO

/// A number that changes whenever a station is added, removed or has its name, region,
/// district, address, capacity or position changed — by this process, the CLI or another
/// collector — and never for heartbeats or events. Lets a collector keep the station list
/// in memory and read it again only when it changed (`StationRoster`).
///
/// Kept by triggers on `stations`, so every way of writing a station counts, including ones
/// written later.
public protocol StationRosterStore: Sendable {
    func stationRosterRevision() async throws -> Int64
}

enum StationRosterSchema {
    static let columns = "name, district, region, address, capacity, latitude, longitude"

    /// SQLite: triggers are per row (an import of 10,000 stations bumps it 10,000 times, in
    /// one transaction).
    static let sqlite = """
        CREATE TABLE station_roster (id INTEGER PRIMARY KEY CHECK (id = 1), revision INTEGER NOT NULL);
        INSERT INTO station_roster VALUES (1, 0);
        CREATE TRIGGER station_roster_insert AFTER INSERT ON stations BEGIN UPDATE station_roster SET revision = revision + 1; END;
        CREATE TRIGGER station_roster_delete AFTER DELETE ON stations BEGIN UPDATE station_roster SET revision = revision + 1; END;
        CREATE TRIGGER station_roster_update AFTER UPDATE OF \(columns) ON stations
            BEGIN UPDATE station_roster SET revision = revision + 1; END;
        """

    /// PostgreSQL: once per statement.
    static let postgres = [
        "CREATE TABLE station_roster (id INTEGER PRIMARY KEY CHECK (id = 1), revision BIGINT NOT NULL)",
        "INSERT INTO station_roster VALUES (1, 0)",
        """
        CREATE FUNCTION station_roster_bump() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN UPDATE station_roster SET revision = revision + 1; RETURN NULL; END $$
        """,
        """
        CREATE TRIGGER station_roster_change AFTER INSERT OR DELETE OR UPDATE OF \(columns) ON stations
            FOR EACH STATEMENT EXECUTE FUNCTION station_roster_bump()
        """,
    ]
}

extension SQLiteCollectorStore {
    public func stationRosterRevision() async throws -> Int64 {
        try await pool.read { db in try Int64.fetchOne(db, sql: "SELECT revision FROM station_roster WHERE id = 1") ?? 0 }
    }
}

extension PostgresCollectorStore {
    public func stationRosterRevision() async throws -> Int64 {
        for try await revision in try await client.query("SELECT revision FROM station_roster WHERE id = 1", logger: logger).decode(Int64.self) {
            return revision
        }
        return 0
    }
}
