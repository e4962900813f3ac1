import Logging
import YizhanCore

/// Carries out the collector's answer to a heartbeat at the station. Each part of the
/// office → station channel handles its own fields here.
struct HeartbeatAnswerHandler: Sendable {
    let logger: Logger
    /// Reconciliation: sends again a range the collector lacks.
    var resender: EventResender? = nil
    /// Office settings and notices (nil when the station runs without them, in tests).
    var office: OfficeAnswerHandler? = nil
    /// The kiosk's onward list, kept for when the link is down.
    var onward: OnwardList? = nil

    func handle(_ answer: HeartbeatAnswer) async {
        await office?.handle(answer)
        if let list = answer.onward { onward?.update(list, logger: logger) }
        if let range = answer.resend { await resender?.resend(range) }
    }
}
