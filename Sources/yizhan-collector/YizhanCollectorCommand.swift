import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import HummingbirdBcrypt
import Logging
import ServiceLifecycle
import YizhanCollector
import YizhanCore
import YizhanWeb

@main
struct YizhanCollectorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yizhan-collector",
        abstract: "The Yizhan central collector: ingests every station's events once, keeps their live state, answers the office.",
        version: YizhanVersion.current,
        subcommands: [Serve.self, StationCommands.self, UserCommands.self, RollupCommands.self,
                      SettingsCommands.self, NoticeCommands.self, AlertCommands.self])
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Collector configuration (TOML).", valueName: "path"))
    var config: String = CollectorConfiguration.defaultPath

    func load() throws -> CollectorConfiguration {
        do {
            return try CollectorConfiguration.load(path: config)
        } catch {
            FileHandle.standardError.write(Data("yizhan-collector: \(error)\n".utf8))
            throw ExitCode(78)
        }
    }
}

/// Runs the configured store while `body` uses it; a store that cannot be opened or
/// prepared is a configuration problem (78). `body` reports its own errors.
func withStore<T: Sendable>(_ c: CollectorConfiguration, logger: Logger = Logger(label: "yizhan-collector"),
                            _ body: (any CollectorStore) async throws -> T) async throws -> T {
    do {
        return try await CollectorStores.with(c.storage.url, logger: logger, reportOffset: c.utcOffset, body)
    } catch let e as ExitCode {
        throw e
    } catch {
        FileHandle.standardError.write(Data("yizhan-collector: cannot open the store (\(c.storage.redacted)): \(String(reflecting: error))\n".utf8))
        throw ExitCode(78)
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the collector's HTTP server.")
    @OptionGroup var options: ConfigOption

    func run() async throws {
        var c = try options.load()
        let level = Logger.Level(rawValue: c.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "yizhan-collector")
        limitMallocArenas()
        let files = FileDescriptorLimit.raiseToHard()
        if c.limits.maximumConnections > FileDescriptorLimit.connections(fitting: files) {
            c.limits.maximumConnections = FileDescriptorLimit.connections(fitting: files)
            logger.warning("open files are limited to \(files): at most \(c.limits.maximumConnections) connections (raise LimitNOFILE= to allow [http] max_connections)")
        }
        let store: any CollectorStore
        do { store = try CollectorStores.make(c.storage.url, logger: logger, reportOffset: c.utcOffset) } catch {
            FileHandle.standardError.write(Data("yizhan-collector: cannot open the store (\(c.storage.redacted)): \(error)\n".utf8))
            throw ExitCode(78)
        }
        let http = CollectorHTTP(store: store, configuration: c, logger: logger)
        let (host, port) = (c.host, c.port)
        var app = http.application(onServerRunning: { channel in
            logger.info("collector listening on http://\(host):\(channel.localAddress?.port ?? port)")
        })
        // The store runs as the first service (it stops last); the schema and the token
        // cache are ready before the listener opens.
        let readiness = StoreReadiness()
        app.beforeServerStarts {
            try await store.prepare()
            readiness.markReady()
            let stations = try await http.warmTokenCache()
            logger.info("\(stations) station(s) registered")
        }
        let flusher = HeartbeatFlusher(buffer: http.heartbeats, interval: .seconds(1), logger: logger)
        let upkeep = StoreMaintenanceService(store: store, retentionMonths: c.rawRetentionMonths, logger: logger)
        let finder = FinderSnapshotService(http: http, logger: logger)
        var services: [any Service] = [CollectorStoreService(store), flusher, upkeep, finder]
        if c.alerts.enabled {
            // Both wait for the schema (readiness), then run beside the server.
            services += [AlertEvaluationService(store: store, configuration: c.alerts, offset: c.utcOffset, logger: logger,
                                                readiness: readiness, live: http.live),
                         AlertDeliveryService(store: store, configuration: c.alerts, logger: logger, readiness: readiness)]
        }
        let group = ServiceGroup(configuration: .init(services: services + [app],
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await store.close()
    }
}

/// Two malloc arenas instead of glibc's eight per core: the collector's RSS grew with freed
/// memory kept in per-thread arenas, not with live objects (docs/benchmarks.md, "Collector
/// memory under load"). An explicit MALLOC_ARENA_MAX (the unit sets one) wins. Swift's Glibc
/// module does not export `mallopt`, hence `dlsym`.
func limitMallocArenas() {
    #if canImport(Glibc)
    if ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil, let symbol = dlsym(nil, "mallopt") {
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        _ = unsafeBitCast(symbol, to: Mallopt.self)(-8 /* M_ARENA_MAX */, 2)
    }
    #endif
}
