import Synchronization
import YizhanCore

/// What heartbeat answers need from the office's decisions — the settings rows, the
/// notices not over, each station's region — read from the store at most every
/// `maximumAge` (heartbeats come thousands a second) and at once after this collector
/// wrote. Another collector's write on the same PostgreSQL reaches stations within
/// `maximumAge` plus a heartbeat.
final class OfficeCache: Sendable {
    struct Contents: Sendable {
        var rows: [OfficeSettingRow] = []
        var notices: [NoticeRecord] = []
        var regions: [String: RegionPath] = [:]
        /// The station list's revision `regions` was read at (StationRosterStore).
        var rosterRevision: Int64?
        var loadedAt: Timestamp?
        /// Bumped by `invalidate`: a reload that started before a write does not store what it read.
        var generation = 0
    }

    static let maximumAge: Duration = .seconds(5)
    private let contents = Mutex(Contents())
    /// The reload under way, if any: one at a time. Heartbeats arriving meanwhile get the
    /// contents being replaced (a few seconds old) or, before the first load, wait for it —
    /// never each read the store again (at 500 heartbeats a second and 200,000 stations,
    /// that herd kept a collector busy for minutes after its start).
    private let reloading = Mutex<(task: Task<Contents, any Error>, generation: Int)?>(nil)

    /// The current contents, reloaded first when stale (or never loaded).
    func current(_ store: any OfficeStore & StationRosterStore, now: Timestamp = .now()) async throws -> Contents {
        let held = contents.withLock { $0 }
        if let at = held.loadedAt, now - at < Self.maximumAge, now >= at { return held }
        let (task, started) = reloading.withLock { running -> (Task<Contents, any Error>, Bool) in
            // A reload that started before this collector's last write would answer without it.
            if let running, running.generation == held.generation { return (running.task, false) }
            let task = Task { try await self.reload(store, after: held, now: now) }
            running = (task, held.generation)
            return (task, true)
        }
        if !started, held.loadedAt != nil { return held }
        return try await task.value
    }

    private func reload(_ store: any OfficeStore & StationRosterStore, after held: Contents, now: Timestamp) async throws -> Contents {
        defer { reloading.withLock { if $0?.generation == held.generation { $0 = nil } } }
        var fresh = Contents()
        fresh.generation = held.generation
        fresh.rows = try await store.settingRows()
        fresh.notices = try await store.notices(endingAfter: now)
        // Every station's region is 200,000 rows nationally (seconds of a core to read and
        // parse): read again only when the station list changed, not every `maximumAge`.
        fresh.rosterRevision = try await store.stationRosterRevision()
        fresh.regions = fresh.rosterRevision == held.rosterRevision ? held.regions : try await store.stationRegions()
        fresh.loadedAt = now
        contents.withLock { if $0.generation == fresh.generation { $0 = fresh } }
        return fresh
    }

    /// Forgets what was read (after a write), so the next answer reads again.
    func invalidate() { contents.withLock { $0.loadedAt = nil; $0.generation += 1 } }

    /// A station's part of a heartbeat answer: its desired revision and its notices.
    static func answer(_ c: Contents, station: String, now: Timestamp, offset: UTCOffset) -> (revision: Int64, notices: [OfficeNotice]) {
        let region = c.regions[station] ?? .nation
        let revision = OfficeSettingsResolver.resolve(c.rows, station: station, region: region).revision
        let notices = c.notices
            .filter { $0.until > now && $0.from < now + OfficeNotice.lookAhead && $0.audience.covers(station: station, region: region) }
            .sorted { $0.id < $1.id }
            .map { $0.wire(offset: offset) }
        return (revision, notices)
    }
}
