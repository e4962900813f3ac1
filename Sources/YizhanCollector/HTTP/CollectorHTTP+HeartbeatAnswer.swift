import YizhanCore

extension CollectorHTTP {
    /// What the collector tells a station in answer to its heartbeat. Each part of the
    /// office → station channel fills its own fields here.
    func heartbeatAnswer(station: String, heartbeat: Heartbeat, now: Timestamp) async throws -> HeartbeatAnswer {
        var answer = HeartbeatAnswer()
        answer.resend = reconciliation.resend(for: station)
        // Office settings and notices (OfficeRoutes.swift, OfficeCache.swift).
        (answer.settingsRevision, answer.notices) = OfficeCache.answer(try await office.current(store, now: now), station: station,
                                                                       now: now, offset: configuration.utcOffset)
        // A finder that cannot load its index must not fail the heartbeat.
        answer.onward = try? await onwardStations(for: station, now: now)
        return answer
    }
}
