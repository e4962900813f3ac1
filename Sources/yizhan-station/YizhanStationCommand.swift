import ArgumentParser
import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import YizhanCore
import YizhanStation

@main
struct YizhanStationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yizhan-station",
        abstract: "The Yizhan station daemon: card readers → durable, private visit log → status.",
        discussion: """
            Reads ID cards and RFID cards from serial (GA 467 SAM, RDM6300, line) and USB HID readers, turns swipes into visits, and commits every event to SQLite before showing it anywhere. Serves /healthz and /metrics on the configured loopback address and the local API on a unix socket in the data directory (used by yizhanctl).

            Runs under systemd as Type=notify (see systemd/yizhan-station.service). Exit status 78 means the configuration is invalid.
            """,
        version: YizhanVersion.current)

    @Option(name: .long, help: ArgumentHelp("Station configuration (TOML).", valueName: "path"))
    var config: String = StationConfiguration.defaultPath

    @Flag(name: .long, help: "Validate the configuration and the region key, then exit.")
    var checkConfig = false

    func run() async throws {
        let configuration: StationConfiguration
        do {
            configuration = try StationConfiguration.load(path: config)
            _ = try configuration.loadCardKeyer()
        } catch {
            FileHandle.standardError.write(Data("yizhan-station: \(error)\n".utf8))
            throw ExitCode(78)  // EX_CONFIG: systemd will not restart-loop on it (RestartPreventExitStatus)
        }
        if checkConfig {
            print("\(config): ok (station \(configuration.station.id), \(configuration.readers.count) reader(s))")
            return
        }

        let level = Logger.Level(rawValue: configuration.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "yizhan-station")
        logger.logLevel = level
        let prometheus = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))

        let runtime: StationRuntime
        do {
            runtime = try StationRuntime(configuration: configuration, prometheus: prometheus, logger: logger)
        } catch {
            logger.critical("cannot start: \(error)")
            throw ExitCode(error is ConfigurationError ? 78 : 1)
        }
        let services = runtime.services() + [StoppingNotifier(runtime: runtime)]
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        try await group.run()
    }
}

/// Started last, so it hears of shutdown first: tells systemd we are stopping.
struct StoppingNotifier: Service {
    let runtime: StationRuntime
    func run() async throws {
        try? await gracefulShutdown()
        runtime.stopping()
    }
}
