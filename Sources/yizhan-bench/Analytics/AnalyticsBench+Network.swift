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
    // MARK: the network and its history

    /// Provinces → cities (at most 10 a province) → districts (50 stations) → streets (10
    /// stations) → stations. One province by default (a province's office); 31 for the nation's.
    struct Network: Sendable {
        static let cityNames = ["杭州市", "宁波市", "温州市", "嘉兴市", "湖州市", "绍兴市", "金华市", "衢州市", "舟山市", "台州市"]
        /// The first is the province the province questions ask about.
        static let provinceNames = ["浙江省", "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省", "上海市", "江苏省",
                                    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市",
                                    "四川省", "贵州省", "云南省", "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区"]
        let stations: Int
        let days: Int
        let eventsPerDay: Double
        let provinces: Int
        var province: String { Self.provinceNames[0] }
        /// Every station's region path.
        let regions: [RegionPath]
        let cities: [String]
        let districts: [String]
        let streets: Int
        /// Card keys of the workers (SHA-256 hex): station s sees 150 of them, shared with its neighbours.
        let workers: [String]
        let historyStart: Timestamp
        var historyEnd: Timestamp { historyStart + .seconds(Int64(days) * 86_400) }

        init(stations: Int, days: Int, eventsPerDay: Double, provinces: Int = 1, start: Timestamp? = nil) {
            self.stations = stations; self.days = days; self.eventsPerDay = eventsPerDay
            self.provinces = max(1, min(provinces, Self.provinceNames.count))
            var regions: [RegionPath] = []
            regions.reserveCapacity(stations)
            // Each province its share of the stations, in order; each city its share of the province's.
            for p in 0..<self.provinces {
                let first = p * stations / self.provinces, end = (p + 1) * stations / self.provinces
                let count = end - first
                let cityCount = min(10, max(1, count / 50))
                for s in 0..<count {
                    let city = s * cityCount / count
                    let inCity = s - (city * count + cityCount - 1) / cityCount
                    let cityName = p == 0 ? Self.cityNames[city] : "第\(city + 1)市"
                    regions.append(RegionPath(segments: [Self.provinceNames[p], cityName, "第\(inCity / 50 + 1)区", "第\(inCity / 10 + 1)街道"]))
                }
            }
            self.regions = regions
            cities = Array(Set(regions.map { RegionPath(segments: Array($0.segments.prefix(2))).description })).sorted()
            districts = Array(Set(regions.map { RegionPath(segments: Array($0.segments.prefix(3))).description })).sorted()
            streets = Set(regions.map(\.description)).count
            workers = (0..<max(2000, min(stations * 60, 2_000_000))).map { Tokens.hash("worker-\($0)") }
            // Whole local days, ending a week before today's local midnight (room for the catch-up week).
            let now = Timestamp.now()
            let today = CivilTime(now, offset: AnalyticsBench.offset)
            let midnight = CivilTime(year: today.year, month: today.month, day: today.day).timestamp(offset: AnalyticsBench.offset)
            historyStart = start ?? midnight - .seconds(Int64(days + 8) * 86_400)
        }

        func id(_ s: Int) -> String { "st-\(s)" }

        /// A station's place: a province's stations in a 100-wide grid around Hangzhou; the
        /// nation's over China's extent (the map draws what it is given).
        func coordinates(_ s: Int) -> (latitude: Double, longitude: Double) {
            if provinces == 1 { return (29.0 + Double(s % 100) / 100, 120.0 + Double(s / 100) / 100) }
            let columns = max(1, stations / 200)
            return (22.0 + Double(s % 200) * 0.1, 100.0 + Double(s / 200) * 28.0 / Double(columns))
        }
        func dayStart(_ d: Int) -> Timestamp { historyStart + .seconds(Int64(d) * 86_400) }

        /// One station's day: visits (check-in, check-out with the stay) between 06:00 and
        /// 22:00, a refusal or a bad read now and then, ratings, and a water outage one day in ten.
        func events(station s: Int, day d: Int) -> [IngestedEvent] {
            var rng = SplitMix64(seed: UInt64(s) &* 1_000_003 &+ UInt64(d) &* 7919 &+ 17)
            let start = dayStart(d).millisecondsSinceEpoch
            let minute: Int64 = 60_000
            // Extras below average 2.25 a day; visits are two events each.
            let meanVisits = max(1, (eventsPerDay - 2.25) / 2)
            let spread = Int(meanVisits / 3)
            var visits = Int(meanVisits) + (rng.unit() < meanVisits - Double(Int(meanVisits)) ? 1 : 0)
            visits += spread > 0 ? Int(rng.next() % UInt64(2 * spread + 1)) - spread : 0
            struct Raw { var t: Int64; var kind: String; var key: String?; var stay: Int64?; var detail: String? }
            var raw: [Raw] = []
            let base = (s * 60) % workers.count
            for _ in 0..<max(1, visits) {
                let t = start + 6 * 60 * minute + Int64(rng.next() % (16 * 60)) * minute + Int64(rng.next() % 60_000)
                let stay = Int64(5 + rng.next() % 86) * 60 + Int64(rng.next() % 60)
                let key = workers[(base + Int(rng.next() % 150)) % workers.count]
                raw.append(Raw(t: t, kind: "check_in", key: key))
                raw.append(Raw(t: t + stay * 1000, kind: "check_out", key: key, stay: stay))
            }
            func anyTime() -> Int64 { start + 6 * 60 * minute + Int64(rng.next() % (16 * 60)) * minute }
            if rng.unit() < 0.6 { raw.append(Raw(t: anyTime(), kind: "rejected_full", key: workers[(base + Int(rng.next() % 150)) % workers.count])) }
            if rng.unit() < 0.6 { raw.append(Raw(t: anyTime(), kind: "bad_read", detail: "crc")) }
            if rng.unit() < 0.8 { raw.append(Raw(t: anyTime(), kind: "rating", detail: AmenityEventDetail.rating(score: 3 + Int(rng.next() % 3)).detail)) }
            if rng.unit() < 0.05 { raw.append(Raw(t: anyTime(), kind: "fault_report", detail: AmenityEventDetail.faultReport(amenity: "microwave", note: "no heat").detail)) }
            if rng.unit() < 0.1 {
                let t = anyTime()
                raw.append(Raw(t: t, kind: "amenity", detail: AmenityEventDetail.change(amenity: "water", status: .outOfOrder, by: "li", note: nil).detail))
                raw.append(Raw(t: t + Int64(1 + rng.next() % 4) * 60 * minute, kind: "amenity",
                               detail: AmenityEventDetail.change(amenity: "water", status: .ok, by: "li", note: nil).detail))
            }
            raw.sort { $0.t < $1.t }
            var occupancy = 0
            var out: [IngestedEvent] = []
            out.reserveCapacity(raw.count)
            for (i, r) in raw.prefix(999).enumerated() {
                if r.kind == "check_in" { occupancy += 1 } else if r.kind == "check_out" { occupancy = max(0, occupancy - 1) }
                out.append(IngestedEvent(seq: Int64(d) * 1000 + Int64(i) + 1, time: Timestamp(millisecondsSinceEpoch: r.t), kind: r.kind,
                                         cardKey: r.key, reader: "door", occupancy: occupancy, staySeconds: r.stay, detail: r.detail))
            }
            return out
        }
    }

    func provision(_ store: any CollectorStore, _ network: Network) async throws {
        let records = (0..<network.stations).map { s in
            StationRecord(id: network.id(s), name: "站\(s)", region: network.regions[s], capacity: 30,
                          latitude: network.coordinates(s).latitude, longitude: network.coordinates(s).longitude)
        }
        let hashes = Dictionary(uniqueKeysWithValues: (0..<network.stations).map { (network.id($0), Tokens.hash("yzs_an_\($0)")) })
        _ = try await store.importStations(records, tokenHashes: hashes)
        try await store.addUser(UserRecord(name: "bench-office", role: .office, stations: []), passwordHash: "-", tokenHash: Tokens.hash(Self.officeToken))
    }

    // MARK: load through store.ingest

    struct LoadFigures {
        var events = 0
        var seconds = 0.0
        var firstChunkDays = 0
        var firstChunkEvents = 0
        var firstChunkSeconds = 0.0
        var chunks: [(days: Range<Int>, events: Int, seconds: Double)] = []
    }

    /// Station-day batches in chunks of days (generated before each chunk's clock starts);
    /// `loadConcurrency` loaders, each with its own stations, so a station's batches stay in order.
    func load(_ store: any CollectorStore, _ network: Network) async throws -> LoadFigures {
        let step = max(1, options.daysPerBatch)
        let chunkDays = max(step, min(30, Int(2_000_000 / (Double(network.stations) * network.eventsPerDay))) / step * step)
        let loaders = max(1, min(options.loadConcurrency, network.stations))
        var figures = LoadFigures(firstChunkDays: min(chunkDays, network.days))
        say("loading: \(loaders) concurrent loaders, chunks of \(chunkDays) days (rate per chunk shows whether ingest slows as the database grows)")
        for first in stride(from: 0, to: network.days, by: chunkDays) {
            let days = first..<min(network.days, first + chunkDays)
            let batches = generate(network, days: days, loaders: loaders)
            let count = batches.reduce(0) { $0 + $1.reduce(0) { $0 + $1.events.count } }
            let t0 = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for mine in batches {
                    group.addTask {
                        for b in mine { _ = try await store.ingest(station: b.station, events: b.events) }
                    }
                }
                try await group.waitForAll()
            }
            let s = seconds(ContinuousClock.now - t0)
            figures.chunks.append((days, count, s))
            figures.events += count
            figures.seconds += s
            if first == 0 { figures.firstChunkEvents = count; figures.firstChunkSeconds = s }
            say("  days \(days.lowerBound)–\(days.upperBound - 1): \(count) events in \(String(format: "%.1f", s)) s, \(fmt(Double(count) / s)) events/s; load average \(loadAverage())")
        }
        return figures
    }

    struct Batch: Sendable { var station: String; var events: [IngestedEvent] }

    /// Per loader, its stations' batches, `options.daysPerBatch` days in each (a station's
    /// uploads: one day each by default, several when a national network's stations have few
    /// events a day and the per-batch cost would dominate).
    func generate(_ network: Network, days: Range<Int>, loaders: Int) -> [[Batch]] {
        let step = max(1, options.daysPerBatch)
        return (0..<loaders).map { w in
            var out: [Batch] = []
            for first in stride(from: days.lowerBound, to: days.upperBound, by: step) {
                let batchDays = first..<min(days.upperBound, first + step)
                for s in stride(from: w, to: network.stations, by: loaders) {
                    out.append(Batch(station: network.id(s), events: batchDays.flatMap { network.events(station: s, day: $0) }))
                }
            }
            return out
        }
    }
}
