import YizhanCore

extension CollectorHTTP {
    /// What the collector tells a station in answer to its heartbeat. Each part of the
    /// office → station channel fills its own fields here.
    func heartbeatAnswer(station: String, heartbeat: Heartbeat, now: Timestamp) async throws -> HeartbeatAnswer {
        var answer = HeartbeatAnswer()
        answer.resend = reconciliation.resend(for: station)
        return answer
    }
}
