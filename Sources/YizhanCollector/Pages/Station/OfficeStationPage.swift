import YizhanCore
import YizhanWeb

/// `/stations/ID?from&to&bucket`: a station's live state, its region (a link back up),
/// its figures for the period with their change, and six charts drawn on the server.
struct OfficeStationPage: PageModel, Sendable {
    static let template = "office-station"

    var layout: OfficeLayout
    var id: String
    var crumbs: [OfficeRegionPage.Crumb]
    var district: String?
    var address: String?
    var occupancy: Int
    var capacity: Int
    var online: Bool
    var open: Bool
    var faults: String
    var periodText: String
    var picker: PeriodPicker
    var headlines: [Headline]
    var charts: [StationCharts.Chart]
    var csv: String
    /// Open alerts of the station (set by the handler after `make`).
    var alerts = OfficeAlertList.empty
    /// Office settings: desired against applied (set by the handler).
    var settingsSync: SettingsSyncRow?

    static func make(record: StationRecord, view v: CollectorHTTP.StationView, answer: Analytics.Answer, hourOfWeek: UsageReport,
                     today: UsageReport, period: DashboardPeriod, user: UserRecord, now: Timestamp, offset: UTCOffset,
                     session: OfficeSession) -> OfficeStationPage {
        let crumbs = record.region.selfAndAncestors.map { r in
            OfficeRegionPage.Crumb(name: r.isNation ? "全国 Nation" : r.name,
                                   href: OfficeRegionPage.mayOpen(r, user: user) ? OfficeRegionPage.link(region: r, period: period, by: nil) : nil)
        } + [OfficeRegionPage.Crumb(name: record.name, href: nil, current: true)]
        let charts = UsageCharts.make(report: answer.report, bucket: period.bucket, hourOfWeek: hourOfWeek,
                                      hourOfWeekDays: (hourOfWeek.buckets.count + 23) / 24, capacity: v.capacity, offset: offset)
            + [StationCharts.Chart(caption: "今日在站 Inside through today (peak per hour)",
                                   svg: SVGChart.line(title: "Occupancy today", labels: (0..<24).map { "\($0)" },
                                                      values: today.buckets.map { Double($0.peakOccupancy) }))]
        return OfficeStationPage(
            layout: OfficeLayout(title: record.name, session: session),
            id: record.id, crumbs: crumbs, district: record.district.flatMap { $0.isEmpty ? nil : $0 }, address: record.address,
            occupancy: v.occupancy, capacity: v.capacity,
            online: v.online, open: v.open == true, faults: v.faults.isEmpty ? "–" : v.faults.joined(separator: ", "),
            periodText: "\(period.fromDate) – \(period.toDate)",
            picker: PeriodPicker.make(action: "/stations/" + DashboardQuery.encode(record.id), keep: [], period: period, now: now),
            headlines: Headline.make(answer), charts: charts,
            csv: DashboardQuery.link("/api/v1/usage", [("station", record.id), ("from", period.fromDate), ("to", period.toDate),
                                                       ("bucket", period.bucket.rawValue), ("format", "csv")]))
    }
}
