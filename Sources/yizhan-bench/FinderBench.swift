import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import YizhanCollector
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

/// `--suite finder`: the public finder under load. A collector (release binary, SQLite)
/// with `--finder-stations` stations around 300 cities, online and open; for
/// `--load-seconds`, open loop: nearby questions at `--finder-rate` minus the feed's share,
/// conditional GETs of the GeoJSON feed from 4 map clients (each polls every 40 ms with its
/// last ETag, one request outstanding at a time, as a real client does), heartbeats at
/// `--finder-heartbeats`/s and 100 event batches/s. Latency counts from the scheduled moment
/// (nearby) or the send (feed); the generator's own CPU is reported beside the collector's.
struct FinderBench {
    let bench: YizhanBench

    struct Figures {
        var nearby: [Double] = [], feed: [Double] = []
        /// Per second of the run, how many nearby questions took over 20 ms: when the tail happens.
        var slowBySecond: [Int: Int] = [:]
        /// When (seconds into the run) each full feed was sent.
        var fullFeedsAt: [Double] = []
        var nearbyErrors = 0, feedErrors = 0, notModified = 0, fullFeeds = 0, feedBytes = 0
        var heartbeatErrors = 0
        var errorKinds: [String: Int] = [:]
        var seconds = 0.0
        var collectorCPU = 0.0, generatorCPU = 0.0
    }

    final class FigureBox: Sendable { let figures = Mutex(Figures()) }

    func run() async throws {
        let count = bench.finderStations, rate = bench.finderRate, hbRate = bench.finderHeartbeats, runSeconds = bench.loadSeconds
        let dir = try bench.scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/collector.db"
        let cities = try await provision(path: path, count: count)
        let collector = try await CollectorBench.Collector(binDir: bench.binDir, dir: dir, storage: "sqlite://" + path, extraConfiguration: """
            [ingest]
            offline_after_seconds = 86400
            [public]
            requests_per_second = 1000000
            burst = 1000000
            """)
        defer { collector.stop() }
        let url = collector.url
        // The first feed builds the index and the feed; its cost is reported on its own.
        let warm = ContinuousClock.now
        let first = try await CollectorBench.http.execute(HTTPClientRequest(url: url + "/open/v1/stations.geojson"), timeout: .seconds(120))
        let firstBytes = try await first.body.collect(upTo: 1 << 30).readableBytes
        print("  first feed: \(firstBytes / 1_048_576) MB in \(ms(seconds(ContinuousClock.now - warm))) (index load and encoding)")

        let recorder = FigureBox()
        // The collector's start-up passes (the first alert pass, the first full reads of every
        // station) run while heartbeats and events alone come in; then the measured load.
        if bench.finderWarmup > 0 {
            let warmStart = ContinuousClock.now
            await ingest(from: warmStart, until: warmStart + .seconds(bench.finderWarmup), count: count, url: url, recorder: FigureBox())
            print("  warm-up: \(fmt(bench.finderWarmup)) s of heartbeats and events alone")
        }
        let pid = collector.process.processIdentifier
        let cpu0 = (collector: Self.cpuSeconds(pid: pid), generator: Self.ownCPUSeconds())
        let clock = ContinuousClock(), t0 = clock.now + .milliseconds(200)
        let end = t0 + .seconds(runSeconds)
        let feedClients = 4, feedPeriod = Duration.milliseconds(40)
        let nearbyRate = max(1, rate - Double(feedClients) * 25)
        await withTaskGroup(of: Void.self) { group in
            for c in 0..<feedClients {
                group.addTask {
                    var etag: String? = nil
                    var next = t0 + feedPeriod * c / feedClients
                    while next < end {
                        try? await Task.sleep(until: next, clock: clock)
                        next += feedPeriod
                        var request = HTTPClientRequest(url: url + "/open/v1/stations.geojson")
                        if let etag { request.headers.add(name: "If-None-Match", value: etag) }
                        // As map providers' fetchers do; the bytes counted are those sent.
                        request.headers.add(name: "Accept-Encoding", value: "gzip")
                        let sent = clock.now
                        do {
                            let r = try await CollectorBench.http.execute(request, timeout: .seconds(60))
                            let bytes = try await r.body.collect(upTo: 1 << 30).readableBytes
                            let took = seconds(clock.now - sent)
                            etag = r.headers.first(name: "ETag") ?? etag
                            recorder.figures.withLock { f in
                                f.feed.append(took)
                                if r.status == .notModified { f.notModified += 1 } else if r.status == .ok {
                                    f.fullFeeds += 1; f.feedBytes += bytes; f.fullFeedsAt.append(seconds(sent - t0))
                                } else { f.feedErrors += 1 }
                            }
                        } catch { recorder.figures.withLock { $0.feedErrors += 1 } }
                    }
                }
            }
            // Heartbeats and events: the ingest that goes on meanwhile (errors counted only).
            // Sequence numbers after the warm-up's: new events, not duplicates.
            group.addTask { await ingest(from: t0, until: end, count: count, url: url, recorder: recorder, seqBase: 100_000_000) }
            group.addTask { await Self.openLoop(rate: nearbyRate, from: t0, until: end, clock: clock) { i in
                let due = t0 + .seconds(Double(i) / nearbyRate)
                let c = cities[i % cities.count]
                let lat = c.0 + Double((i * 37) % 200 - 100) / 2000, lon = c.1 + Double((i * 53) % 200 - 100) / 2000
                let amenity = i % 3 == 0 ? "&amenity=microwave" : ""
                let request = HTTPClientRequest(url: url + "/open/v1/nearby?lat=\(lat)&lon=\(lon)&limit=5" + amenity)
                var failure: String?
                do {
                    let r = try await CollectorBench.http.execute(request, timeout: .seconds(30))
                    _ = try await r.body.collect(upTo: 1 << 20)
                    if r.status != .ok { failure = "HTTP \(r.status.code)" }
                } catch { failure = String(describing: error) }
                let took = seconds(clock.now - due)
                recorder.figures.withLock { f in
                    f.nearby.append(took)
                    if took > 0.020 { f.slowBySecond[Int(seconds(due - t0)), default: 0] += 1 }
                    if let failure { f.nearbyErrors += 1; f.errorKinds[String(failure.prefix(80)), default: 0] += 1 }
                }
            } }
        }
        var f = recorder.figures.withLock { $0 }
        f.seconds = seconds(clock.now - t0)
        f.collectorCPU = Self.cpuSeconds(pid: pid) - cpu0.collector
        f.generatorCPU = Self.ownCPUSeconds() - cpu0.generator
        report(f, count: count, rate: rate, hbRate: hbRate)
    }

