import YizhanCore

/// The office's questions, answered from rollups: a scope (a region, some stations), a
/// period in buckets, and the same figures for the previous period and a year earlier.
/// Used by the API and the dashboard alike.
struct Analytics: Sendable {
    let store: any CollectorStore
    let offset: UTCOffset

    /// Where a question looks, resolved against what the user may see.
    struct Scope: Sendable {
        /// Rows come from here.
        var rollups: RollupScope
        /// The stations it covers (what the user may see of it).
        var stations: [StationRecord]
        /// The region asked about, if any.
        var region: RegionPath?
        var district: String?
        var description: String
    }

    enum ScopeError: Error, Equatable {
        case unknownStation(String), notYours(String), unknownRegion(String), outsideYourRegion(String), unknownDistrict(String)
    }

    /// `station=`, then `region=`, then `district=`; without any, everything the user sees
    /// (an office user's region, a manager's stations).
    static func scope(user: UserRecord, visible: [StationRecord], station: String?, region: String?, district: String?) throws -> Scope {
        if let id = station {
            guard let s = visible.first(where: { $0.id == id }) else {
                throw user.role == .office ? ScopeError.unknownStation(id) : ScopeError.notYours(id)
            }
            return Scope(rollups: .stations([id]), stations: [s], region: nil, district: nil, description: id)
        }
        if let text = region {
            guard let path = RegionPath(parsing: text) else { throw ScopeError.unknownRegion(text) }
            let inside = visible.keeping { path.contains($0.region) }
            if user.role == .office {
                if let own = user.region, !own.contains(path) { throw ScopeError.outsideYourRegion(path.description) }
                guard !inside.isEmpty || path.isNation else { throw ScopeError.unknownRegion(path.description) }
                return Scope(rollups: .region(path), stations: inside, region: path, district: nil, description: path.description)
            }
            guard !inside.isEmpty else { throw ScopeError.unknownRegion(path.description) }
            return Scope(rollups: .stations(inside.map(\.id)), stations: inside, region: path, district: nil, description: path.description)
        }
        if let district {
            let inside = visible.filter { $0.district == district }
            guard !inside.isEmpty else { throw ScopeError.unknownDistrict(district) }
            return Scope(rollups: .stations(inside.map(\.id)), stations: inside, region: nil, district: district, description: district)
        }
        if user.role == .office {
            let path = user.region ?? .nation
            return Scope(rollups: .region(path), stations: visible, region: path, district: nil, description: path.isNation ? "all" : path.description)
        }
        return Scope(rollups: .stations(visible.map(\.id)), stations: visible, region: nil, district: nil, description: "all")
    }

    struct Answer: Sendable {
        var period: UsagePeriod
        var report: UsageReport
        var previous: (period: UsagePeriod, totals: UsageFigures)?
        var yearEarlier: (period: UsagePeriod, totals: UsageFigures)?
    }

    /// The report for `period`; with `comparisons`, the previous period's and a year
    /// earlier's totals beside it.
    func usage(_ scope: Scope, period: UsagePeriod, comparisons: Bool, now: Timestamp = .now()) async throws -> Answer {
        let ids = scope.stations.map(\.id)
        let outages = try await ongoingOutages(of: ids)
        let summed: Bool
        switch scope.rollups {
        case .region: summed = scope.stations.count != 1
        case .stations(let s): summed = s.count != 1
        }
        func report(_ p: UsagePeriod) async throws -> UsageReport {
            let rows = try await store.rollupRows(scope.rollups, level: p.bucket.level, from: p.from, to: p.to)
            return UsageReportBuilder.report(p, rows: rows, outages: outages, now: now, peakIsSummed: summed)
        }
        var answer = Answer(period: period, report: try await report(period))
        if comparisons {
            // The comparison periods' totals come from day rows whatever the bucket. A period
            // of weeks or months may hold more days than a period may have buckets; it keeps
            // its own buckets then (their rows are days too).
            let days = (try? UsagePeriod(from: period.from, to: period.to, bucket: .day, offset: offset)) ?? period
            let prev = try days.previous(), year = try days.yearEarlier()
            answer.previous = (prev, try await report(prev).totals)
            answer.yearEarlier = (year, try await report(year).totals)
        }
        return answer
    }

    /// The ranking of the scope's stations by `measure` over [from, to), with the previous
    /// period's and a year earlier's values. Every station's measure is read for the period;
    /// all figures and the comparisons only for the stations ranked (a ranking's order is
    /// the period's).
    func rankings(_ scope: Scope, measure: RankingMeasure, descending: Bool, limit: Int, period: UsagePeriod,
                  now: Timestamp = .now()) async throws -> [RankingEntry] {
        try await rankings(scope, measure: measure, orders: [descending], limit: limit, period: period, now: now).lists[0]
    }

    /// Rankings in several orders, and when their order was read.
    struct RankedLists: Sendable, Equatable {
        /// One list per order asked.
        var lists: [[RankingEntry]]
        /// The time of the snapshot the order comes from; nil when read for this question.
        var asOf: Timestamp?
    }

    /// The same ranking in each of `orders` (descending or not): the dashboard's top and
    /// bottom tables from one read of the period's measure, the one cost that grows with the
    /// number of stations. With `snapshots`, a region of `snapshots.minimumStations` stations or
    /// more is ranked from a snapshot at most a minute or so old (`asOf` says when).
    func rankings(_ scope: Scope, measure: RankingMeasure, orders: [Bool], limit: Int, period: UsagePeriod,
                  snapshots: RankingSnapshots? = nil, now: Timestamp = .now()) async throws -> RankedLists {
        guard !scope.stations.isEmpty else { return RankedLists(lists: orders.map { _ in [] }) }
        let records = scope.stations
        let capacities = records.indices.map { (id: records[$0].id, capacity: records[$0].live?.capacity ?? records[$0].capacity) }
        let ids = capacities.map(\.id)
        let outages = try await ongoingOutages(of: ids)
        let columns = Rankings.columns(measure)
        let current: [String: RollupFigures]
        var asOf: Timestamp?
        if let snapshots, case .region(let region) = scope.rollups, ids.count >= snapshots.minimumStations {
            let key = RankingSnapshots.Key(region: region.description, from: period.from.millisecondsSinceEpoch,
                                           to: period.to.millisecondsSinceEpoch, columns: columns.sorted())
            let snapshot = try await snapshots.snapshot(key, now: now) {
                try await self.totals(ids, periods: [period], outages: outages, only: columns, now: now)[0]
            }
            current = snapshot.totals
            asOf = snapshot.takenAt
        } else {
            current = try await totals(ids, periods: [period], outages: outages, only: columns, now: now)[0]
        }
        let ranked = Rankings.rank(measure, orders: orders, limit: limit, stations: capacities, current: current)
        let shown = Array(Set(ranked.joined().map(\.station)))
        let full = try await totals(shown, periods: [period, try period.previous(), try period.yearEarlier()], outages: outages, now: now)
        let lists = ranked.map { entries in
            var entries = entries
            for i in entries.indices { entries[i].figures = full[0][entries[i].station] ?? RollupFigures() }
            return Rankings.compared(entries, measure: measure, previous: full[1], yearEarlier: full[2])
        }
        return RankedLists(lists: lists, asOf: asOf)
    }
}
