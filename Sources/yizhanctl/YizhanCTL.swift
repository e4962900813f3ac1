import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

@main
struct YizhanCTL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "yizhanctl",
        abstract: "Manage a Yizhan station: status, visit log, readers, close the day, simulated readers.",
        discussion: """
            Finds the daemon from the station configuration (the unix socket in [station] data_dir, or [http] socket). Operators need to be in the socket's group.
            """,
        version: YizhanVersion.current,
        subcommands: [Status.self, Log.self, Readers.self, Amenity.self, Manager.self, CheckoutAll.self, Simulate.self])

    // `yizhanctl --config PATH status` and `yizhanctl status --config PATH` both work.
    @Option(name: .long, help: ArgumentHelp("Station configuration (TOML; default \(StationConfiguration.defaultPath)).", valueName: "path"))
    var config: String?
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Station configuration (TOML; default \(StationConfiguration.defaultPath)).", valueName: "path"))
    var config: String?

    func load(_ root: YizhanCTL) throws -> StationConfiguration {
        let path = config ?? root.config ?? StationConfiguration.defaultPath
        do {
            return try StationConfiguration.load(path: path)
        } catch {
            throw CLIError("\(error)")
        }
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, csv, json
}

enum ObjectFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json
}

func printJSONLine(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Wraps CLI errors into a clean message and exit status 1 (ArgumentParser would print the type).
func reportingErrors(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as CLIError {
        FileHandle.standardError.write(Data("yizhanctl: \(error.description)\n".utf8))
        throw ExitCode.failure
    }
}
