import Foundation
import GRDB
import YizhanCore

/// What reconciliation needs of the log: per-day counts for the heartbeat, and a range to
/// send again when the collector lacks it.
extension EventStore {
    /// The last `days` local days (today included), counted up to the acknowledged event:
    /// the collector is asked about nothing it was not told it has. A quarantined event (the
    /// collector refused it) is not counted. The count covers every event with a seq in the
    /// day's first...last, so a clock that jumped back cannot make the two sides disagree.
    public func dayCounts(now: Timestamp, offset: UTCOffset, days: Int = 7) throws -> [DayCount] {
        var today = CivilTime(now, offset: offset)
        today.hour = 0; today.minute = 0; today.second = 0; today.millisecond = 0
        let start = today.timestamp(offset: offset) - .seconds(Int64(days - 1) * 86_400)
        let offsetMs = Int64(offset.seconds) * 1000
        return try pool.read { db in
            let acked = try Int64.fetchOne(db, sql: "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'uplink_acknowledged'") ?? 0
            let ranges = try Row.fetchAll(db, sql: """
                SELECT (time_ms + ?) / 86400000 AS d, min(seq), max(seq) FROM events
                WHERE time_ms >= ? AND seq <= ? GROUP BY d ORDER BY d
                """, arguments: [offsetMs, start.millisecondsSinceEpoch, acked])
            return try ranges.map { row in
                let dayNumber: Int64 = row[0], first: Int64 = row[1], last: Int64 = row[2]
                let count = try Int64.fetchOne(db, sql: """
                    SELECT count(*) FROM events WHERE seq BETWEEN ? AND ? AND seq NOT IN (SELECT seq FROM quarantined_events)
                    """, arguments: [first, last]) ?? 0
                let c = CivilTime(Timestamp(millisecondsSinceEpoch: dayNumber * 86_400_000), offset: .utc)
                func pad(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
                return DayCount(day: "\(c.year)-\(pad(c.month))-\(pad(c.day))", firstSeq: first, lastSeq: last, count: count)
            }
        }
    }

    /// The events of `range` still in the log and not quarantined, oldest first.
    public func events(resending range: ClosedRange<Int64>) throws -> [RecordedEvent] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM events WHERE seq BETWEEN ? AND ? AND seq NOT IN (SELECT seq FROM quarantined_events) ORDER BY seq
                """, arguments: [range.lowerBound, range.upperBound]).map(Self.decode)
        }
    }
}
