import Logging
import YizhanCore

/// Carries out the collector's answer to a heartbeat at the station. Each part of the
/// office → station channel handles its own fields here.
struct HeartbeatAnswerHandler: Sendable {
    let logger: Logger
    let onward: OnwardList

    func handle(_ answer: HeartbeatAnswer) async {
        if let list = answer.onward { onward.update(list, logger: logger) }
    }
}
