import Synchronization
import YizhanCore
import YizhanWeb

/// Every station as the store holds it, live state included, kept in memory and brought up
/// to date by reading only what changed: the stations heard since the last read, and all of
/// them again when the station list's revision moved (a station added, moved, edited) or
/// every `fullInterval` as a safety net.
///
/// Why: reading and decoding 200,000 stations' live state is seconds of a core; the finder
/// did it every 30 s and the alert evaluator every 10 s. Between two reads a national
/// network's heartbeats touch a fraction of the stations, and only those are read. The
/// copy is updated in place (copying 200,000 records is itself tens of milliseconds) and
/// built on `BackgroundWork`'s thread after a full read.
final class StationMirror: Sendable {
    struct Copy: Sendable {
        /// By id (the store's order).
        var stations: [StationRecord] = []
        var positions: [String: Int] = [:]
        var revision: Int64?
        /// When the store was last read: the next read asks for the stations heard from a
        /// little before then.
        var readAt: Timestamp?
        var fullReadAt: Timestamp?
    }

    /// What one refresh found.
    struct Read: Sendable {
        var stations: [StationRecord]
        /// Index into `stations` by id.
        var positions: [String: Int]
        /// The stations read this time; on a full read, those whose last heartbeat differs
        /// from the copy's, or new to it (all of them on the first read).
        var changed: [StationRecord]
        var full: Bool
        /// The station list's revision it was read at.
        var revision: Int64
    }

    /// Heartbeats reach the store up to a flush interval after they are stamped (with the
    /// receiving collector's clock, which may differ a little from this one's): each read
    /// overlaps the one before by this much.
    static let overlap: Duration = .seconds(15)
    let fullInterval: Duration
    private let copy = Mutex(Copy())

    init(fullInterval: Duration = .seconds(300)) { self.fullInterval = fullInterval }

    /// One caller at a time (the finder's and the alert evaluator's loops each own one).
    func refresh(_ store: any CollectorStore, now: Timestamp) async throws -> Read {
        // The small fields only: holding the arrays here would make the update below copy them.
        let (revision0, readAt, fullReadAt) = copy.withLock { ($0.revision, $0.readAt, $0.fullReadAt) }
        let revision = try await store.stationRosterRevision()
        let due = fullReadAt.map { now - $0 >= fullInterval || now < $0 } ?? true
        if !due, revision == revision0, let last = readAt {
            let changed = try await store.stations(heardSince: last - Self.overlap)
            let updated: ([StationRecord], [String: Int])? = copy.withLock { c in
                guard changed.allSatisfy({ c.positions[$0.id] != nil }) else { return nil }
                for s in changed { c.stations[c.positions[s.id]!] = s }
                c.readAt = now
                return (c.stations, c.positions)
            }
            if let updated { return Read(stations: updated.0, positions: updated.1, changed: changed, full: false, revision: revision) }
            // A station the copy does not hold (added between the two reads): read them all.
        }
        let all = try await store.stations(heardSince: nil)
        let before = copy.withLock { ($0.stations, $0.positions) }
        let (positions, changed) = try await BackgroundWork.run {
            let positions = Dictionary(all.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
            let changed = before.0.isEmpty ? all
                : all.filter { s in before.1[s.id].map { before.0[$0].lastSeen != s.lastSeen } ?? true }
            return (positions, changed)
        }
        copy.withLock { $0 = Copy(stations: all, positions: positions, revision: revision, readAt: now, fullReadAt: now) }
        return Read(stations: all, positions: positions, changed: changed, full: true, revision: revision)
    }
}
