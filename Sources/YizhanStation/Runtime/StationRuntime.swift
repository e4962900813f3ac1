import Foundation
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle
import Synchronization
import YizhanCore
import YizhanWeb
#if canImport(Glibc)
import Glibc
#endif

/// The station daemon, assembled: store → recorder (state rebuilt from the log) → readers
/// → HTTP listeners → systemd readiness and watchdog. `services()` gives the executable
/// the long-running pieces for its `ServiceGroup`; shutdown runs in reverse order.
public final class StationRuntime: Sendable {
    public let configuration: StationConfiguration
    public let store: EventStore
    public let keyer: CardKeyer
    public let recorder: VisitRecorder
    public let registry: ReaderRegistry
    public let liveness: Liveness
    public let prometheus: PrometheusCollectorRegistry
    public let logger: Logger
    public let systemd: SystemdNotifier
    public let startedAt: Timestamp
    public let uplink: Uplink?
    /// Office settings applied and notices shown (kept in the data directory).
    public let office: StationOffice
    /// The kiosk pages' live feed (Server-Sent Events).
    public let kiosk = KioskFeed()
    let deviceChanges = DeviceChangeNotifier()
    private let listenersRunning = Atomic<Int>(0)
    private let tcpPort = Atomic<Int>(0)
    /// Called once both listeners accept connections (tests, benchmarks).
    private let readyHandler: (@Sendable () -> Void)?

