import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

struct Readers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Configured readers and their state.")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "table or json") var format: ObjectFormat = .table

    func run() async throws {
        try await reportingErrors {
            let status = try await StationClient(configuration: try options.load(root)).get("/api/v1/status", as: StationStatus.self)
            if format == .json { for r in status.readers { try printJSONLine(r) }; return }
            printReaders(status.readers)
        }
    }
}
