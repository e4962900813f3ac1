import YizhanCore
import YizhanWeb

/// `/manage`: occupancy, the amenities with a form each, the readers, the uplink and the
/// close-the-day form, from the station's status.
struct ManagerOverviewPage: PageModel, Sendable {
    static let template = "manager-overview"

    struct StatusOption: Sendable {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Amenity: Sendable {
        var id: String
        var name: String
        var status: String
        var statusLabel: String
        var since: String
        var by: String
        var note: String
        var hasOpenReports: Bool
        var openReports: Int
        var lastReportNote: String?
        var options: [StatusOption]
    }

    struct Reader: Sendable {
        var name: String
        var protocolName: String
        var device: String
        var state: String
        var since: String
        var reads: Int
        var badReads: Int
    }

    struct Uplink: Sendable {
        var state: String
        var backlog: Int64
        var lastAck: Int64
        var lastHeartbeat: String
        var detail: String?
    }

    var layout: ManagerLayout
    var name: String
    var occupancy: Int
    var capacity: Int
    var full: Bool
    var open: Bool
    var hours: String
    var amenities: [Amenity]
    var readers: [Reader]
    var uplink: Uplink
    var csrf: String

    static func make(status st: StationStatus, hours: String, stationName: String, session: WebSession) -> ManagerOverviewPage {
        ManagerOverviewPage(
            layout: ManagerLayout(title: "概览 Overview", stationName: stationName, session: session),
            name: st.name, occupancy: st.occupancy, capacity: st.capacity, full: st.full, open: st.open, hours: hours,
            amenities: st.amenities.map { a in
                Amenity(id: a.id, name: "\(a.nameZh) \(a.nameEn)", status: a.status.rawValue, statusLabel: a.status.managerLabel,
                        since: String((a.since ?? "").prefix(16)), by: a.by ?? "", note: a.note ?? "",
                        hasOpenReports: a.openReports > 0, openReports: a.openReports, lastReportNote: a.lastReportNote,
                        options: AmenityStatus.allCases.map { StatusOption(value: $0.rawValue, label: $0.managerLabel, selected: $0 == a.status) })
            },
            readers: st.readers.map { r in
                Reader(name: r.name, protocolName: r.protocol, device: r.device, state: r.state,
                       since: String((r.since ?? "").prefix(19)), reads: r.reads, badReads: r.badReads)
            },
            uplink: Uplink(state: st.uplink.state.rawValue, backlog: st.uplink.backlog, lastAck: st.uplink.lastAck,
                           lastHeartbeat: st.uplink.lastHeartbeat ?? "–", detail: st.uplink.detail),
            csrf: session.csrf)
    }
}
