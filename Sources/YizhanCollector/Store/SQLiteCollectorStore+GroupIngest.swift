import Foundation
import GRDB
import YizhanCore

/// Ingest on SQLite: the batches of one group commit are stored in one transaction, in the
/// order they arrived, and their rollup deltas summed per row (`RollupGroup`) before the
/// rollup tables are touched: each row is upserted, and its sketch united, once per group.
extension SQLiteCollectorStore {
    /// Stores each batch's events not stored yet and adds exactly those to the rollups.
    /// Returns, per batch, how many of its events were new.
    static func insertGroup(_ db: Database, _ batches: [(station: String, events: [IngestedEvent])], offset: UTCOffset) throws -> [Int] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(station_id, seq) DO NOTHING
            """)
        let live = try db.cachedStatement(sql: "UPDATE stations SET occupancy = ?, last_ack = ? WHERE id = ? AND last_ack < ?")
        var group = RollupGroup()
        var regions: [String: RegionPath] = [:]
        var counts: [Int] = []
        for (station, events) in batches {
            var new: [UsageEvent] = []
            for e in events {
                try insert.execute(arguments: [station, e.seq, e.time.millisecondsSinceEpoch, e.kind, e.cardKey, e.reader,
                                               e.occupancy, e.staySeconds, e.detail])
                if db.changesCount > 0 { new.append(UsageEvent(station: station, ingested: e)) }
            }
            if !new.isEmpty {
                let region = try regions[station]
                    ?? RegionPath(parsing: try String.fetchOne(db, sql: "SELECT region FROM stations WHERE id = ?", arguments: [station]) ?? "")
                    ?? .nation
                regions[station] = region
                let open = try group.startingOutages(station: station, newEvents: new) ?? openOutages(db, station: station)
                group.add(station: station, newEvents: new, openOutages: open, region: region, offset: offset)
            }
            if let last = events.max(by: { $0.seq < $1.seq }) {
                // Each event carries the occupancy after it: the newest one (the highest sequence
                // number) is the live state between heartbeats, and `last_ack` the highest number
                // stored. An older batch (a backlog drained late) changes nothing.
                try live.execute(arguments: [last.occupancy, last.seq, station, last.seq])
            }
            counts.append(new.count)
        }
        try writeRollups(db, group)
        return counts
    }

    /// Adds a group's deltas to the rollup tables (inside the ingest transaction).
    static func writeRollups(_ db: Database, _ group: RollupGroup) throws {
        guard !group.isEmpty else { return }
        let hours = group.sortedStationHours, days = group.sortedStationDays
        // The stations' peaks before: their regions' peaks grow by what theirs grow by.
        let regions = group.regionRows(oldHourPeaks: try storedPeaks(db, .stationHours, hours),
                                       oldDayPeaks: try storedPeaks(db, .stationDays, days))
        try upsert(db, .stationHours, rows: hours)
        try upsert(db, .stationDays, rows: days)
        try upsert(db, .stationWeeks, rows: group.sortedStationWeeks)
        try upsert(db, .stationMonths, rows: group.sortedStationMonths)
        try upsert(db, .regionHours, rows: regions.hours)
        try upsert(db, .regionDays, rows: regions.days)
        for (station, outages) in group.outages.sorted(by: { $0.key < $1.key }) { try replaceOutages(db, station: station, outages) }
    }

    static func storedPeaks(_ db: Database, _ table: RollupTable, _ rows: [(RollupGroup.Key, RollupPlan.Row)]) throws -> [RollupGroup.Key: Int64] {
        let select = try db.cachedStatement(sql: "SELECT peak_occupancy FROM \(table.rawValue) WHERE station_id = ? AND start_ms = ?")
        var out: [RollupGroup.Key: Int64] = [:]
        for (k, _) in rows {
            if let peak = try Int64.fetchOne(select, arguments: [k.key, k.start]) { out[k] = peak }
        }
        return out
    }
}
