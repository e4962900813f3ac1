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

    /// What the station applies from a settings document: the rules and the amenity list.
    public struct Applied: Sendable, Hashable {
        public var policy: VisitPolicy
        public var amenities: [AmenityDefinition]
    }

    let base: VisitPolicy
    /// station.toml's `[[amenities]]`: the list without the office's, and the details
    /// (ids, names) for the kinds the office lists.
    let baseAmenities: [AmenityDefinition]
    public let pinned: Set<OfficeSettingKey>
    let settingsPath: String
    let noticesPath: String
    let logger: Logger
    private let state: Mutex<Snapshot>
    private let observers = Mutex<[@Sendable () -> Void]>([])
    /// The policy to start with: the configured one with the kept settings over it.
    public let startingPolicy: VisitPolicy
    /// The amenities to start with: station.toml's, or the kept office list's selection.
    public let startingAmenities: [AmenityDefinition]

    public init(directory: String, base: VisitPolicy, amenities: [AmenityDefinition] = [], pinned: Set<OfficeSettingKey>, logger: Logger) {
        self.base = base
        self.baseAmenities = amenities
        self.pinned = pinned
        self.logger = logger
        settingsPath = directory + "/office-settings.json"
        noticesPath = directory + "/office-notices.json"
        var snapshot = Snapshot()
        var applied = Applied(policy: base, amenities: amenities)
        if let data = DurableFile.read(settingsPath) {
            do {
                let document = try JSONDecoder().decode(OfficeSettingsDocument.self, from: data)
                applied = try Self.applied(document, base: base, amenities: amenities, pinned: pinned)
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
        startingPolicy = applied.policy
        startingAmenities = applied.amenities
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
    /// the policy and the amenities to apply. A refusal is remembered (and reported in
    /// heartbeats), nothing else changes.
    func accept(_ document: OfficeSettingsDocument) throws -> Applied {
        let result: Applied
        do {
            result = try Self.applied(document, base: base, amenities: baseAmenities, pinned: pinned)
        } catch {
            state.withLock { $0.error = "revision \(document.revision): \(error)"; $0.refusedRevision = document.revision }
            throw error
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableFile.write(try encoder.encode(document), to: settingsPath)
        state.withLock { $0.revision = document.revision; $0.error = nil; $0.refusedRevision = nil }
        return result
    }

    /// Both parts checked before either is used: one wrong value refuses the whole document.
    static func applied(_ document: OfficeSettingsDocument, base: VisitPolicy, amenities: [AmenityDefinition],
                        pinned: Set<OfficeSettingKey>) throws(OfficeSettingError) -> Applied {
        Applied(policy: try OfficeSettingValues.apply(document, to: base, pinned: pinned),
                amenities: try OfficeAmenities.apply(document, to: amenities, pinned: pinned))
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
