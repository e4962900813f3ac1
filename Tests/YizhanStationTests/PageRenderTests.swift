import Foundation
import Testing
import YizhanCore
import YizhanWeb
@testable import YizhanStation

/// Every station page rendered from a hand-built view model, without a server: structure,
/// both languages, the CSRF fields, and a hostile value escaped wherever it lands.
@Suite struct PageRenderTests {
    static let hostile = #"<script>"'&"#
    static let escaped = "&lt;script&gt;&quot;&#39;&amp;"
    let renderer = StationPages.renderer
    /// A session as the store keeps it (its initialiser is the web layer's own).
    let session = try! JSONDecoder().decode(WebSession.self, from: Data(#"{"name":"li","csrf":"\#(String(repeating: "ab", count: 32))"}"#.utf8))

    func expectEscaped(_ html: String, _ where_: String = "", sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!html.contains(Self.hostile) && !html.contains("<script>\""), "raw hostile value \(where_)", sourceLocation: sourceLocation)
        #expect(html.contains(Self.escaped), "escaped hostile value \(where_)", sourceLocation: sourceLocation)
    }

    func csrfFields(_ html: String) -> Int {
        html.components(separatedBy: #"<input type="hidden" name="csrf" value="\#(session.csrf)">"#).count - 1
    }

    @Test func everyTemplateParsesAndABrokenOneIsNamed() throws {
        for name in ["manager-layout", "manager-stylesheet", ManagerLoginPage.template, ManagerOverviewPage.template, VisitLogPage.template,
                     AmenityHistoryPage.template, ManagerMessagePage.template, KioskPage.template, "kiosk-stylesheet", "kiosk-script"] {
            #expect(renderer.templateNames.contains(name), "\(name)")
        }
        #expect(throws: PageRenderer.TemplateError.self) { try PageRenderer(templates: ["broken": "<p>{{#open}}never closed</p>"]) }
        let error = #expect(throws: PageRenderer.TemplateError.self) {
            try PageRenderer(templates: ["fine": "<p>{{x}}</p>", "broken": "line one\n{{/nothing}}"])
        }
        #expect(error?.template == "broken" && error?.line == 2, "\(String(describing: error))")
    }

    /// No station template puts a value in unescaped (`{{{ }}}` or `{{& }}`).
    @Test func noStationTemplateLeavesAValueUnescaped() {
        for text in [StationTemplates.managerLayout, StationTemplates.managerLogin, StationTemplates.managerOverview, StationTemplates.visitLog,
                     StationTemplates.amenityHistory, StationTemplates.managerMessage, StationTemplates.kiosk, StationTemplates.kioskScript,
                     StationTemplates.kioskStylesheet, StationTemplates.managerStylesheet] {
            #expect(!text.contains("{{{") && !text.contains("{{&"))
        }
    }

    @Test func loginPage() {
        let html = renderer.render(ManagerLoginPage.make(stationName: "普工e家" + Self.hostile, message: "用户名或密码错误 Wrong name or password " + Self.hostile))
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<html lang="zh-CN">"#))
        #expect(html.contains("<title>站长登录 Manager login · 普工e家\(Self.escaped)</title>"))
        #expect(html.contains(#"<p class="error" role="alert">用户名或密码错误 Wrong name or password \#(Self.escaped)</p>"#))
        #expect(html.contains(#"<form method="post" action="/manage/login" class="login">"#))
        #expect(html.contains(#"<label for="name">用户名 Name</label>"#) && html.contains(#"<label for="password">密码 Password</label>"#))
        #expect(html.contains("登录 Log in") && html.contains("body { font-family"), "the stylesheet is inlined")
        #expect(!html.contains("<nav>") && !html.contains(#"name="csrf""#), "no navigation before a login")
        expectEscaped(html)
        let quiet = renderer.render(ManagerLoginPage.make(stationName: "站", message: nil))
        #expect(!quiet.contains("role=\"alert\""))
    }

    @Test func overviewPage() {
        let amenity = ManagerOverviewPage.Amenity(
            id: "microwave", name: "微波炉 Microwave", status: "out_of_order", statusLabel: AmenityStatus.outOfOrder.managerLabel,
            since: "2026-11-23T08:00", by: Self.hostile, note: "门关不上" + Self.hostile, hasOpenReports: true, openReports: 2,
            lastReportNote: Self.hostile,
            options: AmenityStatus.allCases.map { .init(value: $0.rawValue, label: $0.managerLabel, selected: $0 == .outOfOrder) })
        let page = ManagerOverviewPage(
            layout: ManagerLayout(title: "概览 Overview", stationName: "测试站", session: session), name: "测试站" + Self.hostile,
            occupancy: 12, capacity: 12, full: true, open: false, hours: "06:00-22:00",
            amenities: [amenity],
            readers: [.init(name: "door", protocolName: "idcard-sam", device: "/dev/" + Self.hostile, state: "down", since: "", reads: 7, badReads: 1)],
            uplink: .init(state: "backoff", backlog: 42, lastAck: 17, lastHeartbeat: "–", detail: "HTTP 503 " + Self.hostile),
            csrf: session.csrf)
        let html = renderer.render(page)
        #expect(csrfFields(html) == 3, "the amenity form, close the day and log out carry the token")
        #expect(html.contains("<nav>") && html.contains("退出 li · Log out"))
        #expect(html.contains("<strong>12 / 12</strong> · <span class=\"bad\">已满员 Full</span> · 未开放 Closed · 06:00-22:00"))
        #expect(html.contains(#"<td class="amenity-out_of_order">故障 Out of order</td>"#))
        #expect(html.contains(#"<option value="out_of_order" selected>故障 Out of order</option>"#) && html.contains(#"<option value="ok">正常 OK</option>"#))
        #expect(html.contains(#"<select id="status-microwave" name="status">"#) && html.contains(#"<label class="sr" for="note-microwave">"#))
        #expect(html.contains("<td><strong>2</strong>：\(Self.escaped)</td>"), "open reports with the last note")
        #expect(html.contains(#"<td class="state-down">down</td>"#) && html.contains("<td>7</td><td>1</td>"))
        #expect(html.contains("待上报 Backlog: 42 · 已确认 Last ack: 17 · 心跳 Heartbeat: – · HTTP 503 \(Self.escaped)"))
        for heading in ["设施 Amenities", "读卡器 Readers", "上报 Uplink", "日结 Close the day"] { #expect(html.contains("<h2>\(heading)</h2>"), "\(heading)") }
        expectEscaped(html)

        let calm = ManagerOverviewPage(layout: page.layout, name: "测试站", occupancy: 1, capacity: 12, full: false, open: true, hours: "24h",
                                       amenities: [], readers: [], uplink: .init(state: "idle", backlog: 0, lastAck: 0, lastHeartbeat: "–", detail: nil),
                                       csrf: session.csrf)
        let calmHTML = renderer.render(calm)
        #expect(calmHTML.contains("<strong>1 / 12</strong> · 开放中 Open · 24h") && !calmHTML.contains("已满员"))
        #expect(calmHTML.contains("心跳 Heartbeat: –</p>"))
    }

    @Test func overviewModelFromTheStationStatus() {
        var status = StationStatus(stationID: "s", name: "测试站", occupancy: 3, capacity: 12, full: false, open: true, mode: "normal",
                                   readers: [], uplink: .init(state: .idle, backlog: 0, lastAck: 0), lastSeq: 0, time: "", startedAt: "", version: "")
        let board = AmenityBoard([AmenityDefinition(id: "microwave", kind: "microwave", nameZh: "微波炉", nameEn: "Microwave")])
        status.amenities = board.entries.map { StationStatus.Amenity($0, offset: .china) }
        let page = ManagerOverviewPage.make(status: status, hours: "24h", stationName: "测试站", session: session)
        #expect(page.amenities.first?.name == "微波炉 Microwave" && page.amenities.first?.hasOpenReports == false)
        #expect((page.amenities.first?.options ?? []).filter { $0.selected }.map { $0.value } == ["ok"])
        #expect(renderer.render(page).contains("<td>0</td>"), "no open reports")
    }

    @Test func visitLogPage() {
        let t = Timestamp(millisecondsSinceEpoch: 1_795_392_000_000)  // 2026-11-23 08:00 China time
        let events: [EventRecord] = (0..<50).map { (i: Int) -> EventRecord in
            let stay: Int64? = i == 0 ? 1500 : nil
            let detail: String? = i == 0 ? Self.hostile : nil
            let event = StationEvent(time: t, kind: .checkIn, cardHint: "******0059", reader: "door", occupancy: 1, staySeconds: stay, detail: detail)
            return EventRecord(RecordedEvent(seq: Int64(100 - i), event: event), offset: .china)
        }
        let filters = ["since": "2026-11-01", "kind": "check_in", "reader": "门 " + Self.hostile, "evil": "x"]
        let page = VisitLogPage.make(events: events, filters: filters, pageSize: 50, stationName: "测试站", session: session)
        let html = renderer.render(page)
        #expect(html.components(separatedBy: "<td>check_in</td>").count - 1 == 50)
        #expect(html.contains("<tr><td>100</td><td>2026-11-23 08:00:00</td><td>check_in</td><td>******0059</td><td>door</td><td>1</td><td>25 min</td><td>\(Self.escaped)</td></tr>"))
        #expect(html.contains(#"<option value="check_in" selected>check_in</option>"#) && html.contains(#"<option value="">全部 all</option>"#))
        #expect(html.contains(#"<input id="since" name="since" type="date" value="2026-11-01">"#))
        #expect(html.contains(#"<input id="reader" name="reader" value="门 \#(Self.escaped)" size="8">"#))
        // Links carry the known filters, percent-encoded, then escaped for the attribute.
        let next = (html.firstMatch(of: /<a href="([^"]*)" rel="next">更早 Older →<\/a>/).map { String($0.1) })
        #expect(next?.hasPrefix("/manage/log?since=2026%2D11%2D01&amp;kind=check%5Fin&amp;reader=%E9%97%A8%20%3Cscript%3E%22%27%26&amp;after=51") == true, "\(next ?? "")")
        #expect(html.contains(#"<a href="/manage/log.csv?since=2026%2D11%2D01&amp;kind=check%5Fin&amp;reader="#))
        #expect(!html.contains("evil"), "an unknown query key never reaches the page")
        for label in ["从 From", "到 To", "类型 Kind", "读卡器 Reader", "筛选 Filter", "导出 CSV"] { #expect(html.contains(label), "\(label)") }
        #expect(csrfFields(html) == 1, "the logout form")
        expectEscaped(html)

        let last = renderer.render(VisitLogPage.make(events: Array(events.prefix(3)), filters: [:], pageSize: 50, stationName: "测试站", session: session))
        #expect(!last.contains("rel=\"next\"") && last.contains(#"<a href="/manage/log.csv?">导出 CSV</a>"#))
        let none = renderer.render(VisitLogPage.make(events: [], filters: [:], pageSize: 50, stationName: "测试站", session: session))
        #expect(none.contains(#"<tr><td colspan="8">没有记录 No events</td></tr>"#))
    }

    @Test func amenityHistoryPage() {
        let t = Timestamp(millisecondsSinceEpoch: 1_795_392_000_000)  // 2026-11-23 08:00 China time
        let events = [
            RecordedEvent(seq: 3, event: StationEvent(time: t, kind: .amenity, occupancy: 0,
                                                      detail: AmenityEventDetail.change(amenity: "microwave", status: .outOfOrder, by: "li", note: "门关不上 <b>").detail)),
            RecordedEvent(seq: 2, event: StationEvent(time: t, kind: .faultReport, occupancy: 0, detail: "amenity=toilet")),
            RecordedEvent(seq: 1, event: StationEvent(time: t, kind: .checkIn, occupancy: 1)),
        ]
        let page = AmenityHistoryPage.make(events: events, names: ["microwave": "微波炉 Microwave"], offset: .china, stationName: "测试站", session: session)
        #expect(page.rows.count == 2, "only amenity changes and fault reports")
        let html = renderer.render(page)
        #expect(html.contains("<tr><td>2026-11-23 08:00</td><td>微波炉 Microwave</td><td>故障 Out of order</td><td>li</td><td>门关不上 &lt;b&gt;</td></tr>"))
        #expect(html.contains("<td>toilet</td><td>报修 Reported</td><td>kiosk</td>"), "an unknown id shows as it is")
        #expect(html.contains("<title>设施记录 Amenity history · 测试站</title>") && csrfFields(html) == 1)
        let hostileRow = AmenityHistoryPage(layout: page.layout, rows: [.init(time: "t", amenity: Self.hostile, status: "s", by: Self.hostile, note: Self.hostile)])
        expectEscaped(renderer.render(hostileRow))
        let empty = renderer.render(AmenityHistoryPage(layout: page.layout, rows: []))
        #expect(empty.contains(#"<tr><td colspan="5">没有记录 Nothing yet</td></tr>"#))
    }

    @Test func messagePages() {
        let login = renderer.render(ManagerMessagePage.loginRequired(stationName: "测试站"))
        #expect(login.contains(#"<p>请先<a href="/manage/login">登录</a>。 Please <a href="/manage/login">log in</a>.</p>"#))
        #expect(login.contains("<h1>测试站 · 需要登录 Login required</h1>") && !login.contains("<nav>"))
        let error = renderer.render(ManagerMessagePage.make(title: "413 Content Too Large", message: Self.hostile, stationName: "测试站", session: nil))
        #expect(error.contains("<p>\(Self.escaped)</p>") && error.contains("<title>413 Content Too Large · 测试站</title>"))
        expectEscaped(error)
        let refused = renderer.render(ManagerMessagePage.make(title: "拒绝 Refused", message: "表单已过期或无效，请返回重试。 The form is stale or forged; go back and try again.",
                                                              stationName: "测试站", session: session))
        #expect(csrfFields(refused) == 1 && refused.contains("The form is stale or forged"))
    }

    @Test func kioskPage() {
        let html = KioskPage.html(stationName: "普工e家" + Self.hostile)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<html lang="zh-CN">"#))
        #expect(html.contains("<title>普工e家\(Self.escaped) · 驿站</title>") && html.contains(#"<h1 id="name">普工e家\#(Self.escaped)</h1>"#))
        #expect(html.components(separatedBy: "<script>").count - 1 == 1, "only the page's own script")
        #expect(html.contains(#"const es = new EventSource("/kiosk/events");"#) && html.contains(":root { --bg:#0a0f14;"), "style and script inlined")
        #expect(html.contains(#"data-zh="在站人数" data-en="People inside">在站人数</div>"#))
        #expect(html.contains(#"data-zh="设施报修" data-en="Report a problem""#))
        #expect(!html.contains("{{") && !html.contains("}}"), "every tag rendered")
        #expect(html.range(of: #"(src|href)=["']?(https?:)?//"#, options: .regularExpression) == nil)
        expectEscaped(html)
    }
}
