import Synchronization
import YizhanCore

/// Every station's ranking figures for a large region and a period, read whole and kept a
/// minute: what a region page ranks once its region holds `minimumStations` or more.
///
/// A ranking has to read every station's rows for the period, about ten a station over 30
/// days: at the nation's 186,000 stations that is some 2 M rows, seconds of the database,
/// and each open dashboard page reloads every `OfficeRegionPage.refreshSeconds`. So a page
/// ranks from a snapshot at most `maximumAge` old and says how old; one read at a time per
/// region and period, whatever the number of pages asking (as the TimescaleDB continuous
/// aggregate that answers from what it materialised, not from the raw rows each time).
/// Once a snapshot is older than `maximumAge` the page still gets it, up to `staleLimit`,
/// while a fresh read runs in the background; older than that, the page waits for the read.
/// Late data (a week-old backlog) shows at the next read, like any other: the snapshot is
/// every row as of its time, never patched.
///
/// The figures shown beside the ranked stations (previous period, a year earlier) are read
/// fresh for those 20 stations; `/api/v1/rankings` reads fresh at every size.
final class RankingSnapshots: Sendable {
    /// A region and a period, and the columns read (the measure's).
    struct Key: Hashable, Sendable {
        var region: String
        var from: Int64
        var to: Int64
        var columns: [String]
    }

    struct Snapshot: Sendable {
        var totals: [String: RollupFigures]
        /// When the read started: every row stored before then is in it.
        var takenAt: Timestamp
    }

    /// From this many stations in the region a page ranks from a snapshot. Below it the read
    /// is tens of milliseconds; a province's 6,000 of the nation's 186,000 took 320 ms on
    /// PostgreSQL (docs/benchmarks.md, "The nation's 186,000 stations").
    let minimumStations: Int
    /// Snapshots kept (by last use): a national one holds 186,000 stations' figures (some 100 bytes each with its key).
    static let kept = 4

    let maximumAge: Duration
    /// A page never shows one older than this.
    var staleLimit: Duration { maximumAge * 5 }

    private struct Entry {
        var snapshot: Snapshot?
        var reading: Task<Snapshot, any Error>?
        var lastUsed: Timestamp
    }

    private let entries = Mutex<[Key: Entry]>([:])

    init(minimumStations: Int = 5_000, maximumAge: Duration = .seconds(60)) {
        self.minimumStations = minimumStations
        self.maximumAge = maximumAge
    }

    /// The snapshot for `key`: the one kept while fresh enough, else from `read` (which
    /// runs at most once at a time per key).
    func snapshot(_ key: Key, now: Timestamp = .now(),
                  read: @escaping @Sendable () async throws -> [String: RollupFigures]) async throws -> Snapshot {
        enum Answer { case ready(Snapshot), wait(Task<Snapshot, any Error>) }
        let answer = entries.withLock { entries -> Answer in
            var entry = entries[key] ?? Entry(lastUsed: now)
            entry.lastUsed = now
            defer {
                entries[key] = entry
                Self.evict(&entries)
            }
            if let s = entry.snapshot, now - s.takenAt < maximumAge { return .ready(s) }
            let task = entry.reading ?? Task {
                // The lock is still held by the caller that made this task: its writes below
                // wait until `reading` is stored.
                do {
                    let fresh = Snapshot(totals: try await read(), takenAt: now)
                    self.entries.withLock { if $0[key] != nil { $0[key]!.snapshot = fresh; $0[key]!.reading = nil } }
                    return fresh
                } catch {
                    self.entries.withLock { $0[key]?.reading = nil }
                    throw error
                }
            }
            entry.reading = task
            if let s = entry.snapshot, now - s.takenAt < staleLimit { return .ready(s) }
            return .wait(task)
        }
        switch answer {
        case .ready(let s): return s
        case .wait(let task): return try await task.value
        }
    }

    /// How many snapshots are kept (tests).
    var count: Int { entries.withLock { $0.values.filter { $0.snapshot != nil }.count } }

    private static func evict(_ entries: inout [Key: Entry]) {
        while entries.count > kept, let oldest = entries.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
            entries[oldest] = nil
        }
    }
}
