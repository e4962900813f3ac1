import ArgumentParser
import Foundation
import YizhanCore
import YizhanStation

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
