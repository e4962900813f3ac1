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
    // MARK: the questions

    struct Question: Sendable {
        var scope: String      // station, district, city, province
        var period: String     // day, month, year
        var bucket: UsageBucket
        var days: Int { period == "day" ? 1 : period == "month" ? 30 : 365 }
        var label: String { "\(scope) × \(period) by \(bucket.rawValue)" }
    }

    var questions: [Question] {
        var out: [Question] = []
        for scope in ["station", "district", "city", "province"] {
            for period in ["day", "month", "year"] {
                for bucket in [UsageBucket.hour, .day] where !(period == "year" && bucket == .hour) {
                    out.append(Question(scope: scope, period: period, bucket: bucket))
                }
            }
        }
        return out
    }

    /// The i-th asking of `q`: which station or region, and which days (the last local day
    /// of the history, or up to a week before it; months and years end with the history).
    func target(_ q: Question, _ i: Int, _ network: Network) -> (station: String?, region: String?, firstDay: Int, lastDay: Int) {
        let last = q.period == "day" ? network.days - 1 - i % min(7, network.days) : network.days - 1
        let first = last - q.days + 1
        switch q.scope {
        case "station": return (network.id(i * 37 % network.stations), nil, first, last)
        case "district": return (nil, network.districts[i % network.districts.count], first, last)
        case "city": return (nil, network.cities[i % network.cities.count], first, last)
        default: return (nil, network.province, first, last)
        }
    }

    struct Timings { var samples: [String: [Double]] = [:]; var rankings: [Double] = []; var buckets: [String: Int] = [:] }

    func askInProcess(_ store: any CollectorStore, _ network: Network) async throws -> Timings {
        let office = UserRecord(name: "bench-office", role: .office, stations: [])
        let visible = try await store.stations()
        let questions = OfficeQuestions(store: store, offset: Self.offset)
        var timings = Timings()
        say("asking in-process (OfficeQuestions → Analytics, comparisons included as the JSON answer has them), \(options.repeats)× each")
        for q in self.questions where options.only.map({ q.label.contains($0) }) ?? true {
            var samples: [Double] = []
            for i in 0..<options.repeats {
                let t = target(q, i, network)
                let period = try UsagePeriod(from: network.dayStart(t.firstDay), to: network.dayStart(t.lastDay + 1), bucket: q.bucket, offset: Self.offset)
                let t0 = ContinuousClock.now
                let report = try await questions.usage(user: office, visible: visible, station: t.station, region: t.region, period: period)
                samples.append(seconds(ContinuousClock.now - t0))
                if i == 0 {
                    timings.buckets[q.label] = report.buckets.count
                    guard report.totals.visits > 0 || t.firstDay < 0 else { throw BenchError("\(q.label): no visits in the answer") }
                }
            }
            timings.samples[q.label] = samples.sorted()
        }
        // `--only rankings` asks them alone; any other `--only` leaves them out.
        guard options.only.map({ Self.rankingsLabel.contains($0) }) ?? true else { return timings }
        let month = try UsagePeriod(from: network.dayStart(network.days - 30), to: network.dayStart(network.days), bucket: .day, offset: Self.offset)
        for _ in 0..<options.repeats {
            let t0 = ContinuousClock.now
            let entries = try await questions.rankings(user: office, visible: visible, region: network.province, measure: .visits, limit: 20, period: month)
            timings.rankings.append(seconds(ContinuousClock.now - t0))
            guard !entries.isEmpty else { throw BenchError("rankings: empty") }
        }
        timings.rankings.sort()
        if options.only != nil { timings.samples[Self.rankingsLabel] = timings.rankings }
        return timings
    }

    static let askedAgain = "asked again"
    /// The rankings' label for `--only`: the province's stations by visits over the last 30 days, top 20.
    static let rankingsLabel = "rankings"

    struct HTTPFigures { var timings = Timings(); var rss: [(at: Double, label: String, mb: Double)] = []; var errors = 0 }

    func askOverHTTP(_ collector: CollectorBench.Collector, _ network: Network) async throws -> HTTPFigures {
        let pid = collector.process.processIdentifier
        let sampling = RSSSampling()
        let t0 = ContinuousClock.now
        let sampler = Task {
            while !sampling.state.withLock({ $0.stop }) {
                let mb = ProcessProbe.residentMegabytes(pid)
                let at = seconds(ContinuousClock.now - t0)
                sampling.state.withLock { s in
                    let label = s.label
                    s.rows.append((at, label, mb))
                }
                try? await Task.sleep(for: .milliseconds(25))
            }
        }
        var figures = HTTPFigures()
        say("asking over HTTP (the release collector, GET /api/v1/usage with a user token, JSON), \(options.repeats)× each; collector RSS sampled every 25 ms")
        func get(_ path: String) async throws -> Double {
            var request = HTTPClientRequest(url: collector.url + path)
            request.headers.add(name: "Authorization", value: "Bearer \(Self.officeToken)")
            let start = ContinuousClock.now
            let response = try await CollectorBench.http.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 64 << 20)
            let elapsed = seconds(ContinuousClock.now - start)
            guard response.status == .ok else { throw BenchError("GET \(path): \(response.status) \(String(buffer: body).prefix(300))") }
            return elapsed
        }
        // Warm-up: the collector's first question opens connections and caches.
        _ = try await get("/api/v1/usage?region=\(encode(network.province))")
        for q in questions {
            sampling.state.withLock { $0.label = q.label }
            var samples: [Double] = []
            for i in 0..<options.repeats {
                let t = target(q, i, network)
                let scope = t.station.map { "station=\($0)" } ?? "region=\(encode(t.region!))"
                samples.append(try await get("/api/v1/usage?\(scope)&from=\(dateText(network.dayStart(t.firstDay)))&to=\(dateText(network.dayStart(t.lastDay)))&bucket=\(q.bucket.rawValue)"))
            }
            figures.timings.samples[q.label] = samples.sorted()
        }
        sampling.state.withLock { $0.label = "rankings" }
        for _ in 0..<options.repeats {
            figures.timings.rankings.append(try await get(
                "/api/v1/rankings?region=\(encode(network.province))&from=\(dateText(network.dayStart(network.days - 30)))&to=\(dateText(network.dayStart(network.days - 1)))&by=visits&limit=20"))
        }
        figures.timings.rankings.sort()
        // Everything asked once more (not timed): what memory the questions took the first
        // time is their working set; asking them again must not add to it.
        sampling.state.withLock { $0.label = Self.askedAgain }
        for q in questions {
            for i in 0..<3 {
                let t = target(q, i, network)
                let scope = t.station.map { "station=\($0)" } ?? "region=\(encode(t.region!))"
                _ = try await get("/api/v1/usage?\(scope)&from=\(dateText(network.dayStart(t.firstDay)))&to=\(dateText(network.dayStart(t.lastDay)))&bucket=\(q.bucket.rawValue)")
            }
        }
        for _ in 0..<5 {
            _ = try await get("/api/v1/rankings?region=\(encode(network.province))&from=\(dateText(network.dayStart(network.days - 30)))&to=\(dateText(network.dayStart(network.days - 1)))&by=visits&limit=20")
        }
        sampling.state.withLock { $0.stop = true }
        await sampler.value
        figures.rss = sampling.state.withLock { $0.rows }
        return figures
    }

    // MARK: the catch-up

    struct CatchUpFigures { var events: Int; var stations: Int; var seconds: Double }

    /// `backlogStations` stations back after a week offline, each with `backlogEvents` events
    /// (visits spread over the week after the history), sent as the uplink sends them: gzip'd
    /// JSON batches of 500, one at a time per station, all stations at once.
    func catchUp(_ collector: CollectorBench.Collector, _ network: Network) async throws -> CatchUpFigures {
        let stations = min(options.backlogStations, network.stations)
        let perStation = options.backlogEvents
        let start = network.historyEnd
        let step = max(1, 7 * 86_400_000 / Int64(perStation))
        say("catch-up: encoding \(stations) × \(perStation) events into gzip'd batches of 500 (before the clock starts)")
        var bodies: [[ByteBuffer]] = []
        for s in 0..<stations {
            var occupancy = 0
            let records: [EventRecord] = (0..<perStation).map { i in
                let inside = i % 2 == 0
                occupancy = inside ? occupancy + 1 : max(0, occupancy - 1)
                let key = network.workers[((s * 60) + (i / 2) % 150) % network.workers.count]
                return EventRecord(RecordedEvent(seq: Int64(network.days) * 1000 + Int64(i) + 1, event: StationEvent(
                    time: start + .milliseconds(Int64(i) * step), kind: inside ? .checkIn : .checkOut, cardKey: CardKey(hex: key), reader: "door",
                    occupancy: occupancy, staySeconds: inside ? nil : step / 1000)), offset: Self.offset)
            }
            bodies.append(try stride(from: 0, to: records.count, by: 500).map { i in
                var raw = ByteBuffer(bytes: try JSONEncoder().encode(EventBatch(stationID: network.id(s), events: Array(records[i..<min(i + 500, records.count)]))))
                return try raw.compress(with: .gzip())
            })
        }
        let url = collector.url
        let t0 = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<stations {
                let batches = bodies[s]
                group.addTask {
                    for body in batches {
                        var request = HTTPClientRequest(url: url + "/api/v1/ingest/events")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer yzs_an_\(s)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.headers.add(name: "Content-Encoding", value: "gzip")
                        request.body = .bytes(body)
                        let response = try await CollectorBench.http.execute(request, timeout: .seconds(120))
                        let answer = try await response.body.collect(upTo: 1 << 20)
                        guard response.status == .ok else { throw BenchError("catch-up batch: \(response.status) \(String(buffer: answer).prefix(300))") }
                    }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = seconds(ContinuousClock.now - t0)
        return CatchUpFigures(events: stations * perStation, stations: stations, seconds: elapsed)
    }
}
