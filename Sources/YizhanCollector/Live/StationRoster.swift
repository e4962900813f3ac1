import Synchronization
import YizhanCore

/// The station list in memory, for the office's questions: who may see which stations, a
/// region's stations, their names and capacities. Read from the store again only when its
/// `stationRosterRevision` moved (a station added, removed or edited anywhere), and at least
/// every `maximumAge` for the live capacity rankings divide by. A question then costs one
/// one-row read instead of loading every station, a load that grows with the network (at
/// 1,000 stations a question over HTTP cost about 7 ms more than in-process, part of it
/// this; docs/benchmarks.md).
///
/// The records' live state (occupancy, last seen) may be `maximumAge` old: questions read
/// rollups, not live state; the live pages read the store (`CollectorHTTP.directory`).
final class StationRoster: Sendable {
    struct Copy: Sendable {
        var revision: Int64
        var stations: [StationRecord]
        var readAt: Timestamp
    }

    static let maximumAge: Duration = .seconds(60)
    private let copy = Mutex<Copy?>(nil)

    func stations(_ store: any CollectorStore, now: Timestamp = .now()) async throws -> [StationRecord] {
        let revision = try await store.stationRosterRevision()
        if let held = copy.withLock({ $0 }), held.revision == revision, now - held.readAt < Self.maximumAge, now >= held.readAt {
            return held.stations
        }
        let stations = try await store.stations()
        // Stores what it read only if nothing newer was stored meanwhile.
        copy.withLock { c in
            if c == nil || c!.revision <= revision { c = Copy(revision: revision, stations: stations, readAt: now) }
        }
        return stations
    }
}
