import Logging
import ServiceLifecycle
import Synchronization
import YizhanCore
import YizhanWeb

/// The public finder's and the open data's view of the stations: one immutable
/// `FinderIndex` that every public request reads, never the database.
///
/// - Heartbeats are noted in memory (`note`, O(1)); at most once per `debounce` (1 s) the
///   noted live states are laid over the index (`FinderIndex.updating`: the grid is kept,
///   the station array copied once), so the public answers lag a heartbeat by a second.
/// - The store is read every `reloadInterval` (30 s), and sooner when a heartbeat comes from
///   a station the index has never seen (one added since): stations added or moved with
///   `yizhan-collector station`, and heartbeats another collector received (PostgreSQL,
///   several collectors), arrive that way. The read is partial (`StationMirror`: the
///   stations heard since the last read) unless the station list changed, and then too
///   only live state is laid over the index; a new grid is built only for a changed list.
/// - Both, and the feed's encoding, run on `BackgroundWork`'s thread, not on the threads
///   that answer requests (measured: a rebuild on the 2-thread cooperative pool showed as
///   a p99 of hundreds of milliseconds under load; docs/benchmarks.md).
/// - `FinderSnapshotService` does this in the background; a request that finds the index
///   three times older than that refreshes it itself (a collector run without the
///   service, as in the HTTP tests).
public final class FinderSnapshots: Sendable {
    struct State {
        var index: FinderIndex = .empty
        /// Heartbeats since the index was made, newest per station.
        var pending: [String: HeartbeatRecord] = [:]
        /// Stations the store holds without a position: their heartbeats are not news.
        var unplaced: Set<String> = []
        var needsReload = true
        var lastReload: Timestamp?
        var building = false
        /// How many times the index was built from the store (tests watch it).
        var reloads = 0
        /// Requests waiting for the first load (an empty index would tell them no station exists).
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    let store: any CollectorStore
    let heartbeats: HeartbeatBuffer
    let debounce: Duration
    let reloadInterval: Duration
    private let state = Mutex(State())
    /// The stations as the store has them, read again in part (`StationMirror`).
    private let mirror = StationMirror()
    private let feedCache = Mutex<(feed: OpenDataFeed?, building: Bool)>((nil, false))

    init(store: any CollectorStore, heartbeats: HeartbeatBuffer, debounce: Duration = .seconds(1), reloadInterval: Duration = .seconds(30)) {
        self.store = store; self.heartbeats = heartbeats; self.debounce = debounce; self.reloadInterval = reloadInterval
    }

    var reloads: Int { state.withLock { $0.reloads } }

    /// A heartbeat as the collector accepted it.
    func note(_ h: HeartbeatRecord) {
        state.withLock { s in
            guard !s.unplaced.contains(h.station) else { return }
            // A station the index does not know: read the store soon (the heartbeat is
            // kept too, for after that reload, if the store has not got it by then).
            if s.index.station(h.station) == nil { s.needsReload = true }
            if let have = s.pending[h.station], have.at > h.at { return }
            s.pending[h.station] = h
        }
    }

    /// The index as it is now. A request refreshes it itself only when the background
    /// service has not for three times its interval (no service runs, or it lags): then
    /// one request pays for it instead of the service, never every request.
    func current(now: Timestamp = .now()) async throws -> FinderIndex {
        try await refresh(now: now, slack: 3)
        return state.withLock { $0.index }
    }

