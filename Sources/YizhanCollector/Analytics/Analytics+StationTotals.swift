import YizhanCore

/// Per station totals for a period, its previous period and a year earlier, with outages
/// still going on counted up to now: what the dashboard's child-region table and ranking
/// table both read, fetched once (three grouped queries over station-day rows, whatever
/// the number of stations) rather than once per child region or per ranking.
extension Analytics {
    struct StationTotals: Sendable {
        var current: [String: RollupFigures] = [:]
        var previous: [String: RollupFigures] = [:]
        var yearEarlier: [String: RollupFigures] = [:]
    }

    func stationTotals(_ scope: Scope, period: UsagePeriod, now: Timestamp = .now()) async throws -> StationTotals {
        let ids = scope.stations.map(\.id)
        guard !ids.isEmpty else { return StationTotals() }
        let outages = try await store.ongoingOutages(ids)
        func totals(_ p: UsagePeriod) async throws -> [String: RollupFigures] {
            var t = try await store.stationTotals(ids, from: p.from, to: p.to)
            let end = min(p.to.millisecondsSinceEpoch, now.millisecondsSinceEpoch)
            for o in outages {
                let a = max(o.since, p.from.millisecondsSinceEpoch)
                if end > a { t[o.station, default: RollupFigures()].downtimeSeconds += (end - a) / 1000 }
            }
            return t
        }
        return StationTotals(current: try await totals(period), previous: try await totals(try period.previous()),
                             yearEarlier: try await totals(try period.yearEarlier()))
    }
}
