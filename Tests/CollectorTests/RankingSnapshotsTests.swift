import Synchronization
import Testing
import YizhanCore
@testable import YizhanCollector

/// Large regions' rankings from a snapshot kept a minute: one read at a time, fresh ones
/// kept, stale ones shown while a read runs, too old ones never shown.
@Suite struct RankingSnapshotsTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)
    let key = RankingSnapshots.Key(region: "浙江省", from: 0, to: 86_400_000, columns: ["visits"])

    /// A read that counts itself and answers `visits` for station "a".
    final class Reader: Sendable {
        let reads = Atomic<Int>(0)
        func read(_ visits: Int64) -> @Sendable () async throws -> [String: RollupFigures] {
            { [self] in
                reads.add(1, ordering: .relaxed)
                var f = RollupFigures()
                f.visits = visits
                return ["a": f]
            }
        }
        var count: Int { reads.load(ordering: .relaxed) }
    }

    @Test func aFreshSnapshotIsKeptAndAnOldOneReadAgain() async throws {
        let snapshots = RankingSnapshots(maximumAge: .seconds(60))
        let reader = Reader()
        let first = try await snapshots.snapshot(key, now: t0, read: reader.read(1))
        #expect(first.totals["a"]?.visits == 1 && first.takenAt == t0 && reader.count == 1)
        let kept = try await snapshots.snapshot(key, now: t0 + .seconds(59), read: reader.read(2))
        #expect(kept.totals["a"]?.visits == 1 && reader.count == 1, "under a minute old: kept")
        // Another period or another measure is another snapshot.
        var other = key
        other.columns = ["rejected_full"]
        #expect(try await snapshots.snapshot(other, now: t0 + .seconds(59), read: reader.read(3)).totals["a"]?.visits == 3)
        // Past the limit of staleness the page waits for the read.
        let fresh = try await snapshots.snapshot(key, now: t0 + snapshots.staleLimit + .seconds(1), read: reader.read(4))
        #expect(fresh.totals["a"]?.visits == 4 && fresh.takenAt == t0 + snapshots.staleLimit + .seconds(1))
    }

    @Test func aStaleSnapshotIsShownWhileOneReadRunsBehindIt() async throws {
        let snapshots = RankingSnapshots(maximumAge: .seconds(60))
        let reader = Reader()
        _ = try await snapshots.snapshot(key, now: t0, read: reader.read(1))
        // The read behind waits until let go, so every page meanwhile sees the stale one.
        let (gate, open) = AsyncStream<Void>.makeStream()
        let blocked: @Sendable () async throws -> [String: RollupFigures] = {
            for await _ in gate { break }
            return try await reader.read(2)()
        }
        let later = t0 + .seconds(90)
        for i in 0..<5 {
            let s = try await snapshots.snapshot(key, now: later + .seconds(Int64(i)), read: blocked)
            #expect(s.totals["a"]?.visits == 1 && s.takenAt == t0, "stale but within the limit: shown at once")
        }
        open.yield()
        open.finish()
        // Once the one read behind it is done, its snapshot is the one shown.
        var seen: Int64 = 0
        for _ in 0..<10_000 where seen != 2 {
            seen = try await snapshots.snapshot(key, now: later + .seconds(10), read: reader.read(3)).totals["a"]?.visits ?? 0
            await Task.yield()
        }
        #expect(seen == 2)
        #expect(reader.count == 2, "five stale pages, one read")
    }

    @Test func pagesAskingAtOnceShareOneRead() async throws {
        let snapshots = RankingSnapshots()
        let reader = Reader()
        let (gate, open) = AsyncStream<Void>.makeStream()
        let blocked: @Sendable () async throws -> [String: RollupFigures] = {
            for await _ in gate { break }
            return try await reader.read(7)()
        }
        let answers = try await withThrowingTaskGroup(of: Int64.self) { group in
            for _ in 0..<8 { group.addTask { try await snapshots.snapshot(key, now: t0, read: blocked).totals["a"]?.visits ?? -1 } }
            open.yield()
            open.finish()
            return try await group.reduce(into: [Int64]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: 7, count: 8))
        #expect(reader.count == 1)
    }

    struct Broken: Error {}

    @Test func aFailedReadIsEveryWaitersErrorAndTheNextPageReadsAgain() async throws {
        let snapshots = RankingSnapshots()
        let reader = Reader()
        await #expect(throws: Broken.self) { try await snapshots.snapshot(key, now: t0) { throw Broken() } }
        #expect(try await snapshots.snapshot(key, now: t0 + .seconds(1), read: reader.read(5)).totals["a"]?.visits == 5)
    }

    @Test func onlyTheLastUsedAreKept() async throws {
        let snapshots = RankingSnapshots()
        let reader = Reader()
        for i in 0..<(RankingSnapshots.kept + 3) {
            var k = key
            k.region = "省\(i)"
            _ = try await snapshots.snapshot(k, now: t0 + .seconds(Int64(i)), read: reader.read(Int64(i)))
        }
        #expect(snapshots.count == RankingSnapshots.kept)
        // The newest is still kept: no read.
        var newest = key
        newest.region = "省\(RankingSnapshots.kept + 2)"
        _ = try await snapshots.snapshot(newest, now: t0 + .seconds(20), read: reader.read(99))
        #expect(reader.count == RankingSnapshots.kept + 3)
    }
}
