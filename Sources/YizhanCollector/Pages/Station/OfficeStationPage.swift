import YizhanCore
import YizhanWeb

/// `/stations/ID`: a station's live state, its 30-day figures and five charts drawn on the
/// server.
struct OfficeStationPage: PageModel, Sendable {
    static let template = "office-station"

    var layout: OfficeLayout
    var id: String
    var district: String
    var occupancy: Int
    var capacity: Int
    var online: Bool
    var open: Bool
    var faults: String
    var visits: Int
    var uniqueWorkers: Int
    var meanStay: String
    var faultReports: Int
    var ratings: Int
    var meanRating: String?
    var charts: [StationCharts.Chart]

    static func make(record: StationRecord, view v: CollectorHTTP.StationView, days: UsageReport, charts: [StationCharts.Chart],
                     session: OfficeSession) -> OfficeStationPage {
        let t = days.totals
        return OfficeStationPage(
            layout: OfficeLayout(title: record.name, session: session),
            id: record.id, district: record.district ?? "", occupancy: v.occupancy, capacity: v.capacity,
            online: v.online, open: v.open == true, faults: v.faults.isEmpty ? "–" : v.faults.joined(separator: ", "),
            visits: t.visits, uniqueWorkers: t.uniqueWorkers, meanStay: t.meanStaySeconds.map { "\($0 / 60) min" } ?? "–",
            faultReports: t.faultReports, ratings: t.ratings, meanRating: t.meanRating.map { "\($0)" }, charts: charts)
    }
}
