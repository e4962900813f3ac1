import Testing
import YizhanTestSupport
@testable import YizhanCore

/// Rollups from events, and reports from rollups (the stores' part is in the collector's
/// contract suite).
@Suite struct RollupTests {
    // 2026-11-23 00:00 in China (UTC+8).
    let day = RFC3339.parse("2026-11-23T00:00:00+08:00", defaultOffset: .utc)!
    func at(_ hour: Int, _ minute: Int = 0) -> Timestamp { day + .seconds(hour * 3600 + minute * 60) }
    func key(_ c: Character) -> String { String(repeating: c, count: 64) }
    func ev(_ station: String, _ seq: Int64, _ t: Timestamp, _ kind: String, card: Character? = nil, occ: Int,
            stay: Int64? = nil, detail: String? = nil) -> UsageEvent {
        UsageEvent(station: station, seq: seq, time: t, kind: kind, cardKey: card.map(key), occupancy: occ, staySeconds: stay, detail: detail)
    }
    /// The report of several stations' events, each folded on its own, as the stores do.
    func report(_ period: UsagePeriod, _ byStation: [String: [UsageEvent]], open: [String: OpenOutages] = [:], now: Timestamp) -> UsageReport {
        var rows: [Int64: RollupRow<HyperLogLog>] = [:]
        var ongoing: [OngoingOutage] = []
        for (station, events) in byStation {
            let (hours, outages) = RollupBuilder.deltas(events: events.shuffled(), openOutages: open[station] ?? [:])
            var own: [Int64: RollupRow<HyperLogLog>] = [:]
            for (h, d) in hours {
                let start = period.bucket == .hour ? h : RollupBuilder.day(ofHour: h, offset: .china)
                var r = own[start] ?? RollupRow(start: start, figures: RollupFigures(), workers: HyperLogLog())
                r.figures.add(d.figures, peak: .highest); r.workers.merge(HyperLogLog.of(cardKeys: d.cardKeys))
                own[start] = r
            }
            for (start, r) in own {
                var sum = rows[start] ?? RollupRow(start: start, figures: RollupFigures(), workers: HyperLogLog())
                sum.figures.add(r.figures, peak: .sum); sum.workers.merge(r.workers)
                rows[start] = sum
            }
            ongoing += outages.map { OngoingOutage(station: station, amenity: $0.key, since: $0.value) }
        }
        return UsageReportBuilder.report(period, rows: Array(rows.values), outages: ongoing, now: now, peakIsSummed: byStation.count > 1)
    }

    @Test func periodsAlignToLocalHoursDaysMondaysAndMonths() throws {
        let h = try UsagePeriod(from: at(9, 30), to: at(11, 10), bucket: .hour, offset: .china)
        #expect(h.from == at(9) && h.to == at(12) && h.count == 3)
        let d = try UsagePeriod(from: at(9, 30), to: at(9, 31), bucket: .day, offset: .china)
        #expect(d.from == day && d.to == day + .seconds(86_400))
        #expect(RFC3339.format(d.from, offset: .utc) == "2026-11-22T16:00:00.000Z")
        // 2026-11-23 is a Monday; the 25th's week starts then.
        let w = try UsagePeriod(from: at(24 * 2 + 5), to: at(24 * 9), bucket: .week, offset: .china)
        #expect(w.from == day && w.count == 2 && w.bounds[1] == day.millisecondsSinceEpoch + 7 * 86_400_000)
        let m = try UsagePeriod(from: RFC3339.parse("2024-01-31T12:00:00+08:00", defaultOffset: .utc)!,
                                to: RFC3339.parse("2024-03-02T00:00:00+08:00", defaultOffset: .utc)!, bucket: .month, offset: .china)
        #expect(m.bounds.map { RFC3339.format(Timestamp(millisecondsSinceEpoch: $0), offset: .china).prefix(10) } == ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
        // A year earlier keeps the calendar (29 February becomes the 28th).
        let leap = try UsagePeriod(from: RFC3339.parse("2024-02-29T00:00:00+08:00", defaultOffset: .utc)!,
                                   to: RFC3339.parse("2024-03-01T00:00:00+08:00", defaultOffset: .utc)!, bucket: .day, offset: .china)
        #expect(RFC3339.format(try leap.yearEarlier().from, offset: .china).hasPrefix("2023-02-28"))
        #expect(try leap.previous().to == leap.from)
        #expect(throws: UsagePeriod.Problem.self) { try UsagePeriod(from: at(0), to: at(24 * 200), bucket: .hour, offset: .china) }
        #expect(h.index(of: at(10, 59).millisecondsSinceEpoch) == 1 && h.index(of: at(12).millisecondsSinceEpoch) == nil)
    }

