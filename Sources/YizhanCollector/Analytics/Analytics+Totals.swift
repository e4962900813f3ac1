import YizhanCore

/// Per station totals with outages still going on counted up to now (rankings), and the
/// visits a region page lists per child region and per station placed at the region itself.
extension Analytics {
    /// Visits in a period and in the one before it.
    struct VisitsPair: Sendable, Equatable {
        var current: Int64 = 0
        var previous: Int64 = 0
    }

    /// What a region page's tables list: visits per child region (by its name) and per
    /// station placed at the region itself (by id).
    struct ChildVisits: Sendable, Equatable {
        var children: [String: VisitsPair] = [:]
        var stations: [String: VisitsPair] = [:]
    }

    /// The visits of `region`'s child regions and of the stations placed at it, for `period`
    /// and the one before. A region scope (an office user, who sees whole regions) reads the
    /// children's own day rows: a few rows per child and day, however many stations they
    /// hold (a national page has 31 children and 186,000 stations). A manager's scope sums
    /// their stations' totals instead: the children's rows would count others' stations.
    func childVisits(_ scope: Scope, region: RegionPath, period: UsagePeriod) async throws -> ChildVisits {
        let previous = try period.previous()
        let periods = [(period.from, period.to), (previous.from, previous.to)]
        var byChild: [String: [String]] = [:]
        // Each child's path as its stations spell it (the rows are keyed by those bytes; the
        // page's own region came from a URL and may be spelt otherwise yet compare equal).
        var childPaths: [String: RegionPath] = [:]
        var direct: [String] = []
        let byRows = if case .region = scope.rollups { true } else { false }
        let records = scope.stations
        for i in records.indices {  // by index: a copy of each record is most of the cost at 186,000
            let r = records[i].region
            guard r.depth > region.depth, region.contains(r) else { direct.append(records[i].id); continue }
            let child = r.segments[region.depth]
            // Each station's child looked up once (hashing its name is the cost); a region
            // scope reads its children's rows and needs no list of their stations.
            if !byRows { byChild[child, default: []].append(records[i].id) }
            if childPaths[child] == nil { childPaths[child] = RegionPath(segments: Array(r.segments.prefix(region.depth + 1))) }
        }
        var out = ChildVisits()
        func pair(_ t: [[String: RollupFigures]], _ key: String) -> VisitsPair {
            VisitsPair(current: t[0][key]?.visits ?? 0, previous: t[1][key]?.visits ?? 0)
        }
        // Stations' own visits: those placed at the region itself, and all of a manager's.
        let ids = byRows ? direct : scope.stations.map(\.id)
        let stations = ids.isEmpty ? [[:], [:]] : try await store.stationTotals(ids, periods: periods, only: ["visits"])
        for id in direct { out.stations[id] = pair(stations, id) }
        if byRows {
            let t = try await store.regionTotals(Array(childPaths.values), periods: periods)
            for (child, path) in childPaths { out.children[child] = pair(t, path.description) }
        } else {
            for (child, ids) in byChild {
                out.children[child] = ids.reduce(into: VisitsPair()) { sum, id in
                    let v = pair(stations, id)
                    sum.current += v.current
                    sum.previous += v.previous
                }
            }
        }
        return out
    }

    /// These stations' totals in each period (one statement), outages still going on counted up to `now`.
    /// `outages`, when given, are the stations' (or more).
    func totals(_ ids: [String], periods: [UsagePeriod], outages known: [OngoingOutage]? = nil, only: Set<String>? = nil,
                now: Timestamp) async throws -> [[String: RollupFigures]] {
        guard !ids.isEmpty else { return periods.map { _ in [:] } }
        let outages: [OngoingOutage]
        if let known {
            let wanted = Set(ids)
            outages = known.filter { wanted.contains($0.station) }
        } else {
            outages = try await ongoingOutages(of: ids)
        }
        var out = try await store.stationTotals(ids, periods: periods.map { ($0.from, $0.to) }, only: only)
        for (i, p) in periods.enumerated() {
            let end = min(p.to.millisecondsSinceEpoch, now.millisecondsSinceEpoch)
            for o in outages {
                let a = max(o.since, p.from.millisecondsSinceEpoch)
                if end > a { out[i][o.station, default: RollupFigures()].downtimeSeconds += (end - a) / 1000 }
            }
        }
        return out
    }

    /// The stations' outages still going on. Above a few hundred stations all ongoing outages
    /// are read (one small table, only what is broken now) and filtered here: asking for
    /// 10,000 ids by name cost more than the rest of a province's question (docs/benchmarks.md).
    func ongoingOutages(of ids: [String]) async throws -> [OngoingOutage] {
        guard ids.count > Self.outagesByName else { return ids.isEmpty ? [] : try await store.ongoingOutages(ids) }
        let all = try await store.allOngoingOutages()
        guard !all.isEmpty else { return [] }
        // Which of the (few) broken stations are asked about: one look at each id, rather
        // than a set of 186,000 ids made for each question.
        let broken = Set(all.map(\.station))
        let wanted = Set(ids.lazy.filter { broken.contains($0) })
        return all.filter { wanted.contains($0.station) }
    }

    /// Up to this many stations, their outages are asked for by id.
    static let outagesByName = 200
}
