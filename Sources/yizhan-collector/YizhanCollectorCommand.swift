import ArgumentParser
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
        subcommands: [Serve.self, StationCommands.self, UserCommands.self])
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

/// Opens the configured store; a store that cannot be opened is a configuration problem (78).
func openStore(_ c: CollectorConfiguration, logger: Logger = Logger(label: "yizhan-collector")) async throws -> any CollectorStore {
    do {
        switch c.storage {
        case .sqlite(let path): return try SQLiteCollectorStore(path: path)
        case .postgres(let url): return try await PostgresCollectorStore(url: url, logger: logger)
        }
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
        let files = FileDescriptorLimit.raiseToHard()
        if c.limits.maximumConnections > FileDescriptorLimit.connections(fitting: files) {
            c.limits.maximumConnections = FileDescriptorLimit.connections(fitting: files)
            logger.warning("open files are limited to \(files): at most \(c.limits.maximumConnections) connections (raise LimitNOFILE= to allow [http] max_connections)")
        }
        let store = try await openStore(c, logger: logger)
        let http = CollectorHTTP(store: store, configuration: c, logger: logger)
        let stations = try await http.warmTokenCache()
        logger.info("\(stations) station(s) registered")
        let (host, port) = (c.host, c.port)
        let app = http.application(onServerRunning: { channel in
            logger.info("collector listening on http://\(host):\(channel.localAddress?.port ?? port)")
        })
        let flusher = HeartbeatFlusher(buffer: http.heartbeats, interval: .seconds(1), logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app, flusher], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await store.close()
    }
}

struct StationCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "station", abstract: "Manage stations.", subcommands: [AddStation.self])
}

struct AddStation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a station; prints its token alone on the last line (only a hash is stored).")
    @OptionGroup var options: ConfigOption
    @Option var id: String
    @Option var name: String
    @Option var district: String?
    @Option var capacity: Int = 10
    @Option var lat: Double?
    @Option var lon: Double?

    func run() async throws {
        let c = try options.load()
        guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }), (1...64).contains(id.count) else {
            throw ValidationError("--id: letters, digits, '-', '_' or '.', at most 64")
        }
        guard capacity > 0 else { throw ValidationError("--capacity must be positive") }
        let store = try await openStore(c)
        let token = Tokens.generate(prefix: "yzs_")
        do {
            try await store.addStation(StationRecord(id: id, name: name, district: district, capacity: capacity, latitude: lat,
                                                     longitude: lon, occupancy: 0, lastSeen: nil, lastAck: 0),
                                       tokenHash: Tokens.hash(token))
        } catch let e as CollectorStoreError {
            FileHandle.standardError.write(Data("yizhan-collector: \(e)\n".utf8))
            try? await store.close()
            throw ExitCode.failure
        }
        try await store.close()
        print("station \(id) added; put this token in the station's token_file:")
        print(token)
    }
}

struct UserCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [AddUser.self])
}

struct AddUser: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a user; reads the password from standard input, prints an API token alone on the last line.")
    @OptionGroup var options: ConfigOption
    @Option var name: String
    @Option var role: String
    @Option(name: .customLong("station"), help: "A station a manager may see (repeatable).") var stations: [String] = []

    func run() async throws {
        let c = try options.load()
        guard let role = UserRole(rawValue: role) else { throw ValidationError("--role must be office or manager") }
        if role == .manager && stations.isEmpty { throw ValidationError("a manager needs at least one --station") }
        guard let password = readLine(strippingNewline: true) else {
            throw ValidationError("a password is expected on standard input")
        }
        do { try PasswordRules.checkNew(password) } catch { throw ValidationError("\(error)") }
        let store = try await openStore(c)
        let token = Tokens.generate(prefix: "yzu_")
        do {
            try await store.addUser(UserRecord(name: name, role: role, stations: stations),
                                    passwordHash: Bcrypt.hash(password, cost: 12), tokenHash: Tokens.hash(token))
        } catch let e as CollectorStoreError {
            FileHandle.standardError.write(Data("yizhan-collector: \(e)\n".utf8))
            try? await store.close()
            throw ExitCode.failure
        }
        try await store.close()
        print("user \(name) (\(role.rawValue)) added; API token:")
        print(token)
    }
}
