import Logging
import YizhanCore

/// The office's part of a heartbeat answer at the station: keeps the notices, and fetches,
/// checks, keeps and applies the settings document when the desired revision is new.
struct OfficeAnswerHandler: Sendable {
    let office: StationOffice
    let recorder: VisitRecorder
    let client: CollectorClient
    let logger: Logger

    func handle(_ answer: HeartbeatAnswer) async {
        if let notices = answer.notices { office.replaceNotices(notices) }
        guard let desired = answer.settingsRevision, office.needsFetch(desired) else { return }
        let document: OfficeSettingsDocument
        do { document = try await client.fetchOfficeSettings() } catch {
            logger.warning("cannot fetch office settings revision \(desired): \(error)")
            return
        }
        do {
            let applied = try await office.apply(document, to: recorder)
            let policy = applied.policy
            logger.notice("office settings revision \(document.revision) applied", metadata: [
                "capacity": "\(policy.capacity)", "hours": "\(policy.hours.normalizedSpec)",
                "maximum_stay_minutes": "\(policy.maximumStay.components.seconds / 60)",
                "amenities": "\(applied.amenities.map(\.id).joined(separator: ","))"])
        } catch {
            logger.error("office settings revision \(document.revision) refused: \(error)")
        }
    }

    /// The heartbeat's office fields: what is applied, what was refused, what is pinned.
    func fill(_ beat: inout Heartbeat) {
        let s = office.snapshot
        beat.settingsRevision = s.revision
        beat.settingsError = s.error
        beat.settingsPinned = office.pinned.isEmpty ? nil : office.pinned.map(\.rawValue).sorted()
    }
}

extension StationOffice {
    /// Checks and keeps a fetched document, then swaps the recorder's rules and amenity
    /// list together (between two commits) and tells the kiosk. A refusal changes nothing.
    func apply(_ document: OfficeSettingsDocument, to recorder: VisitRecorder) async throws -> Applied {
        let applied = try accept(document)
        await recorder.replacePolicy(applied.policy, amenities: applied.amenities)
        changed()
        return applied
    }
}
