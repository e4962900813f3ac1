import Foundation
import YizhanCore
import YizhanWeb

/// `/manage/log`: one page of the visit log, newest first, with its filters, the CSV link
/// for the same filters and the link to the next (older) page.
struct VisitLogPage: PageModel, Sendable {
    static let template = "manager-visit-log"
    /// The query keys the page's filters use; only these go back into its links.
    static let filterKeys = ["since", "until", "kind", "reader"]

    struct Row: Sendable {
        var seq: Int64
        var time: String
        var kind: String
        var card: String
        var reader: String
        var occupancy: Int
        var stay: String
        var detail: String
    }

    struct KindOption: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    var layout: ManagerLayout
    var filterSince: String
    var filterUntil: String
    var filterReader: String
    var kinds: [KindOption]
    var rows: [Row]
    /// Hrefs as they are (the template escapes them for the attribute).
    var csvHref: String
    var nextHref: String?

    /// `events` is the page as read with `pageSize` as the limit: a full page has a next one.
    static func make(events: [EventRecord], filters: [String: String], pageSize: Int, stationName: String, session: WebSession) -> VisitLogPage {
        // A query key from the address bar never reaches the page: only the known filters
        // go back into its links, percent-encoded.
        let query = filterKeys.compactMap { key in
            filters[key].flatMap { $0.isEmpty ? nil : "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        }.joined(separator: "&")
        let next = events.count == pageSize ? events.last.map { "/manage/log?\(query)\(query.isEmpty ? "" : "&")after=\($0.seq)" } : nil
        return VisitLogPage(
            layout: ManagerLayout(title: "访问记录 Visit log", stationName: stationName, session: session),
            filterSince: filters["since"] ?? "", filterUntil: filters["until"] ?? "", filterReader: filters["reader"] ?? "",
            kinds: ([""] + EventKind.allCases.map(\.rawValue)).map { KindOption(value: $0, label: $0.isEmpty ? "全部 all" : $0, selected: filters["kind"] == $0) },
            rows: events.map { x in
                Row(seq: x.seq, time: String(x.time.prefix(19)).replacingOccurrences(of: "T", with: " "), kind: x.kind,
                    card: x.cardHint ?? "", reader: x.reader ?? "", occupancy: x.occupancy,
                    stay: x.staySeconds.map { "\($0 / 60) min" } ?? "", detail: x.detail ?? "")
            },
            csvHref: "/manage/log.csv?" + query, nextHref: next)
    }
}
