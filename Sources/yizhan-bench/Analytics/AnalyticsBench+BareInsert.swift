import ArgumentParser
import AsyncHTTPClient
import CompressNIO
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

extension AnalyticsBench {
    // MARK: the bare insert

    struct BareFigures { var events: Int; var seconds: Double }

    /// The first chunk's rows again, into a plain table with the events' columns, key and time
    /// index (no rollups, no live occupancy, no partitions): one multi-row INSERT in one
    /// transaction per batch, from the same number of concurrent loaders.
    func bareInsert(_ storage: String, _ network: Network, days: Int) async throws -> BareFigures {
        let loaders = max(1, min(options.loadConcurrency, network.stations))
        let batches = generate(network, days: 0..<days, loaders: loaders)
        let count = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.events.count } }
        let t0: ContinuousClock.Instant
        if storage.hasPrefix("sqlite://") {
            var config = Configuration()
            config.busyMode = .timeout(30)
            let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)), configuration: config)
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
                try db.execute(sql: """
                    CREATE TABLE bench_bare_events (
                        station_id TEXT NOT NULL, seq INTEGER NOT NULL, time_ms INTEGER NOT NULL, kind TEXT NOT NULL, card_key TEXT,
                        reader TEXT, occupancy INTEGER NOT NULL, stay_seconds INTEGER, detail TEXT, PRIMARY KEY (station_id, seq)
                    ) WITHOUT ROWID;
                    CREATE INDEX bench_bare_events_time ON bench_bare_events(station_id, time_ms);
                    """)
            }
            t0 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine {
                            try await pool.write { db in
                                let values = Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?)", count: b.events.count).joined(separator: ", ")
                                var args: [(any DatabaseValueConvertible)?] = []
                                for e in b.events {
                                    args += [b.station, e.seq, e.time.millisecondsSinceEpoch, e.kind, e.cardKey, e.reader, e.occupancy, e.staySeconds, e.detail]
                                }
                                try db.execute(sql: "INSERT INTO bench_bare_events VALUES \(values)", arguments: StatementArguments(args))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = seconds(ContinuousClock.now - t0)
            try await pool.writeWithoutTransaction { try $0.execute(sql: "DROP TABLE bench_bare_events") }
            try pool.close()
            return BareFigures(events: count, seconds: elapsed)
        }
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: storage), backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: BareFigures?.self) { outer in
            outer.addTask { await client.run(); return nil }
            try await client.query("""
                CREATE TABLE bench_bare_events (
                    station_id TEXT NOT NULL, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL, kind TEXT NOT NULL, card_key TEXT, reader TEXT,
                    occupancy INTEGER NOT NULL, stay_seconds BIGINT, detail TEXT, PRIMARY KEY (station_id, seq))
                """)
            try await client.query("CREATE INDEX bench_bare_events_time ON bench_bare_events(station_id, time_ms)")
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine {
                            let e = b.events
                            let seqs = e.map(\.seq), times = e.map(\.time.millisecondsSinceEpoch), kinds = e.map(\.kind)
                            let keys = e.map { $0.cardKey ?? "" }, readers = e.map { $0.reader ?? "" }, details = e.map { $0.detail ?? "" }
                            let occ = e.map { Int64($0.occupancy) }, stays = e.map { $0.staySeconds ?? -1 }
                            try await client.query("""
                                INSERT INTO bench_bare_events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
                                SELECT \(b.station), s, t, k, NULLIF(c, ''), NULLIF(r, ''), o, NULLIF(y, -1), NULLIF(d, '')
                                FROM unnest(\(seqs)::bigint[], \(times)::bigint[], \(kinds)::text[], \(keys)::text[], \(readers)::text[],
                                            \(occ)::bigint[], \(stays)::bigint[], \(details)::text[]) AS b(s, t, k, c, r, o, y, d)
                                """)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let elapsed = seconds(ContinuousClock.now - start)
            try await client.query("DROP TABLE bench_bare_events")
            outer.cancelAll()
            return BareFigures(events: count, seconds: elapsed)
        }
    }
}
