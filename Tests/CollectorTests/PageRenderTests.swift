import Foundation
import Testing
import YizhanCore
import YizhanWeb
@testable import YizhanCollector

/// Every dashboard page rendered from a hand-built view model, without a server: structure,
/// both languages, the CSRF field, and a hostile value escaped wherever it lands.
@Suite struct DashboardPageRenderTests {
    static let hostile = #"<script>"'&"#
    static let escaped = "&lt;script&gt;&quot;&#39;&amp;"
    let renderer = OfficePages.renderer
    let session = OfficeSession(user: UserRecord(name: "office", role: .office, stations: []), csrf: String(repeating: "cd", count: 32))

    func expectEscaped(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains(Self.hostile) && !html.contains("<script"), "raw hostile value", sourceLocation: sourceLocation)
        #expect(html.contains(Self.escaped), "escaped hostile value", sourceLocation: sourceLocation)
    }

    var csrfField: String { #"<form method="post" action="/logout"><input type="hidden" name="csrf" value="\#(session.csrf)"><button type="submit">退出 Log out</button></form>"# }

    @Test func everyTemplateParses() {
        for name in ["office-layout", "office-stylesheet", OfficeLoginPage.template, OfficeOverviewPage.template,
                     OfficeStationPage.template, OfficeMessagePage.template] {
            #expect(renderer.templateNames.contains(name), "\(name)")
        }
    }

    /// Only the charts' SVG, drawn and escaped by SVGChart, goes in unescaped.
    @Test func onlyTheChartsAreUnescaped() {
        let templates = [OfficeTemplates.layout, OfficeTemplates.stylesheet, OfficeTemplates.login, OfficeTemplates.overview,
                         OfficeTemplates.station, OfficeTemplates.message]
        let unescaped = templates.flatMap { $0.matches(of: /\{\{\{[^}]*\}\}\}|\{\{&[^}]*\}\}/).map { String($0.0) } }
        #expect(unescaped == ["{{{svg}}}"])
    }

    @Test func loginPage() {
        let html = renderer.render(OfficeLoginPage.make(message: "用户名或密码错误 Wrong name or password " + Self.hostile))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<html lang="zh-CN">"#))
        #expect(html.contains("<title>登录 Log in · 驿站 Yizhan</title>") && html.contains("<h1>驿站 · 登录 Log in</h1>"))
        #expect(html.contains(#"<p class="error" role="alert">用户名或密码错误 Wrong name or password \#(Self.escaped)</p>"#))
        #expect(html.contains(#"<form method="post" action="/login" class="login">"#) && html.contains(#"<label for="password">密码 Password</label>"#))
        #expect(!html.contains("<nav>") && !html.contains("http-equiv"))
        #expect(html.contains(".charts { display: grid;"), "the one stylesheet is inlined")
        expectEscaped(html)
    }

    @Test func overviewPage() {
        let page = OfficeOverviewPage(
            layout: OfficeLayout(title: "站点 Stations", session: session, refreshSeconds: 30), stationCount: 2, onlineCount: 1,
            districts: [.init(name: "普陀", stations: 2, online: 1, occupancy: 5, capacity: 18, faults: 1)],
            stations: [
                .init(id: "p-1", name: "站" + Self.hostile, district: "普陀", occupancy: 3, capacity: 6, online: true, faults: "microwave", lastSeen: "2026-11-23 08:00:00"),
                .init(id: "p-2\"><b>", name: "二号站", district: "普陀", occupancy: 2, capacity: 12, online: false, faults: "–", lastSeen: "–"),
            ])
        let html = renderer.render(page)
        #expect(html.contains(#"<meta http-equiv="refresh" content="30">"#))
        #expect(html.contains(csrfField) && html.contains("<span>office (office)</span>"))
        #expect(html.contains("<p>2 个站点 stations · 在线 online 1 · "))
        #expect(html.contains("<tr><td>普陀</td><td>2</td><td>1</td><td>5 / 18</td><td>1</td></tr>"))
        #expect(html.contains(#"<tr><td><a href="/stations/p-1">站\#(Self.escaped)</a><br><small>p-1</small></td><td>普陀</td>"#))
        #expect(html.contains(#"<td class="online">在线 online</td>"#) && html.contains(#"<td class="offline">离线 offline</td>"#))
        #expect(html.contains(#"<a href="/stations/p-2&quot;&gt;&lt;b&gt;">"#), "an id escaped in the link")
        for heading in ["区县 Districts", "站点 Stations"] { #expect(html.contains("<h2>\(heading)</h2>")) }
        expectEscaped(html)
        let empty = renderer.render(OfficeOverviewPage(layout: page.layout, stationCount: 0, onlineCount: 0, districts: [], stations: []))
        #expect(empty.contains(#"<tr><td colspan="6">没有站点 No stations</td></tr>"#))
    }

    @Test func overviewModelFromTheDirectory() {
        var record = StationRecord(id: "p-1", name: "站一", district: nil, capacity: 6)
        record.lastSeen = Timestamp(millisecondsSinceEpoch: 1_795_392_000_000)
        let view = CollectorHTTP.StationView(record, online: false, offset: .china)
        let page = OfficeOverviewPage.make(views: [view], districts: [StationDirectory.District(district: "", stations: 1)], session: session)
        #expect(page.districts.first?.name == "–" && page.stations.first?.faults == "–" && page.onlineCount == 0)
        #expect(page.stations.first?.lastSeen == "2026-11-23 08:00:00")
        #expect(page.layout.refreshSeconds == 30)
    }

    @Test func stationPage() throws {
        let now = Timestamp(millisecondsSinceEpoch: 1_795_392_000_000 + 3_600_000)
        func report(_ from: Timestamp, _ to: Timestamp, _ bucket: UsageBucket) throws -> UsageReport {
            let period = try UsagePeriod(from: from, to: to, bucket: bucket, offset: .china)
            let events = (0..<4).map { i in
                UsageEvent(station: "p-1", seq: Int64(i + 1), time: now - .seconds(Int64(60 * (4 - i))), kind: "check_in",
                           cardKey: String(repeating: "\(i)", count: 64), occupancy: i + 1, staySeconds: nil, detail: nil)
            }
            let hours = RollupBuilder.deltas(events: events, openOutages: [:]).hours
            var rows = hours.map { RollupRow(start: $0.key, figures: $0.value.figures, workers: HyperLogLog.of(cardKeys: $0.value.cardKeys)) }
            if bucket != .hour {
                rows = Dictionary(grouping: rows) { RollupBuilder.day(ofHour: $0.start, offset: .china) }.map { day, hs in
                    var r = RollupRow(start: day, figures: RollupFigures(), workers: HyperLogLog())
                    for h in hs { r.figures.add(h.figures, peak: .highest); r.workers.merge(h.workers) }
                    return r
                }
            }
            return UsageReportBuilder.report(period, rows: rows, outages: [], now: now, peakIsSummed: false)
        }
        let days = try report(now - .seconds(29 * 86_400), now, .day)
        let charts = StationCharts.make(days: days, weeks: try report(now - .seconds(28 * 86_400), now, .hour),
                                        today: try report(now - .seconds(3600), now + .seconds(82_800), .hour), offset: .china)
        var record = StationRecord(id: "p-1", name: "站" + Self.hostile, district: "普陀" + Self.hostile, capacity: 6)
        record.lastSeen = now
        let view = CollectorHTTP.StationView(record, online: true, offset: .china)
        let page = OfficeStationPage.make(record: record, view: view, days: days, charts: charts, session: session)
        let html = renderer.render(page)
        #expect(html.contains("<title>站\(Self.escaped) · 驿站 Yizhan</title>") && html.contains(csrfField))
        #expect(html.contains(#"<p class="big">普陀\#(Self.escaped) · 在站 Inside <strong>0 / 6</strong> · 在线 online · 开放 否 closed · 故障 Faults: –</p>"#))
        #expect(html.contains("30 天 30 days: 到访 visits 4 · 服务人数 unique workers 4 · 平均停留 mean stay – · 报修 fault reports 0 · 评分 ratings 0\n"))
        #expect(html.contains(#"<a href="/api/v1/usage?station=p-1&amp;bucket=day&amp;format=csv">CSV</a>"#))
        #expect(html.components(separatedBy: "<figure><figcaption>").count - 1 == 5)
        #expect(html.components(separatedBy: #"<svg viewBox="#).count - 1 == 5, "the charts' markup goes in as drawn")
        #expect(html.contains("<figcaption>每日到访 Visits per day (30 days)</figcaption><svg") && html.contains("周一 Mon"))
        #expect(!html.contains("&lt;svg"), "not escaped twice")
        expectEscaped(html)

        var offline = page
        offline.online = false
        offline.open = true
        offline.meanRating = "4.5"
        let other = renderer.render(offline)
        #expect(other.contains(#"<span class="offline">离线 offline</span> · 开放 是 open"#) && other.contains("评分 ratings 0 (4.5)"))
    }

    @Test func chartsEscapeTheirOwnTexts() {
        let chart = SVGChart.bars(title: Self.hostile, labels: [Self.hostile], values: [1])
        #expect(!chart.markup.contains(Self.hostile) && chart.markup.contains(Self.escaped))
        let html = renderer.render(OfficeStationPage(layout: OfficeLayout(title: "t", session: nil), id: "p", district: "", occupancy: 0, capacity: 1,
                                                     online: true, open: true, faults: "–", visits: 0, uniqueWorkers: 0, meanStay: "–",
                                                     faultReports: 0, ratings: 0, meanRating: nil,
                                                     charts: [.init(caption: Self.hostile, svg: chart)]))
        #expect(html.contains("<figcaption>\(Self.escaped)</figcaption><svg"))
        expectEscaped(html)
    }

    @Test func messagePages() {
        let error = renderer.render(OfficeMessagePage.make(title: "413 Content Too Large", message: Self.hostile, session: nil))
        #expect(error.contains("<p>\(Self.escaped)</p>") && error.contains("<h1>驿站 · 413 Content Too Large</h1>") && !error.contains("<nav>"))
        expectEscaped(error)
        let missing = renderer.render(OfficeMessagePage.make(title: "没有此站 Not found", message: "没有此站点，或不在您的范围内。 No such station among yours.", session: session))
        #expect(missing.contains(csrfField) && missing.contains("No such station among yours."))
    }
}