    /// Heartbeats from stations 100 and up, and event batches from stations 0–99, at
    /// `--finder-heartbeats` + 100 a second (errors counted only).
    func ingest(from start: ContinuousClock.Instant, until end: ContinuousClock.Instant, count: Int, url: String, recorder: FigureBox,
                seqBase: Int = 0) async {
        let hbRate = bench.finderHeartbeats
        await Self.openLoop(rate: hbRate + 100, from: start, until: end, clock: ContinuousClock()) { i in
            let isEvent = i % Int((hbRate + 100) / 100) == 0
            let station = isEvent ? i % 100 : 100 + (i * 7919) % (count - 100)
            var request = HTTPClientRequest(url: url + (isEvent ? "/api/v1/ingest/events" : "/api/v1/ingest/heartbeat"))
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer yzs_fb_\(station)")
            request.headers.add(name: "Content-Type", value: "application/json")
            let time = RFC3339.format(.now(), offset: .china)
            request.body = .bytes(ByteBuffer(string: isEvent
                ? #"{"station_id":"fb-\#(station)","events":[{"seq":\#(seqBase + i + 1),"time":"\#(time)","kind":"check_in","card_key":"\#(String(repeating: "ab", count: 32))","reader":"door","occupancy":1,"stay_seconds":null,"detail":null,"card_hint":null}]}"#
                : #"{"station_id":"fb-\#(station)","time":"\#(time)","occupancy":\#(i % 13),"capacity":12,"open":true,"readers":[],"amenities":{"microwave":"ok","water_dispenser":"ok"},"backlog":0,"last_ack":0,"last_seq":0,"version":"bench"}"#))
            let ok = (try? await CollectorBench.http.execute(request, timeout: .seconds(30)))?.status.code ?? 500
            if ok >= 300 { recorder.figures.withLock { $0.heartbeatErrors += 1 } }
        }
    }

    func report(_ f: Figures, count: Int, rate: Double, hbRate: Double) {
        let nearby = f.nearby.sorted(), feed = f.feed.sorted()
        print("## The public finder: \(count) stations, \(fmt(rate)) requests/s asked, \(fmt(hbRate)) heartbeats/s + 100 event batches/s meanwhile")
        print("| requests | achieved req/s | p50 | p99 | errors | notes |")
        print("| --- | --- | --- | --- | --- | --- |")
        if !nearby.isEmpty {
            print("| nearby | \(fmt(Double(nearby.count) / f.seconds)) | \(ms(percentile(nearby, 0.5))) | \(ms(percentile(nearby, 0.99))) | \(f.nearbyErrors) | open loop, from the scheduled moment |")
        }
        if !feed.isEmpty {
            print("| feed (conditional GET) | \(fmt(Double(feed.count) / f.seconds)) | \(ms(percentile(feed, 0.5))) | \(ms(percentile(feed, 0.99))) | \(f.feedErrors) | \(f.notModified) × 304, \(f.fullFeeds) × 200 (\(f.feedBytes / 1_048_576) MB) |")
        }
        let total = Double(nearby.count + feed.count) / f.seconds
        let p99 = percentile((nearby + feed).sorted(), 0.99)
        if !f.errorKinds.isEmpty { print("nearby errors: " + f.errorKinds.sorted { $0.value > $1.value }.prefix(3).map { "\($0.value) × \($0.key)" }.joined(separator: "; ")) }
        print("all public: \(fmt(total)) req/s, p99 \(ms(p99)); heartbeat/event errors \(f.heartbeatErrors)")
        // Where the tail sits in time, to tell a steady cost from a periodic one.
        let slow = f.slowBySecond.sorted { $0.key < $1.key }.map { "\($0.key) s: \($0.value)" }
        print("nearby over 20 ms, by second of the run: " + (slow.isEmpty ? "none" : slow.joined(separator: ", ")))
        print("full feeds sent at: " + f.fullFeedsAt.sorted().map { String(format: "%.1f s", $0) }.joined(separator: ", "))
        print("CPU over \(String(format: "%.1f", f.seconds)) s: collector \(String(format: "%.1f", f.collectorCPU)) s (\(pct(f.collectorCPU / f.seconds)) of one core), load generator \(String(format: "%.1f", f.generatorCPU)) s (\(pct(f.generatorCPU / f.seconds)) of one core); both on the same \(ProcessInfo.processInfo.processorCount) cores")
        print("goal p99 < 20 ms at 2,000 req/s: \(p99 < 0.020 && total >= 2000 * 0.97 ? "met" : "not met")\n")
    }

    /// `body(i)` for i = 0, 1, … at `rate` a second from `start` until `end`, each in its own task.
    static func openLoop(rate: Double, from start: ContinuousClock.Instant, until end: ContinuousClock.Instant, clock: ContinuousClock,
                         _ body: @escaping @Sendable (Int) async -> Void) async {
        await withTaskGroup(of: Void.self) { group in
            var i = 0
            while true {
                let due = start + .seconds(Double(i) / rate)
                if due >= end { break }
                if clock.now < due { try? await Task.sleep(until: due, clock: clock) }
                let n = i
                group.addTask { await body(n) }
                i += 1
            }
        }
    }

    /// Stations around 300 cities (within about 15 km of each), all online and open with a
    /// microwave; written straight into the database in one transaction.
    func provision(path: String, count: Int) async throws -> [(Double, Double)] {
        // Prepared while empty, as a collector would leave it: else the collector's first
        // start would rebuild the (empty) rollups of every station, minutes at 200,000.
        let store = try SQLiteCollectorStore(path: path)
        try await store.prepare()
        try await store.close()
        var rng = SystemRandomNumberGenerator()
        let cities = (0..<300).map { _ in (Double.random(in: 22...41, using: &rng), Double.random(in: 100...122, using: &rng)) }
        let pool = try DatabasePool(path: path)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        try await pool.write { db in
            let insert = try db.makeStatement(sql: """
                INSERT INTO stations(id, name, capacity, latitude, longitude, token_hash, occupancy, last_seen_ms, live, region, address)
                VALUES (?, ?, 12, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for i in 0..<count {
                let c = cities[i % cities.count]
                let live = #"{"amenities":{"microwave":"\#(i % 4 == 0 ? "out_of_order" : "ok")"},"backlog":0,"capacity":12,"clock_skew_seconds":0,"last_seq":0,"open":true,"opening_hours":["07:00-22:00"],"readers":[],"version":"bench"}"#
                try insert.execute(arguments: ["fb-\(i)", "驿站 \(i)", c.0 + Double.random(in: -0.14...0.14), c.1 + Double.random(in: -0.16...0.16),
                                               Tokens.hash("yzs_fb_\(i)"), i % 13, now, live, "省\(i % 31)/市\(i % 300)", "路 \(i) 号"])
            }
        }
        try pool.close()
        return cities
    }

    /// utime + stime of a process, from /proc/PID/stat (in clock ticks of 1/100 s).
    static func cpuSeconds(pid: Int32) -> Double {
        guard let stat = ProcessProbe.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
