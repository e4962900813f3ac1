import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Occupancy, readers and uplink of the station.")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "table or json") var format: ObjectFormat = .table

    func run() async throws {
        try await reportingErrors {
            let status = try await StationClient(configuration: try options.load(root)).get("/api/v1/status", as: StationStatus.self)
            if format == .json { try printJSONLine(status); return }
            print("\(status.name) (\(status.stationID))")
            print("occupancy  \(status.occupancy) / \(status.capacity)\(status.full ? "  FULL" : "")  \(status.open ? "open" : "closed")  mode \(status.mode)")
            print("log        last seq \(status.lastSeq)")
            if let revision = status.settingsRevision {
                print("settings   office revision \(revision)" + (status.settingsPinned.map { ", pinned \($0.joined(separator: ","))" } ?? "")
                      + (status.settingsError.map { ", REFUSED \($0)" } ?? ""))
            }
            let u = status.uplink
            print("uplink     \(u.state), backlog \(u.backlog), last ack \(u.lastAck), sent \(u.sent), retried \(u.retried)"
                  + (u.quarantined > 0 ? ", QUARANTINED \(u.quarantined)" : "") + (u.detail.map { " (\($0))" } ?? ""))
            print("readers")
            printReaders(status.readers)
            print("since      \(status.startedAt)  version \(status.version)")
        }
    }
}

func printReaders(_ readers: [StationStatus.Reader]) {
    let rows = readers.map { [$0.name, $0.protocol, $0.state, $0.device, String($0.reads), String($0.badReads), $0.detail ?? ""] }
    printTable(header: ["NAME", "PROTOCOL", "STATE", "DEVICE", "READS", "BAD", "DETAIL"], rows: rows, indent: "  ")
}

func printTable(header: [String], rows: [[String]], indent: String = "") {
    func width(_ s: String) -> Int { s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x1100 ? 2 : 1) } }
    var widths = header.map(width)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], width(cell)) } }
    for row in [header] + rows {
        let line = row.enumerated().map { i, cell in
            i == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - width(cell))
        }.joined(separator: "  ")
        print(indent + line)
    }
}
