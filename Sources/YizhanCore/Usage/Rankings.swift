/// Rankings: which stations turn people away, which stand empty, which are broken most.
public enum RankingMeasure: String, Hashable, Sendable, CaseIterable {
    case visits, rejectedFull = "rejected_full", downtime, rating, visitsPerSeat = "visits_per_seat"
}

public struct RankingEntry: Hashable, Sendable {
    public var station: String
    public var capacity: Int
    public var figures: RollupFigures
    /// The measure's value; nil when it has none (no rating in the period).
    public var value: Double?
    public var previous: Double?
    public var yearEarlier: Double?
    public var rank = 0
}

public enum Rankings {
    public static func value(_ measure: RankingMeasure, _ f: RollupFigures, capacity: Int) -> Double? {
        switch measure {
        case .visits: return Double(f.visits)
        case .rejectedFull: return Double(f.rejectedFull)
        case .downtime: return Double(f.downtimeSeconds)
        case .rating: return f.ratings > 0 ? (Double(f.ratingSum) / Double(f.ratings) * 100).rounded() / 100 : nil
        case .visitsPerSeat: return capacity > 0 ? (Double(f.visits) / Double(capacity) * 100).rounded() / 100 : nil
        }
    }

    /// The rollup columns `value` reads for `measure`.
    public static func columns(_ measure: RankingMeasure) -> Set<String> {
        switch measure {
        case .visits, .visitsPerSeat: ["visits"]
        case .rejectedFull: ["rejected_full"]
        case .downtime: ["downtime_seconds"]
        case .rating: ["ratings", "rating_sum"]
        }
    }

    /// Ranks `stations` (id → capacity) by `measure` over the period, with the same
    /// measure for the previous period and a year earlier. Stations without a value
    /// come last whatever the order; ties by station id. Ranks start at 1.
    public static func rank(_ measure: RankingMeasure, descending: Bool, limit: Int, stations: [String: Int],
                            current: [String: RollupFigures], previous: [String: RollupFigures],
                            yearEarlier: [String: RollupFigures]) -> [RankingEntry] {
        let entries = rank(measure, orders: [descending], limit: limit, stations: stations.map { (id: $0.key, capacity: $0.value) },
                           current: current)[0]
        // The comparisons for the stations ranked only.
        return compared(entries, measure: measure, previous: previous, yearEarlier: yearEarlier)
    }

    /// The same ranking in each of `orders` (descending or not), the stations' values worked
    /// out once, and only the first `limit` of each order kept as they go by (not every
    /// station sorted: a national page ranks 186,000 stations twice for 10 of each).
    public static func rank(_ measure: RankingMeasure, orders: [Bool], limit: Int, stations: [(id: String, capacity: Int)],
                            current: [String: RollupFigures]) -> [[RankingEntry]] {
        let values = stations.map { value(measure, current[$0.id] ?? RollupFigures(), capacity: $0.capacity) }
        return orders.map { descending in
            let kept = first(max(0, limit), of: stations.indices) { a, b in
                switch (values[a], values[b]) {
                case let (x?, y?) where x != y: return descending ? x > y : x < y
                case (nil, _?): return false
                case (_?, nil): return true
                default: return stations[a].id < stations[b].id
                }
            }
            return kept.enumerated().map { rank, i in
                RankingEntry(station: stations[i].id, capacity: stations[i].capacity, figures: current[stations[i].id] ?? RollupFigures(),
                             value: values[i], previous: nil, yearEarlier: nil, rank: rank + 1)
            }
        }
    }

    /// The first `k` of `items` in the order `before` (a strict total order), sorted: what
    /// `items.sorted(by: before).prefix(k)` gives, in one pass keeping `k` (for a small `k`;
    /// a long list, as the API's export of 1,000, is sorted whole).
    public static func first<S: Sequence>(_ k: Int, of items: S, by before: (S.Element, S.Element) -> Bool) -> [S.Element] {
        guard k <= 64 else { return Array(items.sorted(by: before).prefix(k)) }
        var kept: [S.Element] = []
        guard k > 0 else { return kept }
        kept.reserveCapacity(k + 1)
        for item in items {
            if kept.count == k, !before(item, kept[k - 1]) { continue }
            // Where it goes: after every kept one that comes before it.
            var low = 0, high = kept.count
            while low < high {
                let mid = (low + high) / 2
                if before(kept[mid], item) { low = mid + 1 } else { high = mid }
            }
            kept.insert(item, at: low)
            if kept.count > k { kept.removeLast() }
        }
        return kept
    }

    /// `entries` (ranked) with the measure's values for the previous period and a year
    /// earlier: what `rank` gives when it is handed those totals too.
    public static func compared(_ entries: [RankingEntry], measure: RankingMeasure, previous: [String: RollupFigures],
                                yearEarlier: [String: RollupFigures]) -> [RankingEntry] {
        entries.map { e in
            var e = e
            e.previous = value(measure, previous[e.station] ?? RollupFigures(), capacity: e.capacity)
            e.yearEarlier = value(measure, yearEarlier[e.station] ?? RollupFigures(), capacity: e.capacity)
            return e
        }
    }

    /// The relative change from `base` to `value` (0.25 is 25 % more); nil without a base.
    public static func change(_ value: Double?, from base: Double?) -> Double? {
        guard let value, let base, base != 0 else { return nil }
        return ((value - base) / base * 10_000).rounded() / 10_000
    }
}
