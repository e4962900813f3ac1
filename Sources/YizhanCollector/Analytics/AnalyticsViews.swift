import YizhanCore

/// What the analytics endpoints answer, as JSON and CSV.
extension CollectorHTTP {
    struct UsageView: Encodable {
        struct Bucket: Encodable {
            var start: String
            var visits, uniqueWorkers, peakOccupancy: Int
            var meanStaySeconds: Int64?
            var rejectedFull, badReads, faultReports: Int
            var amenityDowntimeSeconds: Int64
            var ratings: Int
            var meanRating: Double?
            enum CodingKeys: String, CodingKey {
                case start, visits, ratings
                case uniqueWorkers = "unique_workers", peakOccupancy = "peak_occupancy", meanStaySeconds = "mean_stay_seconds"
                case rejectedFull = "rejected_full", badReads = "bad_reads", faultReports = "fault_reports"
                case amenityDowntimeSeconds = "amenity_downtime_seconds", meanRating = "mean_rating"
            }
            init(_ f: UsageFigures, offset: UTCOffset) {
                start = RFC3339.format(f.start, offset: offset); visits = f.visits; uniqueWorkers = f.uniqueWorkers
                peakOccupancy = f.peakOccupancy; meanStaySeconds = f.meanStaySeconds; rejectedFull = f.rejectedFull
                badReads = f.badReads; faultReports = f.faultReports; amenityDowntimeSeconds = f.amenityDowntimeSeconds
                ratings = f.ratings; meanRating = f.meanRating
            }
            func encode(to encoder: any Encoder) throws {
                // Explicit nulls: every bucket has every key.
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(start, forKey: .start); try c.encode(visits, forKey: .visits)
                try c.encode(uniqueWorkers, forKey: .uniqueWorkers); try c.encode(peakOccupancy, forKey: .peakOccupancy)
                try c.encode(meanStaySeconds, forKey: .meanStaySeconds); try c.encode(rejectedFull, forKey: .rejectedFull)
                try c.encode(badReads, forKey: .badReads); try c.encode(faultReports, forKey: .faultReports)
                try c.encode(amenityDowntimeSeconds, forKey: .amenityDowntimeSeconds)
                try c.encode(ratings, forKey: .ratings); try c.encode(meanRating, forKey: .meanRating)
            }
            /// Each figure's relative change from `base`.
            func changes(from base: Bucket) -> [String: Double?] {
                func d(_ x: Int) -> Double { Double(x) }
                return [
                    "visits": Rankings.change(d(visits), from: d(base.visits)),
                    "unique_workers": Rankings.change(d(uniqueWorkers), from: d(base.uniqueWorkers)),
                    "peak_occupancy": Rankings.change(d(peakOccupancy), from: d(base.peakOccupancy)),
                    "mean_stay_seconds": Rankings.change(meanStaySeconds.map(Double.init), from: base.meanStaySeconds.map(Double.init)),
                    "rejected_full": Rankings.change(d(rejectedFull), from: d(base.rejectedFull)),
                    "amenity_downtime_seconds": Rankings.change(Double(amenityDowntimeSeconds), from: Double(base.amenityDowntimeSeconds)),
                    "mean_rating": Rankings.change(meanRating, from: base.meanRating),
                ]
            }
            static let csvHeader = ["start", "visits", "unique_workers", "peak_occupancy", "mean_stay_seconds", "rejected_full", "bad_reads",
                                    "fault_reports", "amenity_downtime_seconds", "ratings", "mean_rating"]
            var csvFields: [String] {
                [CSV.field(start), CSV.number(visits), CSV.number(uniqueWorkers), CSV.number(peakOccupancy), CSV.number(meanStaySeconds),
                 CSV.number(rejectedFull), CSV.number(badReads), CSV.number(faultReports), CSV.number(amenityDowntimeSeconds),
                 CSV.number(ratings), CSV.number(meanRating)]
            }
        }
        struct Comparison: Encodable {
            var from: String
            var to: String
            var totals: Bucket
            /// Relative change of the period's totals against these (0.25 = 25 % more; null without a base).
            var change: [String: Double?]
        }
        /// The stations covered (listed up to 200; `station_count` always).
        var stations: [String]?
        var stationCount: Int
        var region: String?
        var district: String?
        var from: String
        var to: String
        var bucket: String
        var buckets: [Bucket]
        var totals: Bucket
        /// Figures that are estimates here: `unique_workers` beyond a sketch's exact range,
        /// `peak_occupancy` summed over several stations (an upper bound).
        var estimated: [String]
        var previous: Comparison?
        var yearEarlier: Comparison?

        enum CodingKeys: String, CodingKey {
            case stations, region, district, from, to, bucket, buckets, totals, estimated, previous
            case stationCount = "station_count", yearEarlier = "year_earlier"
        }