    public init(configuration: StationConfiguration, prometheus: PrometheusCollectorRegistry, logger: Logger,
                systemd: SystemdNotifier = SystemdNotifier(), onReady: (@Sendable () -> Void)? = nil) throws {
        self.configuration = configuration
        self.prometheus = prometheus
        self.logger = logger
        self.systemd = systemd
        self.readyHandler = onReady
        self.startedAt = .now()
        let dir = configuration.station.dataDirectory
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o750])
        } catch {
            throw ConfigurationError(file: configuration.file, line: nil,
                                     message: "[station] data_dir \(dir): cannot create: \(error.localizedDescription)")
        }
        keyer = try configuration.loadCardKeyer()
        store = try EventStore(path: dir + "/station.db", stationID: configuration.station.id)
        registry = ReaderRegistry(readers: configuration.readers)
        liveness = Liveness()
        office = StationOffice(directory: dir, base: configuration.policy, amenities: configuration.amenities, pinned: configuration.station.pinnedSettings, logger: logger)
        recorder = try VisitRecorder(store: store, keyer: keyer, policy: office.startingPolicy, registry: registry,
                                     liveness: liveness, logger: logger, amenities: office.startingAmenities)
        recorder.observe { [kiosk, configuration] _, outcomes in
            guard kiosk.count > 0 else { return }
            let offset = configuration.station.utcOffset
            for o in outcomes {
                kiosk.publish(KioskFeed.frame(event: "swipe", KioskSwipe(
                    kind: o.kind.rawValue, name: o.displayName, time: RFC3339.format(o.time, offset: offset),
                    ratingSeconds: o.kind == .checkOut ? Int(StationState.ratingWindow.components.seconds) : nil)))
            }
        }
        if let settings = configuration.uplink {
            uplink = Uplink(configuration: configuration, uplink: settings, store: store, recorder: recorder,
                                   registry: registry, logger: logger, office: office)
        } else {
            uplink = nil
        }
    }

    /// The services in start order: recorder, uplink, readers, HTTP (TCP, unix socket), watchdog.
    public func services() -> [any Service] {
        var services: [any Service] = []
        services.append(LoopService("recorder") { [recorder] in await recorder.run() })
        if let uplink { services += uplink.services }
        services.append(LoopService("readers") { [self] in await runReaders() })
        let http = StationHTTP(runtime: self)
        let limits = configuration.http.limits
        let tcp = Application(
            router: http.router(for: .tcp),
            server: limits.server,
            configuration: limits.applicationConfiguration(address: .hostname(configuration.http.host, port: configuration.http.port),
                                                           serverName: "yizhan-station", logger: logger),
            onServerRunning: { [self] channel in
                let port = channel.localAddress?.port ?? configuration.http.port
                tcpPort.store(port, ordering: .relaxed)
                logger.info("listening on http://\(configuration.http.host):\(port) (/healthz, /metrics)")
                listenerStarted()
            },
            logger: logger)
        let socketPath = configuration.http.socketPath
        removeStaleSocket(socketPath)
        let unix = Application(
            router: http.router(for: .unixSocket),
            server: limits.server,
            configuration: limits.applicationConfiguration(address: .unixDomainSocket(path: socketPath), serverName: "yizhan-station", logger: logger),
            onServerRunning: { [self] _ in
                // Operators reach the API through the group of the data directory.
                chmod(socketPath, 0o660)
                logger.info("API on unix socket \(socketPath)")
                listenerStarted()
            },
            logger: logger)
        services.append(tcp)
        services.append(unix)
        // Stops before the listeners (services stop in reverse order): open kiosk streams end,
        // so the servers' graceful shutdown does not wait on them.
        services.append(LoopService("kiosk-feed") { [self] in await publishKioskState() })
        if let interval = SystemdNotifier.watchdogInterval() {
            let pinger = WatchdogPinger(notifier: systemd, interval: interval, liveness: liveness, logger: logger)
            services.append(LoopService("watchdog") { await pinger.run() })
        }
        return services
    }

    /// The kiosk's state after every commit, and every 5 s (opening hours, the uplink).
    private func publishKioskState() async {
        let (commits, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        recorder.observe { _, _ in continuation.yield() }
        office.observe { continuation.yield() }  // new settings or notices
        let ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(5))
                continuation.yield()
            }
        }
        await withTaskCancellationHandler {
            for await _ in commits where kiosk.count > 0 {
                kiosk.publish(KioskFeed.frame(event: "state", kioskState()))
            }
        } onCancel: {
            continuation.finish()
        }
        ticker.cancel()
        kiosk.finishAll()
    }

    /// The TCP port actually bound, once listening (useful with `listen = "127.0.0.1:0"`).
    public var boundTCPPort: Int? {
        let p = tcpPort.load(ordering: .relaxed)
        return p == 0 ? nil : p
    }

    private func listenerStarted() {
        if listenersRunning.add(1, ordering: .relaxed).newValue == 2 {
            // Store open, state rebuilt, readers watched, API listening.
            recorder.recordStart(version: YizhanVersion.current)
            systemd.notify("READY=1\nSTATUS=\(configuration.readers.count) reader(s), occupancy \(recorder.snapshot.occupancy)")
            logger.info("station \(configuration.station.id) ready")
            readyHandler?()
        }
    }

    private func removeStaleSocket(_ path: String) {
        var st = stat()
        if lstat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
    }

    private func runReaders() async {
        let monitor = UdevMonitor(logger: logger) { [deviceChanges, logger] action, node in
            logger.debug("udev \(action) \(node ?? "")")
            deviceChanges.notify()
        }
        if let monitor { logger.info("watching \(monitor.origin) events for tty and input devices") }
        defer { monitor?.stop() }
        if configuration.readers.isEmpty {
            logger.warning("no [[readers]] configured: nothing will be read (the API and /metrics still answer)")
        }
        await withTaskGroup(of: Void.self) { group in
            for reader in configuration.readers {
                let supervisor = ReaderSupervisor(config: reader, sink: recorder, registry: registry,
                                                  notifier: deviceChanges, liveness: liveness, logger: logger)
                group.addTask { await supervisor.run() }
            }
            await group.waitForAll()
        }
        // Supervisors only return when cancelled; with no readers, stay until shutdown
        // (a service that returns early would stop the whole group).
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
    }

    public func status(now: Timestamp = .now()) -> StationStatus {
        let offset = configuration.station.utcOffset
        let snapshot = recorder.snapshot
        // The policy the recorder applies: the one capacity and the one set of hours.
        let policy = recorder.policy
        let readers = registry.snapshot().map {
            StationStatus.Reader(name: $0.name, protocol: $0.protocol, device: $0.device, state: $0.state,
                                 since: $0.since.map { RFC3339.format($0, offset: offset) }, detail: $0.detail,
                                 reads: $0.reads, badReads: $0.badReads)
        }
        let uplinkStatus: StationStatus.Uplink
        if let u = uplink?.snapshot {
            uplinkStatus = StationStatus.Uplink(
                state: u.state, backlog: max(0, snapshot.lastSeq - u.lastAck), lastAck: u.lastAck, detail: u.detail,
                sent: u.sentEvents, retried: u.retries, quarantined: u.quarantined,
                lastHeartbeat: u.lastHeartbeat.map { RFC3339.format($0, offset: offset) })
        } else {
            uplinkStatus = StationStatus.Uplink(state: .notConfigured, backlog: 0, lastAck: 0)
        }
        var status = StationStatus(
            stationID: configuration.station.id, name: configuration.station.name, occupancy: snapshot.occupancy,
            capacity: policy.capacity, full: snapshot.occupancy >= policy.capacity,
            open: policy.hours.isOpen(at: now), mode: policy.mode.rawValue,
            readers: readers, uplink: uplinkStatus, lastSeq: snapshot.lastSeq, time: RFC3339.format(now, offset: offset),
            startedAt: RFC3339.format(startedAt, offset: offset), version: YizhanVersion.current)
        status.amenities = recorder.amenities.entries.map { StationStatus.Amenity($0, offset: offset) }
        let officeState = office.snapshot
        status.settingsRevision = officeState.revision
        status.settingsError = officeState.error
        status.settingsPinned = office.pinned.isEmpty ? nil : office.pinned.map(\.rawValue).sorted()
        return status
    }

    /// Called by the executable when shutdown begins.
    public func stopping() {
        systemd.notify("STOPPING=1")
        logger.info("stopping")
    }
}

/// A named loop that runs until graceful shutdown cancels it (the name is what the
/// service group logs).
struct LoopService: Service, CustomStringConvertible {
    let description: String
    let body: @Sendable () async -> Void
    init(_ name: String, _ body: @escaping @Sendable () async -> Void) { self.description = name; self.body = body }
    func run() async throws {
        try await cancelWhenGracefulShutdown { await body() }
    }
}
