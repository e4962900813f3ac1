import ArgumentParser
import Foundation
import YizhanCollector
import YizhanCore

struct RollupCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollups", abstract: "Rebuild or check the rollups the office's questions are answered from.",
        subcommands: [RebuildRollups.self, CheckRollups.self])
}

struct RollupRange: ParsableArguments {
    @Option(name: .customLong("station"), help: "Only this station (repeatable); its regions are folded again.") var stations: [String] = []
    @Option(help: ArgumentHelp("From this day (2026-11-01, local), whole days.", valueName: "date")) var from: String?
    @Option(help: ArgumentHelp("Up to and including this day.", valueName: "date")) var to: String?

    func bounds(_ offset: UTCOffset) throws -> (Timestamp?, Timestamp?) {
        func day(_ text: String, _ name: String) throws -> Timestamp {
            guard text.count == 10, let t = RFC3339.parse(text, defaultOffset: offset) else { throw ValidationError("--\(name): a date such as 2026-11-01") }
            return t
        }
        let f = try from.map { try day($0, "from") }
        let t = try to.map { try day($0, "to") + .seconds(86_400) }
        if let f, let t, f >= t { throw ValidationError("--from must not be after --to") }
        return (f, t)
    }
}

struct RebuildRollups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rebuild", abstract: "Recompute rollups from the raw event log (all stations and all time unless narrowed).")
    @OptionGroup var options: ConfigOption
    @OptionGroup var range: RollupRange

    func run() async throws {
        let c = try options.load()
        let (from, to) = try range.bounds(c.utcOffset)
        let started = ContinuousClock.now
        let n = try await withStore(c) { store in
            try await RollupMaintenance.rebuild(store, stations: range.stations.isEmpty ? nil : range.stations, from: from, to: to)
        }
        print("rebuilt the rollups of \(n) station(s) in \(ContinuousClock.now - started)")
    }
}

struct CheckRollups: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Compare the rollups with the raw event log; exits 1 and lists the differences if any.")
    @OptionGroup var options: ConfigOption
    @OptionGroup var range: RollupRange

    func run() async throws {
        let c = try options.load()
        let (from, to) = try range.bounds(c.utcOffset)
        let mismatches = try await withStore(c) { store in
            try await RollupMaintenance.check(store, stations: range.stations.isEmpty ? nil : range.stations, from: from, to: to)
        }
        for m in mismatches.prefix(100) { print(m) }
        if mismatches.count > 100 { print("… and \(mismatches.count - 100) more") }
        guard mismatches.isEmpty else {
            FileHandle.standardError.write(Data("yizhan-collector: \(mismatches.count) rollup row(s) differ from the raw log; run `rollups rebuild`\n".utf8))
            throw ExitCode.failure
        }
        print("rollups agree with the raw log")
    }
}
