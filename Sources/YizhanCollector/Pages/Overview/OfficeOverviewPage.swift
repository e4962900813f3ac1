import Foundation
import YizhanWeb

/// `/`: every station the user may see, live, and the roll-up per district.
struct OfficeOverviewPage: PageModel, Sendable {
    static let template = "office-overview"

    struct District: Sendable {
        var name: String
        var stations: Int
        var online: Int
        var occupancy: Int
        var capacity: Int
        var faults: Int
    }

    struct Station: Sendable {
        var id: String
        var name: String
        var district: String
        var occupancy: Int
        var capacity: Int
        var online: Bool
        var faults: String
        var lastSeen: String
    }

    var layout: OfficeLayout
    var stationCount: Int
    var onlineCount: Int
    var districts: [District]
    var stations: [Station]

    /// The table refreshes itself this often.
    static let refreshSeconds = 30

    static func make(views: [CollectorHTTP.StationView], districts: [StationDirectory.District], session: OfficeSession) -> OfficeOverviewPage {
        OfficeOverviewPage(
            layout: OfficeLayout(title: "站点 Stations", session: session, refreshSeconds: refreshSeconds),
            stationCount: views.count, onlineCount: views.filter(\.online).count,
            districts: districts.map { d in
                District(name: d.district.isEmpty ? "–" : d.district, stations: d.stations, online: d.online,
                         occupancy: d.occupancy, capacity: d.capacity, faults: d.faults)
            },
            stations: views.map { v in
                Station(id: v.id, name: v.name, district: v.district ?? "", occupancy: v.occupancy, capacity: v.capacity,
                        online: v.online, faults: v.faults.isEmpty ? "–" : v.faults.joined(separator: ", "),
                        lastSeen: String((v.lastSeen ?? "–").prefix(19)).replacingOccurrences(of: "T", with: " "))
            })
    }
}
