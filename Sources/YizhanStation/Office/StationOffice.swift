import Foundation
import Logging
import Synchronization
import YizhanCore

/// What the office asked of this station and what it made of it: the settings document it
/// applies (or why it refused the last one) and the notices it shows. Both are kept in the
/// data directory (`office-settings.json`, `office-notices.json`, replaced atomically), so
/// a restart — even with the collector unreachable — applies and shows the same.
public final class StationOffice: Sendable {
    public struct Snapshot: Sendable, Hashable {
        /// The revision applied (0: none yet).
        public var revision: Int64 = 0
        /// Why the last fetched revision was refused (cleared once one is applied).
        public var error: String?
        /// The revision refused, so it is not fetched again every heartbeat.
        public var refusedRevision: Int64?
        public var notices: [OfficeNotice] = []
    }

    let base: VisitPolicy
    public let pinned: Set<OfficeSettingKey>
    let settingsPath: String
    let noticesPath: String
    let logger: Logger
    private let state: Mutex<Snapshot>
    private let observers = Mutex<[@Sendable () -> Void]>([])
    /// The policy to start with: the configured one with the kept settings over it.
    public let startingPolicy: VisitPolicy

    public init(directory: String, base: VisitPolicy, pinned: Set<OfficeSettingKey>, logger: Logger) {
        self.base = base
        self.pinned = pinned
        self.logger = logger
        settingsPath = directory + "/office-settings.json"
        noticesPath = directory + "/office-notices.json"
        var snapshot = Snapshot()
        var policy = base
        if let data = DurableFile.read(settingsPath) {
            do {
                let document = try JSONDecoder().decode(OfficeSettingsDocument.self, from: data)
                policy = try OfficeSettingValues.apply(document, to: base, pinned: pinned)
                snapshot.revision = document.revision
            } catch {
                // Never written unless it applied; a damaged file is reported and the next
                // heartbeat fetches the document again.
                logger.error("\(settingsPath): cannot apply the kept office settings (\(error)); using station.toml's until the collector answers")
            }
        }
        if let data = DurableFile.read(noticesPath), let notices = try? JSONDecoder().decode([OfficeNotice].self, from: data) {
            snapshot.notices = notices
        }
        startingPolicy = policy
        state = Mutex(snapshot)
    }

    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Called after the applied settings or the notices change (the kiosk shows them at once).
    public func observe(_ observer: @escaping @Sendable () -> Void) { observers.withLock { $0.append(observer) } }

    /// Tells the observers; the recorder's policy swap is awaited first by the caller.
    func changed() { for o in observers.withLock({ $0 }) { o() } }

    /// Whether a heartbeat answer's revision asks for a fetch: it differs from the one
    /// applied and was not refused already.
    func needsFetch(_ desired: Int64) -> Bool {
        state.withLock { $0.revision != desired && $0.refusedRevision != desired }
    }

    /// Checks a fetched document and, when every value is right, keeps it on disk; returns
    /// the policy to apply. A refusal is remembered (and reported in heartbeats), nothing
    /// else changes.
    func accept(_ document: OfficeSettingsDocument) throws -> VisitPolicy {
        let policy: VisitPolicy
        do {
            policy = try OfficeSettingValues.apply(document, to: base, pinned: pinned)
        } catch {
            state.withLock { $0.error = "revision \(document.revision): \(error)"; $0.refusedRevision = document.revision }
            throw error
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableFile.write(try encoder.encode(document), to: settingsPath)
        state.withLock { $0.revision = document.revision; $0.error = nil; $0.refusedRevision = nil }
        return policy
    }

    /// Replaces the notices with the collector's list (kept on disk when it changed).
    func replaceNotices(_ notices: [OfficeNotice], now: Timestamp = .now()) {
        let kept = notices.filter { !$0.isOver(at: now) }
        let changed = state.withLock { s in
            defer { s.notices = kept }
            return s.notices != kept
        }
        guard changed else { return }
        self.changed()
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try DurableFile.write(try encoder.encode(kept), to: noticesPath)
        } catch {
            logger.error("cannot keep the office notices in \(noticesPath): \(error)")
        }
    }

    /// The notices to show now; ones whose period ended are dropped even while offline.
    public func notices(at now: Timestamp) -> [OfficeNotice] {
        state.withLock { $0.notices }.filter { $0.isShown(at: now) }
    }
}
