import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// Open alerts on the region and station pages: rows, delivery trouble shown, hostile text escaped.
@Suite struct AlertPageRenderTests {
    let pages = DashboardPageRenderTests()

    static func alert(_ kind: AlertKind, station: String, name: String, subject: String = "", pending: Int = 0, failed: Int = 0,
                      error: String? = nil) -> AlertView {
        let key = AlertKey(station: station, kind: kind, subject: subject)
        let t = Timestamp(secondsSinceEpoch: 1_764_000_000)
        let notice = AlertNotice(key: key, state: .open, stationName: name, region: "浙江省", since: t, at: t, detail: "d " + DashboardPageRenderTests.hostile,
                                 offset: .china)
        let record = AlertRecord(id: 1, key: key, state: .open, since: t, openedAt: t, resolvedAt: nil, detail: notice.detail,
                                 messageZh: notice.messageZh, messageEn: notice.messageEn, pendingDeliveries: pending, failedDeliveries: failed,
                                 lastDeliveryError: error)
        return AlertView(record, station: StationRecord(id: station, name: name, capacity: 5), offset: .china)
    }

    @Test func theRegionPageListsOpenAlertsWithTheirDeliveries() throws {
        var page = try pages.regionPage(.nation)
        page.alerts = OfficeAlertList.make([
            Self.alert(.stationOffline, station: "zj-1", name: "沈家门站"),
            Self.alert(.readerDown, station: "x-1", name: "站" + DashboardPageRenderTests.hostile, subject: "door", failed: 1, error: "HTTP 404"),
        ]) { "/stations/" + $0 }
        let html = pages.renderer.render(page)
        #expect(html.contains("<h2>告警 Open alerts</h2>"))
        #expect(html.contains(#"<td>station_offline</td><td><a href="/stations/zj-1">沈家门站</a></td>"#))
        #expect(html.contains("<td>reader_down</td>") && html.contains("<td>door</td>"))
        #expect(html.contains(#"<td class="offline">1 发送失败 FAILED · HTTP 404</td>"#))
        #expect(html.contains("已送达 delivered"))
        pages.expectEscaped(html)
    }

    @Test func noOpenAlertsSaysSo() throws {
        let html = pages.renderer.render(try pages.regionPage(.nation))
        #expect(html.contains("没有未解决的告警 No open alerts."))
        #expect(!html.contains(#"<table class="alerts">"#))
    }
}
