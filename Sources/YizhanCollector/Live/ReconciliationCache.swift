import Logging
import Synchronization
import YizhanCore

/// Reconciliation at the collector: compares a station's per-day counts (from its
/// heartbeat) with the events the store holds, and remembers per station what it found, so
/// a day already found whole is not counted again until the station reports it changed or
/// `recheckAfter` has passed (the collector's own data can be lost too: a restore from backup).
/// The gaps travel in the station's live state (the store), so every collector on one
/// database raises and resolves the same `sequence_gap` alerts.
final class ReconciliationCache: Sendable {
    private struct Entry {
        var whole: [String: (count: DayCount, checked: Timestamp)] = [:]
        var gaps: [String: String] = [:]
        var resend: ResendRange?
    }
    private let entries = Mutex<[String: Entry]>([:])

    /// At most this many events asked for in one answer.
    static let resendLimit: Int64 = 1000

    /// The station's gaps per day after comparing `days` with the store; nil when the
    /// station reports no counts (an older station).
    func check(station: String, days: [DayCount]?, store: any CollectorStore, now: Timestamp,
               recheckAfter: Duration) async throws -> [String: String]? {
        guard let days else { return nil }
        let known = entries.withLock { $0[station] ?? Entry() }
        var next = Entry()
        for d in days {
            if let w = known.whole[d.day], w.count == d, now - w.checked < recheckAfter { next.whole[d.day] = w; continue }
            let held = try await store.eventCount(station: station, seqs: d.firstSeq...d.lastSeq)
            if held >= d.count { next.whole[d.day] = (d, now); continue }
            let missing = ReconciliationCheck.missing(d, held: try await store.eventSeqs(station: station, seqs: d.firstSeq...d.lastSeq))
            guard let first = missing.first else { next.whole[d.day] = (d, now); continue }
            next.gaps[d.day] = ReconciliationCheck.describe(missing)
            if next.resend == nil {
                next.resend = ResendRange(fromSeq: first.lowerBound, toSeq: min(first.upperBound, first.lowerBound + Self.resendLimit - 1))
            }
        }
        let entry = next
        entries.withLock { $0[station] = entry }
        return entry.gaps
    }

    /// `check`, for the heartbeat: a store that fails to answer keeps the gaps found before
    /// (a heartbeat is not refused, and an open sequence_gap is not resolved by an error).
    func gaps(station: String, days: [DayCount]?, store: any CollectorStore, now: Timestamp, recheckAfter: Duration,
              logger: Logger) async -> [String: String]? {
        do { return try await check(station: station, days: days, store: store, now: now, recheckAfter: recheckAfter) } catch {
            logger.warning("reconciliation of \(station) failed: \(String(reflecting: error))")
            return entries.withLock { $0[station]?.gaps }
        }
    }

    /// The range to ask this station for in the answer to its heartbeat.
    func resend(for station: String) -> ResendRange? { entries.withLock { $0[station]?.resend } }
}
