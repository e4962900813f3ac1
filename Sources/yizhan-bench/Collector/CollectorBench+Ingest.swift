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
    // MARK: ingest against a bare bulk insert

    struct IngestFigures { var ingest: Double; var bare: Double; var events: Int; var stations: Int }

    /// `stations` stations each send their share of `events` in gzip'd batches of 500, all at
    /// once; then the same rows go into the same database by a bare insert of 500-row batches.
    func ingest(kind: String, stations: Int = 20, events: Int = 200_000) async throws -> IngestFigures {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = try await freshStorage(kind, dir: dir)
        var tokens: [String] = []
        try await withStore(storage) { store in
            for i in 0..<stations {
                let token = "yzs_bench_ingest_\(i)"
                try await store.addStation(StationRecord(id: "st-\(i)", name: "st-\(i)", capacity: 12), tokenHash: Tokens.hash(token))
                try await store.addStation(StationRecord(id: "bare-\(i)", name: "bare-\(i)", capacity: 12), tokenHash: Tokens.hash(token + "-bare"))
                tokens.append(token)
            }
        }
        // The batches, encoded and compressed before the clock starts, as the stations keep them.
        let perStation = events / stations
        let start = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)) - .seconds(86_400)
        func rows(_ station: Int) -> [EventRecord] {
            (1...perStation).map { i in
                let seq = Int64(i)
                let inside = i % 2 == 1
                return EventRecord(RecordedEvent(seq: seq, event: StationEvent(
                    time: start + .milliseconds(seq * 250), kind: inside ? .checkIn : .checkOut,
                    cardKey: CardKey(hex: Tokens.hash("card-\(station)-\(i % 97)")), reader: "door", occupancy: inside ? 1 : 0,
                    staySeconds: inside ? nil : 250)), offset: .china)
            }
        }
        var bodies: [[ByteBuffer]] = []
        var records: [[EventRecord]] = []
        for s in 0..<stations {
            let r = rows(s)
            records.append(r)
            bodies.append(try stride(from: 0, to: r.count, by: 500).map { i in
                var raw = ByteBuffer(bytes: try JSONEncoder().encode(EventBatch(stationID: "st-\(s)", events: Array(r[i..<min(i + 500, r.count)]))))
                return try raw.compress(with: .gzip())
            })
        }
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        let t0 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<stations {
                let (url, token, batches) = (collector.url, tokens[s], bodies[s])
                group.addTask {
                    for body in batches {
                        var request = HTTPClientRequest(url: url + "/api/v1/ingest/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.body = .bytes(body)
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { throw BenchError("ingest answered \(response.status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let ingestSeconds = seconds(ContinuousClock.now - t0)
        collector.stop()

        // The bare insert: the same rows, the same table, no HTTP, JSON, gzip or validation.
        let t1 = ContinuousClock.now
        if storage.hasPrefix("sqlite://") {
            var config = Configuration()
            config.busyMode = .timeout(10)
            let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)), configuration: config)
            try await pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            for s in 0..<stations {
                let mine = records[s]
                for i in stride(from: 0, to: mine.count, by: 500) {
                    try await pool.write { db in
                        let insert = try db.cachedStatement(sql: """
                            INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                            """)
                        for r in mine[i..<min(i + 500, mine.count)] {
                            try insert.execute(arguments: ["bare-\(s)", r.seq, start.millisecondsSinceEpoch + r.seq * 250, r.kind, r.cardKey,
                                                           r.reader, r.occupancy, r.staySeconds, r.detail])
                        }
                    }
                }
            }
            try pool.close()
        } else {
            let recordsCopy = records
            try await postgres(storage) { client in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for s in 0..<stations {
                        let mine = recordsCopy[s]
                        group.addTask {
                            for i in stride(from: 0, to: mine.count, by: 500) {
                                let b = mine[i..<min(i + 500, mine.count)]
                                let seqs = b.map(\.seq), times = b.map { start.millisecondsSinceEpoch + $0.seq * 250 }, kinds = b.map(\.kind)
                                let keys = b.map { $0.cardKey ?? "" }, readers = b.map { $0.reader ?? "" }
                                let occ = b.map { Int64($0.occupancy) }, stays = b.map { $0.staySeconds ?? -1 }
                                try await client.query("""
                                    INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds)
                                    SELECT \("bare-\(s)"), s, t, k, NULLIF(c, ''), NULLIF(r, ''), o, NULLIF(y, -1)
                                    FROM unnest(\(seqs)::bigint[], \(times)::bigint[], \(kinds)::text[], \(keys)::text[], \(readers)::text[],
                                                \(occ)::bigint[], \(stays)::bigint[]) AS b(s, t, k, c, r, o, y)
                                    """)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
        let bareSeconds = seconds(ContinuousClock.now - t1)
        let (stored, bare) = try await withStore(storage) { check in
            (try await check.eventCount(station: "st-0"), try await check.eventCount(station: "bare-0"))
        }
        guard stored == perStation, bare == perStation else { throw BenchError("stored \(stored) and \(bare), expected \(perStation)") }
        let total = perStation * stations
        return IngestFigures(ingest: Double(total) / ingestSeconds, bare: Double(total) / bareSeconds, events: total, stations: stations)
    }
}