        init(_ a: Analytics.Answer, scope: Analytics.Scope, offset: UTCOffset) {
            stations = scope.stations.count <= 200 ? scope.stations.map(\.id) : nil
            stationCount = scope.stations.count
            region = scope.region?.description; district = scope.district
            from = RFC3339.format(a.period.from, offset: offset); to = RFC3339.format(a.period.to, offset: offset)
            bucket = a.period.bucket.rawValue
            buckets = a.report.buckets.map { Bucket($0, offset: offset) }
            let totals = Bucket(a.report.totals, offset: offset)
            self.totals = totals
            estimated = (a.report.uniqueWorkersEstimated ? ["unique_workers"] : []) + (a.report.peakIsUpperBound ? ["peak_occupancy"] : [])
            func comparison(_ c: (period: UsagePeriod, totals: UsageFigures)?) -> Comparison? {
                guard let c else { return nil }
                let base = Bucket(c.totals, offset: offset)
                return Comparison(from: RFC3339.format(c.period.from, offset: offset), to: RFC3339.format(c.period.to, offset: offset),
                                  totals: base, change: totals.changes(from: base))
            }
            previous = comparison(a.previous); yearEarlier = comparison(a.yearEarlier)
        }
    }

    struct RankingsView: Encodable {
        struct Entry: Encodable {
            var rank: Int
            var id: String
            var name: String
            var region: String
            var capacity: Int
            var value: Double?
            var previous: Double?
            var yearEarlier: Double?
            var changeVsPrevious: Double?
            var changeVsYearEarlier: Double?
            var visits: Int64
            var rejectedFull: Int64
            var downtimeSeconds: Int64
            var meanRating: Double?
            var visitsPerSeat: Double?
            enum CodingKeys: String, CodingKey {
                case rank, id, name, region, capacity, value, previous, visits
                case yearEarlier = "year_earlier", changeVsPrevious = "change_vs_previous", changeVsYearEarlier = "change_vs_year_earlier"
                case rejectedFull = "rejected_full", downtimeSeconds = "downtime_seconds", meanRating = "mean_rating", visitsPerSeat = "visits_per_seat"
            }
            func encode(to encoder: any Encoder) throws {
                // Explicit nulls: every entry has every key.
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(rank, forKey: .rank); try c.encode(id, forKey: .id); try c.encode(name, forKey: .name)
                try c.encode(region, forKey: .region); try c.encode(capacity, forKey: .capacity); try c.encode(value, forKey: .value)
                try c.encode(previous, forKey: .previous); try c.encode(yearEarlier, forKey: .yearEarlier)
                try c.encode(changeVsPrevious, forKey: .changeVsPrevious); try c.encode(changeVsYearEarlier, forKey: .changeVsYearEarlier)
                try c.encode(visits, forKey: .visits); try c.encode(rejectedFull, forKey: .rejectedFull)
                try c.encode(downtimeSeconds, forKey: .downtimeSeconds); try c.encode(meanRating, forKey: .meanRating)
                try c.encode(visitsPerSeat, forKey: .visitsPerSeat)
            }
            static let csvHeader = ["rank", "id", "name", "region", "capacity", "value", "previous", "year_earlier", "change_vs_previous",
                                    "change_vs_year_earlier", "visits", "rejected_full", "downtime_seconds", "mean_rating", "visits_per_seat"]
            var csvFields: [String] {
                [CSV.number(rank), CSV.field(id), CSV.field(name), CSV.field(region), CSV.number(capacity), CSV.number(value), CSV.number(previous),
                 CSV.number(yearEarlier), CSV.number(changeVsPrevious), CSV.number(changeVsYearEarlier), CSV.number(visits),
                 CSV.number(rejectedFull), CSV.number(downtimeSeconds), CSV.number(meanRating), CSV.number(visitsPerSeat)]
            }
        }
        var by: String
        var order: String
        var from: String
        var to: String
        var region: String?
        var stations: [Entry]
        init(measure: RankingMeasure, order: String, period: UsagePeriod, scope: Analytics.Scope, entries: [RankingEntry], offset: UTCOffset) {
            by = measure.rawValue; self.order = order
            from = RFC3339.format(period.from, offset: offset); to = RFC3339.format(period.to, offset: offset)
            region = scope.region?.description
            let records = Dictionary(scope.stations.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            stations = entries.map { e in
                let s = records[e.station]
                return Entry(rank: e.rank, id: e.station, name: s?.name ?? e.station, region: s?.region.description ?? "", capacity: e.capacity,
                             value: e.value, previous: e.previous, yearEarlier: e.yearEarlier,
                             changeVsPrevious: Rankings.change(e.value, from: e.previous), changeVsYearEarlier: Rankings.change(e.value, from: e.yearEarlier),
                             visits: e.figures.visits, rejectedFull: e.figures.rejectedFull, downtimeSeconds: e.figures.downtimeSeconds,
                             meanRating: Rankings.value(.rating, e.figures, capacity: e.capacity),
                             visitsPerSeat: Rankings.value(.visitsPerSeat, e.figures, capacity: e.capacity))
            }
        }
    }
}
