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
import YizhanStation
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

extension CollectorBench {
    // MARK: catch-up after a week offline

    struct CatchUp { var events: Int; var seconds: Double; var stationStartSeconds: Double }

    /// A station whose log holds `events` unacknowledged events starts with a local
    /// collector: the time until the collector has acknowledged the last one.
    func catchUp(events: Int = 1_000_000, stationBinDir: String) async throws -> CatchUp {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = "sqlite://\(dir)/collector.db"
        let store = try SQLiteCollectorStore(path: dir + "/collector.db")
        try await store.addStation(StationRecord(id: "catchup", name: "catch-up", capacity: 12), tokenHash: Tokens.hash("yzs_catchup"))
        try await store.close()
        FileManager.default.createFile(atPath: dir + "/station.token", contents: Data("yzs_catchup\n".utf8))
        FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
        // The station's own store, then a week of visits written straight into it.
        try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
        do { _ = try EventStore(path: dir + "/data/station.db", stationID: "catchup") }
        let pool = try DatabasePool(path: dir + "/data/station.db")
        let start = Int64(Date().timeIntervalSince1970 * 1000) - 6 * 86_400_000
        let step = max(1, 6 * 86_400_000 / Int64(events))
        try await pool.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO events(time_ms, kind, card_key, card_hint, reader, occupancy, stay_seconds) VALUES (?, ?, ?, ?, 'door', ?, ?)
                """)
            for i in 0..<events {
                let inside = i % 2 == 0
                try insert.execute(arguments: [start + Int64(i) * step, inside ? "check_in" : "check_out", Tokens.hash("card-\(i / 2 % 5000)"),
                                               "3301**********123X", inside ? 1 : 0, inside ? nil : step / 1000])
            }
        }
        try pool.close()
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        defer { collector.stop() }
        FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data("""
            [station]
            id = "catchup"
            capacity = 12
            data_dir = "\(dir)/data"
            [http]
            listen = "127.0.0.1:0"
            [privacy]
            region_key_file = "\(dir)/region.key"
            [uplink]
            collector = "\(collector.url)"
            token_file = "\(dir)/station.token"
            \(ProcessInfo.processInfo.environment["BENCH_UPLINK_EXTRA"] ?? "")
            [log]
            level = "warning"
            """.utf8))
        let t0 = ContinuousClock.now
        let station = try ManagedProcess(executable: stationBinDir + "/yizhan-station", arguments: ["--config", dir + "/station.toml"],
                                         logPath: dir + "/station.log")
        defer { station.terminate() }
        let reader = try DatabaseQueue(path: dir + "/collector.db")
        while true {
            let acked = try await reader.read { try Int64.fetchOne($0, sql: "SELECT last_ack FROM stations WHERE id = 'catchup'") } ?? 0
            if acked >= Int64(events) { break }
            guard station.isRunning else { throw BenchError("the station exited (\(station.process.terminationStatus))") }
            guard ContinuousClock.now - t0 < .seconds(600) else { throw BenchError("no catch-up in 10 minutes (at \(acked))") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let total = seconds(ContinuousClock.now - t0)
        let stored = try await reader.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM events WHERE station_id = 'catchup'") } ?? 0
        // The station adds its own station_started event to the backlog.
        guard stored >= events else { throw BenchError("the collector has \(stored) events, expected \(events)") }
        return CatchUp(events: events, seconds: total, stationStartSeconds: 0)
    }
}