    @Test func visitsWorkersStaysAndPeaks() throws {
        let q = try UsagePeriod(from: at(9), to: at(12), bucket: .hour, offset: .china)
        let a = [
            ev("a", 1, at(9, 5), "check_in", card: "1", occ: 1),
            ev("a", 2, at(9, 10), "check_in", card: "2", occ: 2),
            ev("a", 3, at(9, 20), "check_out", card: "1", occ: 1, stay: 900),
            ev("a", 4, at(9, 30), "check_in", card: "1", occ: 2),
            // The first event of hour 11 is a departure: two were inside before it.
            ev("a", 5, at(11, 0), "check_out", card: "2", occ: 1, stay: 6600),
            ev("a", 6, at(11, 1), "rejected_full", occ: 1),
            ev("a", 7, at(11, 2), "bad_read", occ: 1),
        ]
        let b = [ev("b", 1, at(9, 25), "check_in", card: "3", occ: 1)]
        let one = report(q, ["a": a], now: at(23))
        #expect(one.buckets.map(\.visits) == [3, 0, 0])
        #expect(one.buckets.map(\.peakOccupancy) == [2, 0, 2], "an hour without an event has no recorded peak")
        #expect(one.buckets.map(\.meanStaySeconds) == [900, nil, 6600])
        #expect(one.buckets[2].rejectedFull == 1 && one.buckets[2].badReads == 1)
        #expect(!one.peakIsUpperBound && !one.uniqueWorkersEstimated)
        let both = report(q, ["a": a, "b": b], now: at(23))
        #expect(both.buckets.map(\.visits) == [4, 0, 0])
        #expect(both.buckets.map(\.uniqueWorkers) == [3, 0, 0])
        // Several stations: the sum of each one's own peak in the hour (an upper bound).
        #expect(both.buckets.map(\.peakOccupancy) == [3, 0, 2] && both.peakIsUpperBound)
        #expect(both.totals.visits == 4 && both.totals.uniqueWorkers == 3 && both.totals.meanStaySeconds == 3750 && both.totals.peakOccupancy == 3)
    }

    @Test func downtimeSplitsAcrossHoursAndOngoingOutagesCountUpToNow() throws {
        let q = try UsagePeriod(from: at(9), to: at(12), bucket: .hour, offset: .china)
        let events = [
            ev("a", 1, at(9, 30), "amenity", occ: 0, detail: "amenity=microwave status=out_of_order note=no heat"),
            ev("a", 2, at(10, 15), "amenity", occ: 0, detail: "amenity=microwave status=ok"),
            ev("a", 3, at(10, 0), "amenity", occ: 0, detail: "amenity=fridge status=degraded"),
            ev("a", 4, at(10, 20), "fault_report", occ: 0, detail: "amenity=fridge note=warm"),
            ev("a", 5, at(11, 0), "rating", occ: 0, detail: "score=4"),
            ev("a", 6, at(11, 5), "rating", occ: 0, detail: "score=5"),
        ]
        // The water dispenser broke at 8:00 and still is at 11:30.
        let r = report(q, ["a": events], open: ["a": ["water": at(8).millisecondsSinceEpoch]], now: at(11, 30))
        #expect(r.buckets.map(\.amenityDowntimeSeconds) == [1800 + 3600, 900 + 3600, 1800])
        #expect(r.buckets.map(\.faultReports) == [0, 1, 0])
        #expect(r.buckets[2].ratings == 2 && r.buckets[2].meanRating == 4.5)
        #expect(r.totals.amenityDowntimeSeconds == 11_700)
        // An outage that ends in a later batch puts its downtime in the hours it covered.
        let (later, open) = RollupBuilder.deltas(events: [ev("a", 9, at(14, 30), "amenity", occ: 0, detail: "amenity=water status=ok")],
                                                 openOutages: ["water": at(12, 45).millisecondsSinceEpoch])
        #expect(open.isEmpty)
        #expect(later.keys.sorted().map { later[$0]!.figures.downtimeSeconds } == [900, 3600, 1800])
    }

    @Test func regionPaths() {
        let p = RegionPath(parsing: " 浙江省/舟山市 /普陀区/")!
        #expect(p.description == "浙江省/舟山市/普陀区" && p.depth == 3 && p.name == "普陀区")
        #expect(p.selfAndAncestors.map(\.description) == ["", "浙江省", "浙江省/舟山市", "浙江省/舟山市/普陀区"])
        #expect(RegionPath(parsing: "浙江省")!.contains(p) && RegionPath.nation.contains(p) && !p.contains(RegionPath(parsing: "浙江省")!))
        #expect(!RegionPath(parsing: "浙江")!.contains(p), "whole segments only")
        #expect(RegionPath(parsing: "a\u{0}b") == nil && RegionPath(parsing: "1/2/3/4/5/6/7") == nil)
        #expect(RegionPath(parsing: String(repeating: "长", count: 65)) == nil)
        #expect(RegionPath(parsing: "") == .nation)
    }

