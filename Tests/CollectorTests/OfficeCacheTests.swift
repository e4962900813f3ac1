import Testing
@testable import YizhanCollector
import YizhanCore
import YizhanWeb
#if canImport(Glibc)
import Glibc
#endif

/// What heartbeat answers read: loaded once for everyone, regions read again when a station
/// moved.
@Suite struct OfficeCacheTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)

    @Test func manyAnswersAtOnceShareOneLoadAndAMovedStationIsSeen() async throws {
        try await withStore(.sqlite) { store, _ in
            try await store.addStation(StationRecord(id: "a", name: "a", region: RegionPath(parsing: "浙江省/舟山市/普陀区")!, capacity: 6),
                                       tokenHash: Tokens.hash("ta"))
            let cache = OfficeCache()
            // Before the first load every caller gets loaded contents, none an empty one.
            let loaded = try await withThrowingTaskGroup(of: OfficeCache.Contents.self) { group in
                for _ in 0..<50 { group.addTask { try await cache.current(store, now: t0) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(loaded.allSatisfy { $0.loadedAt != nil && $0.regions["a"]?.description == "浙江省/舟山市/普陀区" })
            // Moved to another district: the next reload reads the regions again.
            _ = try await store.importStations([StationRecord(id: "a", name: "a", region: RegionPath(parsing: "浙江省/舟山市/定海区")!, capacity: 6)],
                                               tokenHashes: [:])
            let after = try await cache.current(store, now: t0 + OfficeCache.maximumAge)
            #expect(after.regions["a"]?.description == "浙江省/舟山市/定海区")
        }
    }

    @Test func nicedWorkRunsAtTheBackgroundPriorityAndRestoresIt() throws {
        #if canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let before = getpriority(which, 0)
        let inside = BackgroundWork.niced { getpriority(which, 0) }
        #expect(inside == max(before, 5) && getpriority(which, 0) == before)
        #endif
    }
}
