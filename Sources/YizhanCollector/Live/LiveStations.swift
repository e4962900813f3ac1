import Synchronization
import YizhanCore

/// The newest in-memory copy of every station with its live state, as the alert evaluator's
/// last pass read it (`StationMirror`: after the first pass, only the stations heard since),
/// for the dashboard's pages.
///
/// Why: a page read every station from the store and decoded each one's live state (JSON):
/// 80% of a station page's CPU at 2,000 stations in `perf`, and seconds a view for the
/// nation's 186,000 (docs/benchmarks.md, "The dashboard's pages"). The alert pass reads
/// them anyway, every 10 s by default; the pages reuse what it read. So a page's live
/// figures (online, inside, faults, versions) may be a pass old; the API's station list and
/// the finder keep their own, fresher reads.
///
/// The cost: the copy shares the pass's array, so the pass's next partial read copies the
/// array once before updating it in place (one copy per pass, tens of milliseconds and
/// the array's size in memory at 200,000 stations), where it updated without copying before.
public final class LiveStations: Sendable {
    struct Copy: Sendable {
        var stations: [StationRecord]
        /// The station list's revision the copy was read at (`StationRosterStore`).
        var revision: Int64
        var readAt: Timestamp
    }
    private let latest = Mutex<Copy?>(nil)
    /// A copy older than this is not used (the collector makes it three passes).
    let maximumAge: Duration

    public init(maximumAge: Duration = .seconds(30)) { self.maximumAge = maximumAge }

    /// What a pass read at `at`, of the station list at `revision`.
    func publish(_ stations: [StationRecord], revision: Int64, at: Timestamp) {
        latest.withLock { $0 = Copy(stations: stations, revision: revision, readAt: at) }
    }

    /// The copy, if it is of the station list's current `revision` (no station added, moved
    /// or edited since) and at most `maximumAge` old; nil: read the store.
    func fresh(revision: Int64, now: Timestamp) -> [StationRecord]? {
        latest.withLock { c in
            guard let c, c.revision == revision, now >= c.readAt, now - c.readAt <= maximumAge else { return nil }
            return c.stations
        }
    }
}