    /// The ranking keeps its first `limit` in one pass: the same as sorting every station,
    /// with ties, stations without a value and limits from none to more than all.
    @Test func rankingsKeepTheFirstAsAWholeSortWould() {
        var rng = SplitMix64(seed: 42)
        for round in 0..<200 {
            let n = Int(rng.next() % 300)
            var stations: [String: Int] = [:], current: [String: RollupFigures] = [:]
            for i in 0..<n {
                stations["s\(i)"] = Int(rng.next() % 4)  // some without seats: no visits per seat
                guard rng.next() % 5 != 0 else { continue }  // some without rows
                var f = RollupFigures()
                f.visits = Int64(rng.next() % 8)  // many ties
                f.ratings = Int64(rng.next() % 3); f.ratingSum = f.ratings * Int64(1 + rng.next() % 5)
                current["s\(i)"] = f
            }
            for measure in RankingMeasure.allCases {
                for descending in [true, false] {
                    let limit = [0, 1, 10, 64, 65, n + 5][round % 6]
                    let got = Rankings.rank(measure, descending: descending, limit: limit, stations: stations, current: current, previous: [:], yearEarlier: [:])
                    // The rule said plainly: by value in the order asked, stations without one
                    // last, ties by id.
                    let expected = stations.keys.map { id in (id, Rankings.value(measure, current[id] ?? RollupFigures(), capacity: stations[id]!)) }
                        .sorted { a, b in
                            switch (a.1, b.1) {
                            case let (x?, y?) where x != y: return descending ? x > y : x < y
                            case (nil, _?): return false
                            case (_?, nil): return true
                            default: return a.0 < b.0
                            }
                        }.prefix(limit)
                    #expect(got.map(\.station) == expected.map(\.0), "round \(round) \(measure) \(descending) \(limit)")
                    #expect(got.map(\.rank) == Array(0..<got.count).map { $0 + 1 })
                    #expect(got.allSatisfy { $0.figures == current[$0.station] ?? RollupFigures() })
                }
            }
        }
        // And against a plain sort.
        let xs = (0..<1000).map { _ in Int(rng.next() % 100) }
        let pairs: [(Int, Int)] = xs.enumerated().map { ($0.element, $0.offset) }
        let before = { (a: (Int, Int), b: (Int, Int)) -> Bool in a.0 != b.0 ? a.0 > b.0 : a.1 < b.1 }
        let kept: [Int] = Rankings.first(25, of: pairs, by: before).map { $0.1 }
        #expect(kept == pairs.sorted(by: before).prefix(25).map { $0.1 })
    }

    @Test func rankingsOrderWithValuelessStationsLast() {
        var busy = RollupFigures(); busy.visits = 90; busy.ratings = 2; busy.ratingSum = 9
        var quiet = RollupFigures(); quiet.visits = 10
        var before = RollupFigures(); before.visits = 60
        let r = Rankings.rank(.visits, descending: true, limit: 10, stations: ["busy": 10, "quiet": 5, "none": 8],
                              current: ["busy": busy, "quiet": quiet], previous: ["busy": before], yearEarlier: [:])
        #expect(r.map(\.station) == ["busy", "quiet", "none"] && r.map(\.rank) == [1, 2, 3])
        #expect(Rankings.change(r[0].value, from: r[0].previous) == 0.5)
        let perSeat = Rankings.rank(.visitsPerSeat, descending: false, limit: 2, stations: ["busy": 10, "quiet": 5, "none": 8],
                                    current: ["busy": busy, "quiet": quiet], previous: [:], yearEarlier: [:])
        #expect(perSeat.map(\.station) == ["none", "quiet"] && perSeat.map(\.value) == [0, 2])
        let rating = Rankings.rank(.rating, descending: false, limit: 5, stations: ["busy": 10, "quiet": 5],
                                   current: ["busy": busy, "quiet": quiet], previous: [:], yearEarlier: [:])
        #expect(rating.map(\.station) == ["busy", "quiet"] && rating[0].value == 4.5 && rating[1].value == nil)
        #expect(Rankings.change(5, from: 0) == nil)
    }

    /// A ranking sums only its measure's columns for every station: those must be all the
    /// measure reads.
    @Test func aMeasuresColumnsAreAllItsValueReads() {
        let full = RollupFigures(columns: RollupFigures.columnNames.indices.map { Int64(7 + 3 * $0) })
        for measure in RankingMeasure.allCases {
            let wanted = Rankings.columns(measure)
            #expect(wanted.isSubset(of: Set(RollupFigures.columnNames)))
            let only = RollupFigures(columns: zip(RollupFigures.columnNames, full.columns).map { wanted.contains($0.0) ? $0.1 : 0 })
            #expect(Rankings.value(measure, only, capacity: 6) == Rankings.value(measure, full, capacity: 6), "\(measure)")
        }
    }

    @Test func csvReaderReadsQuotesAndNamesBadLines() throws {
        let rows = try CSVReader.rows("\u{FEFF}id,name\r\na,\"甲, \"\"一\"\"\"\n\nb,\"two\nlines\"\nc,x")
        #expect(rows.map(\.fields) == [["id", "name"], ["a", "甲, \"一\""], ["b", "two\nlines"], ["c", "x"]])
        #expect(rows.map(\.line) == [1, 2, 4, 6])
        #expect(throws: CSVReader.Problem.unterminatedQuote(line: 2)) { try CSVReader.rows("a\n\"b,c\n") }
        #expect(throws: CSVReader.Problem.textAfterQuote(line: 1)) { try CSVReader.rows("\"a\"b") }
    }
}

