import Logging
import ServiceLifecycle
import Synchronization
import YizhanCore

/// The public finder's and the open data's view of the stations: one immutable
/// `FinderIndex` that every public request reads, never the database.
///
/// - Heartbeats update the station table in memory (`note`) and mark it changed; the index
///   is rebuilt from the table at most once per `debounce` (1 s): free seats change with
///   every heartbeat, so the public answers lag them by a second at most.
/// - The table is reloaded from the store every `reloadInterval` (30 s), and sooner when a
///   heartbeat comes from a station it does not know (one added since): stations added or
///   changed with `yizhan-collector station`, and heartbeats another collector received
///   (PostgreSQL, several collectors) arrive that way.
/// - `FinderSnapshotService` does this in the background; a request that finds the index
///   three times older than that rebuilds it itself (a collector run without the service,
///   as in the HTTP tests).
public final class FinderSnapshots: Sendable {
    struct State {
        var table: [String: FinderStation] = [:]
        var index: FinderIndex = .empty
        var changed = false
        var needsReload = true
        var lastReload: Timestamp?
        var building = false
    }

    let store: any CollectorStore
    let heartbeats: HeartbeatBuffer
    let debounce: Duration
    let reloadInterval: Duration
    private let state = Mutex(State())
    private let feedCache = Mutex<(feed: OpenDataFeed?, building: Bool)>((nil, false))

    init(store: any CollectorStore, heartbeats: HeartbeatBuffer, debounce: Duration = .seconds(1), reloadInterval: Duration = .seconds(30)) {
        self.store = store; self.heartbeats = heartbeats; self.debounce = debounce; self.reloadInterval = reloadInterval
    }

    /// A heartbeat as the collector accepted it.
    func note(_ h: HeartbeatRecord) {
        state.withLock { s in
            guard var station = s.table[h.station] else { s.needsReload = true; return }
            station.occupancy = h.occupancy
            station.capacity = h.live.capacity
            station.open = h.live.open
            station.amenities = FinderStation.byKind(h.live.amenities)
            station.openingHours = h.live.openingHours
            station.lastSeen = h.at
            s.table[h.station] = station
            s.changed = true
        }
    }

    /// The index as it is now. A request rebuilds it itself only when the background
    /// service has not for three times its interval (no service runs, or it lags): then
    /// one request pays for the rebuild instead of the service, never every request.
    func current(now: Timestamp = .now()) async throws -> FinderIndex {
        try await refresh(now: now, slack: 3)
        return state.withLock { $0.index }
    }

    /// Reloads and rebuilds what is due (`slack` stretches the intervals); one caller at a
    /// time does the work, the others read the index as it was.
    func refresh(now: Timestamp = .now(), slack: Int = 1) async throws {
        enum Work { case nothing, rebuild, reload }
        let work: Work = state.withLock { s in
            guard !s.building else { return .nothing }
            let reloadDue = s.lastReload.map { now - $0 >= reloadInterval * slack } ?? true
            let reload = reloadDue || (s.needsReload && s.lastReload.map { now - $0 >= debounce * slack } ?? true)
            let rebuild = s.changed && now - s.index.builtAt >= debounce * slack
            guard reload || rebuild else { return .nothing }
            s.building = true
            return reload ? .reload : .rebuild
        }
        if case .nothing = work { return }
        do {
            if case .reload = work {
                try await heartbeats.flush()
                let records = try await store.stations()
                state.withLock { s in
                    s.table = Dictionary(records.compactMap(Self.finderStation).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
                    s.needsReload = false
                    s.lastReload = now
                }
            }
            let table = state.withLock { s in s.changed = false; return s.table }
            let generation = state.withLock { $0.index.generation } + 1
            // In the table's order: the feed sorts by id itself (it is encoded far less often).
            let index = FinderIndex(stations: Array(table.values), generation: generation, builtAt: now)
            state.withLock { s in s.index = index; s.building = false }
        } catch {
            state.withLock { $0.building = false }
            throw error
        }
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
        let feed = OpenDataFeed(index, now: now, offlineAfter: offlineAfter, offset: offset)
        feedCache.withLock { $0 = (feed, false) }
        return feed
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
