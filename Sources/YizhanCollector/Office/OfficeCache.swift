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
        var loadedAt: Timestamp?
        /// Bumped by `invalidate`: a reload that started before a write does not store what it read.
        var generation = 0
    }

    static let maximumAge: Duration = .seconds(5)
    private let contents = Mutex(Contents())
    /// One reload at a time: heartbeats arriving meanwhile get the contents being replaced
    /// (a few seconds old) instead of each reading the store again.
    private let reloading = Mutex(false)

    /// The current contents, reloaded first when stale (or never loaded).
    func current(_ store: any OfficeStore, now: Timestamp = .now()) async throws -> Contents {
        let held = contents.withLock { $0 }
        if let at = held.loadedAt, now - at < Self.maximumAge, now >= at { return held }
        let mine = reloading.withLock { busy in defer { busy = true }; return !busy }
        if !mine, held.loadedAt != nil { return held }
        defer { if mine { reloading.withLock { $0 = false } } }
        var fresh = Contents()
        fresh.generation = held.generation
        fresh.rows = try await store.settingRows()
        fresh.notices = try await store.notices(endingAfter: now)
        fresh.regions = try await store.stationRegions()
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
