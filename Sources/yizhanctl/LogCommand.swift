import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

struct Log: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The visit log (oldest first).",
        discussion: """
            --format json prints one object per line with seq, time (RFC 3339), kind, card_key, card_hint, reader, occupancy, stay_seconds and detail. Times accept RFC 3339 (2026-11-23T08:00:00+08:00), a local time (2026-11-23 08:00) or a date (2026-11-23). --card takes a card or ID number; it is turned into its card key by the daemon and never stored or logged.
            """)
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "table, csv or json") var format: OutputFormat = .table
    @Option(help: "Events at or after this time.") var since: String?
    @Option(help: "Events before this time.") var until: String?
    @Option(help: "Only this card (card or ID number; - reads it from standard input, out of the shell history).") var card: String?
    @Option(name: .customLong("card-key"), help: "Only this card key (64 hex).") var cardKey: String?
    @Option(help: "Only these kinds (check_in, check_out, bad_read, ...; repeatable).") var kind: [String] = []
    @Option(help: "Only this reader.") var reader: String?
    @Option(help: "Only the last N matching events.") var last: Int?

    func run() async throws {
        try await reportingErrors {
            let client = StationClient(configuration: try options.load(root))
            var filters: [(String, String)] = []
            if let since { filters.append(("since", since)) }
            if let until { filters.append(("until", until)) }
            if let cardKey { filters.append(("card_key", cardKey)) }
            if var card {
                if card == "-" {
                    if isatty(0) != 0 { FileHandle.standardError.write(Data("card or ID number: ".utf8)) }
                    card = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
                    guard !card.isEmpty else { throw CLIError("--card -: no number on standard input") }
                }
                struct Key: Decodable { var card_key: String }
                let key = try await client.post("/api/v1/card-key", json: ["card": card], as: Key.self)
                filters.append(("card_key", key.card_key))
            }
            if !kind.isEmpty { filters.append(("kind", kind.joined(separator: ","))) }
            if let reader { filters.append(("reader", reader)) }

            var events: [EventRecord] = []
            if format == .csv {
                print(EventRecord.csvHeader.joined(separator: ","))
            }
            func emit(_ batch: [EventRecord]) throws {
                for e in batch {
                    switch format {
                    case .json: try printJSONLine(e)
                    case .csv:
                        print(e.csvFields.joined(separator: ","))
                    case .table: events.append(e)
                    }
                }
            }
            if let last {
                guard last > 0 else { throw CLIError("--last must be positive") }
                var page: [EventRecord] = []
                var after: Int64?
                while page.count < last {
                    let batch = try await client.get(query("/api/v1/events", filters + [("order", "desc"), ("limit", String(min(1000, last - page.count)))]
                                                           + (after.map { [("after", String($0))] } ?? [])), as: EventPage.self)
                    page += batch.events
                    guard let next = batch.nextAfter else { break }
                    after = next
                }
                try emit(page.reversed())
            } else {
                var after: Int64?
                while true {
                    let batch = try await client.get(query("/api/v1/events", filters + [("limit", "1000")] + (after.map { [("after", String($0))] } ?? [])),
                                                     as: EventPage.self)
                    try emit(batch.events)
                    guard let next = batch.nextAfter else { break }
                    after = next
                }
            }
            if format == .table {
                printTable(header: ["SEQ", "TIME", "KIND", "CARD", "READER", "OCC", "STAY", "DETAIL"], rows: events.map {
                    [String($0.seq), String($0.time.prefix(19)).replacingOccurrences(of: "T", with: " "), $0.kind, $0.cardHint ?? "",
                     $0.reader ?? "", String($0.occupancy), $0.staySeconds.map { formatStay($0) } ?? "", $0.detail ?? ""]
                })
            }
        }
    }

    func query(_ path: String, _ items: [(String, String)]) -> String {
        var c = URLComponents()
        c.path = path
        c.queryItems = items.map { URLQueryItem(name: $0.0, value: $0.1) }
        // "+" in an offset must survive as a plus sign.
        return (c.string ?? path).replacingOccurrences(of: "+", with: "%2B")
    }
}

func formatStay(_ seconds: Int64) -> String {
    seconds >= 3600 ? "\(seconds / 3600)h\(String(format: "%02d", (seconds % 3600) / 60))m" : "\(seconds / 60)m\(String(format: "%02d", seconds % 60))s"
}
