import YizhanCore

/// Per station totals for a period, its previous period and a year earlier, with outages
/// still going on counted up to now: what the dashboard's child-region table and ranking
/// table both read, fetched once (one statement over station-day rows for the three
/// periods, whatever the number of stations) rather than once per child region or per ranking.
extension Analytics {
    struct StationTotals: Sendable {
        var current: [String: RollupFigures] = [:]
        var previous: [String: RollupFigures] = [:]
        var yearEarlier: [String: RollupFigures] = [:]
    }

    func stationTotals(_ scope: Scope, period: UsagePeriod, now: Timestamp = .now()) async throws -> StationTotals {
        let ids = scope.stations.map(\.id)
        guard !ids.isEmpty else { return StationTotals() }
        let t = try await totals(ids, periods: [period, try period.previous(), try period.yearEarlier()], now: now)
        return StationTotals(current: t[0], previous: t[1], yearEarlier: t[2])
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
        let wanted = Set(ids)
        return try await store.allOngoingOutages().filter { wanted.contains($0.station) }
    }

    /// Up to this many stations, their outages are asked for by id.
    static let outagesByName = 200
}