    /// Reloads or updates what is due (`slack` stretches the intervals); one caller at a
    /// time does the work, the others read the index as it was.
    func refresh(now: Timestamp = .now(), slack: Int = 1) async throws {
        enum Work { case nothing, waitForFirstLoad, update, reload }
        let work: Work = state.withLock { s in
            guard !s.building else { return s.lastReload == nil && slack > 1 ? .waitForFirstLoad : .nothing }
            let reloadDue = s.lastReload.map { now - $0 >= reloadInterval * slack } ?? true
            let reload = reloadDue || (s.needsReload && s.lastReload.map { now - $0 >= debounce * slack } ?? true)
            let update = !s.pending.isEmpty && now - s.index.builtAt >= debounce * slack
            guard reload || update else { return .nothing }
            s.building = true
            return reload ? .reload : .update
        }
        switch work {
        case .nothing: return
        case .waitForFirstLoad:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s in
                    guard s.building && s.lastReload == nil else { return true }
                    s.waiters.append(c)
                    return false
                }
                if now { c.resume() }
            }
            return
        case .update, .reload: break
        }
        defer {
            let waiters = state.withLock { s in s.building = false; defer { s.waiters = [] }; return s.waiters }
            for w in waiters { w.resume() }
        }
        if case .reload = work {
            try await heartbeats.flush()
            let read = try await mirror.refresh(store, now: now)
            let (old, unplaced) = state.withLock { ($0.index, $0.unplaced) }
            let built = try await BackgroundWork.run {
                // Only live state changed: laid over the index, the grid kept.
                if !read.full, let updated = old.updating(
                    read.changed.compactMap { r in Self.finderStation(r).flatMap { s in Self.isNewer(s, than: old.station(s.id)) ? s : nil } },
                    generation: old.generation + 1, builtAt: now) {
                    return (updated, unplaced)
                }
                let index = FinderIndex(stations: read.stations.compactMap(Self.finderStation), generation: old.generation + 1, builtAt: now)
                return (index, Set(read.stations.lazy.filter { index.station($0.id) == nil }.map(\.id)))
            }
            let retired = state.withLock { s in
                defer { s.index = built.0 }
                s.unplaced = built.1
                s.needsReload = false
                s.lastReload = now
                s.reloads += 1
                return s.index
            }
            BackgroundWork.release(retired)
        }
        // Heartbeats noted meanwhile (during a reload too: the store may not have them yet).
        let (index, pending) = state.withLock { s in defer { s.pending = [:] }; return (s.index, s.pending) }
        guard !pending.isEmpty else { return }
        let updated = try await BackgroundWork.run {
            let changes = pending.values.compactMap { h in index.station(h.station).map { Self.applying(h, to: $0) } }
            return index.updating(changes, generation: index.generation + 1, builtAt: now)
        }
        let retired: FinderIndex? = state.withLock { s in
            guard let updated else { s.needsReload = true; return nil }
            defer { s.index = updated }
            return s.index
        }
        if let retired { BackgroundWork.release(retired) }
    }

    /// The feed for the current index, encoded at most once per `OpenDataFeed.minimumInterval`
    /// and by one request at a time (the others get the one before meanwhile).
    func feed(now: Timestamp = .now(), offlineAfter: Duration, offset: UTCOffset) async throws -> OpenDataFeed {
        let index = try await current(now: now)
        enum Step { case use(OpenDataFeed), build }
        let step: Step = feedCache.withLock { c in
            if let feed = c.feed, feed.generation == index.generation || c.building
                || now - feed.builtAt < OpenDataFeed.minimumInterval(stations: index.stations.count) {
                return .use(feed)
            }
            c.building = true
            return .build
        }
        if case .use(let feed) = step { return feed }
        do {
            let feed = try await BackgroundWork.run { OpenDataFeed(index, now: now, offlineAfter: offlineAfter, offset: offset) }
            feedCache.withLock { $0 = (feed, false) }
            return feed
        } catch {
            feedCache.withLock { $0.building = false }
            throw error
        }
    }

    /// Whether `station` (as the store has it) is not older than what the index holds.
    static func isNewer(_ station: FinderStation, than held: FinderStation?) -> Bool {
        guard let seen = held?.lastSeen else { return true }
        return station.lastSeen.map { $0 >= seen } ?? false
    }

    /// A station's live state from a heartbeat, unless the index already has a newer one
    /// (another collector's, read from the store).
    static func applying(_ h: HeartbeatRecord, to station: FinderStation) -> FinderStation {
        if let seen = station.lastSeen, seen > h.at { return station }
        var s = station
        s.occupancy = h.occupancy
        s.capacity = h.live.capacity
        s.open = h.live.open
        s.amenities = FinderStation.byKind(h.live.amenities)
        s.openingHours = h.live.openingHours
        s.lastSeen = h.at
        return s
    }

    static func finderStation(_ s: StationRecord) -> FinderStation? {
        guard let lat = s.latitude, let lon = s.longitude else { return nil }
        return FinderStation(id: s.id, name: s.name, address: s.address, region: s.region.description, latitude: lat, longitude: lon,
                             capacity: s.live?.capacity ?? s.capacity, occupancy: s.occupancy, open: s.live?.open ?? false,
                             amenities: FinderStation.byKind(s.live?.amenities ?? [:]), openingHours: s.live?.openingHours,
                             lastSeen: s.lastSeen)
    }
}

/// Rebuilds the finder's index in the background, once a second when something changed.
public struct FinderSnapshotService: Service {
    let snapshots: FinderSnapshots
    let logger: Logger

    public init(http: CollectorHTTP, logger: Logger) { snapshots = http.finder; self.logger = logger }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            // Sleeps first: the store is prepared while the server starts.
            try? await Task.sleep(for: snapshots.debounce)
            do { try await snapshots.refresh() } catch { logger.error("could not rebuild the station finder's index: \(error)") }
        }
    }
}
