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

// MARK: status

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

// MARK: log

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

// MARK: readers

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

// MARK: amenity

struct Amenity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the amenities, or set one's status (ok, degraded, out_of_order, closed).",
        discussion: """
            yizhanctl amenity                                   the board: status, since, by whom, open fault reports
            yizhanctl amenity microwave out_of_order --note "门关不上"
            yizhanctl amenity microwave ok                      mended (answers the workers' reports)
            """)
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Argument(help: "The amenity's id (as configured).") var id: String?
    @Argument(help: "ok, degraded, out_of_order or closed.") var status: String?
    @Option(help: "Why, on one line (at most 200 characters).") var note: String?
    @Option(help: "table or json") var format: ObjectFormat = .table

    func run() async throws {
        try await reportingErrors {
            let client = StationClient(configuration: try options.load(root))
            if let id {
                guard let status else { throw CLIError("give the new status too: yizhanctl amenity \(id) ok|degraded|out_of_order|closed") }
                guard AmenityStatus(rawValue: status) != nil else { throw CLIError("status must be ok, degraded, out_of_order or closed, got \"\(status)\"") }
                let user = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "yizhanctl"
                let by = AmenityEventDetail.isValidActor(Substring(user)) ? user : "yizhanctl"
                var body = ["amenity": id, "status": status, "by": by]
                if let note { body["note"] = note }
                let event = try await client.post("/api/v1/amenity", json: body, as: EventRecord.self)
                if format == .json { try printJSONLine(event); return }
                print("\(id): \(status) (seq \(event.seq))")
                return
            }
            let amenities = try await client.get("/api/v1/status", as: StationStatus.self).amenities
            if format == .json { for a in amenities { try printJSONLine(a) }; return }
            if amenities.isEmpty { print("no amenities configured ([[amenities]] in the station's config)"); return }
            let rows = amenities.map { a in
                [a.id, "\(a.nameZh) \(a.nameEn)", a.status.rawValue, a.since.map { String($0.prefix(16)) } ?? "", a.by ?? "",
                 a.openReports > 0 ? "\(a.openReports)" + (a.lastReportNote.map { ": \($0)" } ?? "") : "", a.note ?? ""]
            }
            printTable(header: ["ID", "NAME", "STATUS", "SINCE", "BY", "REPORTS", "NOTE"], rows: rows)
        }
    }
}

// MARK: manager

struct Manager: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Logins for the manager pages (/manage).", subcommands: [ManagerAdd.self])
}

struct ManagerAdd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a manager or change their password; reads the password from standard input (8 to 72 bytes, no NUL).")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "The login name (letters, digits, '_', '-', '.', '@').") var name: String

    func run() async throws {
        try await reportingErrors {
            guard let password = readLine(strippingNewline: true) else {
                throw CLIError("a password is expected on standard input")
            }
            do { try PasswordRules.checkNew(password) } catch { throw CLIError("\(error)") }
            _ = try await StationClient(configuration: try options.load(root))
                .post("/api/v1/manager", json: ["name": name, "password": password], as: [String: String].self)
            print("manager \(name): password set; log in at /manage")
        }
    }
}

// MARK: checkout-all

struct CheckoutAll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkout-all",
        abstract: "Close the day: check out everyone still inside and mark the day closed.")
    @ParentCommand var root: YizhanCTL
    @OptionGroup var options: ConfigOption
    @Option(help: "table or json") var format: ObjectFormat = .table

    func run() async throws {
        try await reportingErrors {
            let who = ProcessInfo.processInfo.environment["SUDO_USER"] ?? ProcessInfo.processInfo.environment["USER"] ?? "yizhanctl"
            let result = try await StationClient(configuration: try options.load(root))
                .post("/api/v1/checkout-all", json: ["by": "yizhanctl (\(who))"], as: CloseDayResult.self)
            if format == .json { try printJSONLine(result); return }
            print("day closed: \(result.checkedOut) checked out, last seq \(result.lastSeq)")
        }
    }
}
