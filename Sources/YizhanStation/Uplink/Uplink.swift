import Logging
import ServiceLifecycle
import YizhanCore

/// The station's link to the collector: three services sharing one client and one status
/// (the outbox of events, heartbeats, retention of what the collector has).
public struct Uplink: Sendable {
    public let status = UplinkStatus()
    /// The stations the kiosk points workers on to, from the heartbeat answers.
    public let onward: OnwardList
    let client: CollectorClient
    let services: [any Service]

    public init(configuration: StationConfiguration, uplink: StationConfiguration.Uplink, store: EventStore,
                recorder: VisitRecorder, registry: ReaderRegistry, logger: Logger, office: StationOffice? = nil) {
        let client = CollectorClient(uplink: uplink, stationID: configuration.station.id)
        self.client = client
        let newEvents = DeviceChangeNotifier()
        recorder.observe { _, _ in newEvents.notify() }
        let clock = ContinuousClock()
        onward = OnwardList(directory: configuration.station.dataDirectory)
        var answers = HeartbeatAnswerHandler(logger: logger, resender: EventResender(
            store: store, client: client, offset: configuration.station.utcOffset, logger: logger, batchEvents: uplink.batchEvents),
            onward: onward)
        if let office { answers.office = OfficeAnswerHandler(office: office, recorder: recorder, client: client, logger: logger) }
        services = [
            ClientShutdown(client: client),
            OutboxService(configuration: configuration, uplink: uplink, store: store, recorder: recorder, client: client,
                          status: status, newEvents: newEvents, logger: logger, clock: clock),
            HeartbeatService(configuration: configuration, uplink: uplink, recorder: recorder, registry: registry,
                             client: client, status: status, answers: answers, logger: logger, clock: clock),
            RetentionService(storage: configuration.storage, store: store, logger: logger, clock: clock),
        ]
    }

    public var snapshot: UplinkStatus.Snapshot { status.snapshot }
}

/// Closes the HTTP client once the uplink's services have stopped (it is listed first of
/// them, so the service group stops it last).
private struct ClientShutdown: Service, CustomStringConvertible {
    let client: CollectorClient
    var description: String { "collector-client" }
    func run() async throws {
        try? await gracefulShutdown()
        await client.shutdown()
    }
}
