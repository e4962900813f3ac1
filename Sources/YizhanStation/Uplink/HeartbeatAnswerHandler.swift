import Logging
import YizhanCore

/// Carries out the collector's answer to a heartbeat at the station. Each part of the
/// office → station channel handles its own fields here.
struct HeartbeatAnswerHandler: Sendable {
    let logger: Logger
    /// Reconciliation: sends again a range the collector lacks.
    var resender: EventResender? = nil

    func handle(_ answer: HeartbeatAnswer) async {
        if let range = answer.resend { await resender?.resend(range) }
    }
}
