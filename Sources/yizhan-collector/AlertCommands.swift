import ArgumentParser
import Foundation
import YizhanCollector
import YizhanCore

struct AlertCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alerts", abstract: "Alerts (docs/alerts.md).", subcommands: [ListAlerts.self])
}

struct ListAlerts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List alerts, newest first, with how their deliveries stand (pending, failed and why).")
    @OptionGroup var options: ConfigOption
    @Option(help: ArgumentHelp("Only stations in this region.", valueName: "path")) var region: String?
    @Option(help: "open, resolved or all.") var state: String = "open"
    @Option(help: "text or json.") var format: String = "text"
    @Option(help: "At most this many.") var limit: Int = 500

    func run() async throws {
        let c = try options.load()
        guard let filter = AlertStateFilter(rawValue: state) else { throw ValidationError("--state must be open, resolved or all") }
        guard format == "text" || format == "json" else { throw ValidationError("--format must be text or json") }
        guard limit > 0 else { throw ValidationError("--limit must be positive") }
        let path = try region.map { text in
            guard let p = RegionPath(parsing: text) else { throw ValidationError("--region: up to 6 levels separated by /, each up to 64 characters") }
            return p
        }
        let views = try await withStore(c) { store in
            let stations = try await store.stations().filter { path?.contains($0.region) ?? true }
            return try await AlertView.list(store, stations: stations, state: filter, limit: limit, offset: c.utcOffset)
        }
        if format == "json" {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(["alerts": views]), as: UTF8.self))
            return
        }
        if views.isEmpty { print("no \(filter == .all ? "" : filter.rawValue + " ")alerts"); return }
        for v in views {
            var delivery = v.deliveries.pending == 0 && v.deliveries.failed == 0 ? "delivered" : ""
            if v.deliveries.pending > 0 { delivery = "\(v.deliveries.pending) pending" }
            if v.deliveries.failed > 0 { delivery += (delivery.isEmpty ? "" : ", ") + "\(v.deliveries.failed) FAILED" }
            if let e = v.deliveries.lastError { delivery += " (\(e))" }
            let subject = v.subject.isEmpty ? "" : "/\(v.subject)"
            print("\(v.id)\t\(v.state.rawValue)\t\(v.alert.rawValue)\(subject)\t\(v.station) \(v.stationName)\tsince \(v.since)"
                  + (v.resolvedAt.map { "\tresolved \($0)" } ?? "") + "\t\(delivery)")
        }
    }
}
