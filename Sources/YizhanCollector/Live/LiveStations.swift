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
/// the finder keep their own, fresher reads. Heartbeats this collector received since are
/// laid over the copy (`note`), so for a single collector the pages are as fresh as the API.
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
    struct State {
        var copy: Copy?
        /// Heartbeats this collector received that the copy may not hold yet (newest per
        /// station): laid over it, so a page agrees with the API about this collector's
        /// stations at once. Other collectors' heartbeats arrive with the next pass.
        var pending: [String: HeartbeatRecord] = [:]
    }
    private let state = Mutex(State())
    /// A copy older than this is not used (the collector makes it three passes).
    let maximumAge: Duration

    public init(maximumAge: Duration = .seconds(30)) { self.maximumAge = maximumAge }

    /// A heartbeat as this collector accepted it.
    func note(_ h: HeartbeatRecord) {
        state.withLock { s in
            if let have = s.pending[h.station], have.at > h.at { return }
            s.pending[h.station] = h
        }
    }

    /// What a pass read at `at`, of the station list at `revision` (`positions`: index by
    /// id). The heartbeats the copy holds are no longer pending.
    func publish(_ stations: [StationRecord], positions: [String: Int], revision: Int64, at: Timestamp) {
        state.withLock { s in
            s.copy = Copy(stations: stations, revision: revision, readAt: at)
            s.pending = s.pending.filter { id, h in
                guard let i = positions[id] else { return true }
                return stations[i].lastSeen.map { $0 < h.at } ?? true
            }
        }
    }

    /// The copy, if it is of the station list's current `revision` (no station added, moved
    /// or edited since) and at most `maximumAge` old, and the heartbeats to lay over it; nil:
    /// read the store.
    func fresh(revision: Int64, now: Timestamp) -> (stations: [StationRecord], pending: [String: HeartbeatRecord])? {
        state.withLock { s in
            guard let c = s.copy, c.revision == revision, now >= c.readAt, now - c.readAt <= maximumAge else { return nil }
            return (c.stations, s.pending)
        }
    }

    /// `station` with `h` laid over it when `h` is newer than what it holds, as the store
    /// would record it (`recordHeartbeats`).
    static func laid(_ h: HeartbeatRecord, over station: StationRecord) -> StationRecord {
        guard station.lastSeen.map({ $0 <= h.at }) ?? true else { return station }
        var s = station
        s.occupancy = h.occupancy
        s.lastSeen = h.at
        s.live = h.live
        return s
    }
}
