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
    // MARK: the national network: heartbeats from many stations

    struct LoadStep { var stations: Int; var target: Double; var achieved: Double; var p50: Double; var p99: Double; var errors: Int
        var holds: Bool { errors == 0 && achieved >= target * 0.97 && p99 < 0.050 } }

    /// Every station heartbeats once a minute; 300 events a second arrive besides, one per
    /// request as a quiet station sends them. Open loop: requests leave on schedule whatever
    /// the answers do, and latency counts from the scheduled moment.
    func heartbeats(counts: [Int], seconds runSeconds: Double = 15) async throws -> [LoadStep] {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let storage = "sqlite://\(dir)/collector.db"
        let most = counts.max()!
        // Provisioning 1M stations one by one takes a while; the bench writes them in one go.
        let store = try SQLiteCollectorStore(path: String(storage.dropFirst("sqlite://".count)))
        try await store.close()
        let pool = try DatabasePool(path: String(storage.dropFirst("sqlite://".count)))
        try await pool.write { db in
            let insert = try db.makeStatement(sql: "INSERT INTO stations(id, name, district, capacity, token_hash) VALUES (?, ?, ?, 12, ?)")
            for i in 0..<most { try insert.execute(arguments: ["st-\(i)", "站\(i)", "district-\(i / 50)", Tokens.hash("yzs_hb_\(i)")]) }
        }
        try pool.close()
        let collector = try await Collector(binDir: binDir, dir: dir, storage: storage)
        defer { collector.stop() }
        var steps: [LoadStep] = []
        var eventSeq = Array(repeating: Int64(0), count: 300)
        for count in counts.sorted() {
            let step = try await loadStep(collector: collector, stations: count, runSeconds: runSeconds, eventSeq: &eventSeq)
            steps.append(step)
            print("  \(count) stations: \(fmt(step.achieved))/\(fmt(step.target)) req/s, p50 \(ms(step.p50)), p99 \(ms(step.p99)), errors \(step.errors)")
            if !step.holds { break }
        }
        return steps
    }

    private func loadStep(collector: Collector, stations: Int, runSeconds: Double, eventSeq: inout [Int64]) async throws -> LoadStep {
        let heartbeatRate = Double(stations) / 60, eventRate = 300.0
        let rate = heartbeatRate + eventRate
        let total = Int(rate * runSeconds)
        let url = collector.url
        let recorder = LoadRecorder()
        let clock = ContinuousClock()
        let t0 = clock.now + .milliseconds(100)
        // Event requests go to stations 0..<300 with their own rising seq; the rest are heartbeats.
        var plan: [(Int, Bool, Int64)] = []
        plan.reserveCapacity(total)
        var hb = 0
        let eventEvery = rate / eventRate
        for i in 0..<total {
            if Int(Double(i + 1) / eventEvery) > Int(Double(i) / eventEvery) {
                let s = i % 300
                eventSeq[s] += 1
                plan.append((s, true, eventSeq[s]))
            } else {
                plan.append((300 + hb % (stations - 300), false, 0))
                hb += 1
            }
        }
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        let time = RFC3339.format(now, offset: .china)
        let interval = 1.0 / rate
        await withTaskGroup(of: Void.self) { group in
            for (i, (station, isEvent, seq)) in plan.enumerated() {
                let due = t0 + .seconds(Double(i) * interval)
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                let late = seconds(clock.now - due)
                group.addTask {
                    recorder.lateness.withLock { $0.append(late) }
                    var request = HTTPClientRequest(url: url + (isEvent ? "/api/v1/ingest/events" : "/api/v1/ingest/heartbeat"))
                    request.method = .POST
                    request.headers.add(name: "Authorization", value: "Bearer yzs_hb_\(station)")
                    request.headers.add(name: "Content-Type", value: "application/json")
                    let body = isEvent
                        ? #"{"station_id":"st-\#(station)","events":[{"seq":\#(seq),"time":"\#(time)","kind":"check_in","card_key":"\#(String(repeating: "ab", count: 32))","reader":"door","occupancy":1,"stay_seconds":null,"detail":null,"card_hint":null}]}"#
                        : #"{"station_id":"st-\#(station)","time":"\#(time)","occupancy":3,"capacity":12,"open":true,"readers":[{"name":"door","state":"up"}],"amenities":{"microwave":"ok","water":"ok"},"backlog":0,"last_ack":0,"last_seq":0,"version":"bench"}"#
                    request.body = .bytes(ByteBuffer(string: body))
                    do {
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(10))
                        _ = try await response.body.collect(upTo: 1 << 16)
                        if response.status.code >= 300 { recorder.errors.add(1, ordering: .relaxed) }
                    } catch {
                        recorder.errors.add(1, ordering: .relaxed)
                    }
                    let latency = seconds(clock.now - due)
                    recorder.latencies.withLock { $0.append(latency) }
                    if !isEvent { recorder.heartbeatLatencies.withLock { $0.append(latency) } }
                }
            }
        }
        let elapsed = seconds(clock.now - t0)
        let sorted = recorder.latencies.withLock { $0.sorted() }
        let beats = recorder.heartbeatLatencies.withLock { $0.sorted() }, late = recorder.lateness.withLock { $0.sorted() }
        print("    heartbeats p50 \(ms(percentile(beats, 0.5))) p99 \(ms(percentile(beats, 0.99))); generator lateness p50 \(ms(percentile(late, 0.5))) p99 \(ms(percentile(late, 0.99)))")
        return LoadStep(stations: stations, target: rate, achieved: Double(total) / elapsed, p50: percentile(sorted, 0.5),
                        p99: percentile(sorted, 0.99), errors: recorder.errors.load(ordering: .relaxed))
    }
}
