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
        for name in ["office-layout", "office-stylesheet", "office-period", "office-headlines", OfficeLoginPage.template,
                     OfficeRegionPage.template, OfficeStationPage.template, OfficeMessagePage.template] {
            #expect(renderer.templateNames.contains(name), "\(name)")
        }
    }

    /// Only the charts' and the map's SVG, drawn and escaped by SVGChart and StationMap, go in unescaped.
    @Test func onlyTheChartsAreUnescaped() {
        let templates = [OfficeTemplates.layout, OfficeTemplates.stylesheet, OfficeTemplates.login, OfficeTemplates.region,
                         OfficeTemplates.period, OfficeTemplates.headlines, OfficeTemplates.station, OfficeTemplates.message]
        let unescaped = templates.flatMap { $0.matches(of: /\{\{\{[^}]*\}\}\}|\{\{&[^}]*\}\}/).map { String($0.0) } }
        #expect(Set(unescaped) == ["{{{svg}}}", "{{{map}}}"])
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

    // MARK: fixtures for the region and station pages

    static let now = Timestamp(millisecondsSinceEpoch: 1_795_392_000_000 + 3_600_000)  // 2026-11-23 09:00 +08:00

    static func period(_ bucket: String = "day") throws -> DashboardPeriod {
        try DashboardPeriod.parse(from: "2026-11-01", to: "2026-11-23", bucket: bucket, now: now, offset: .china)
    }

    static func figures(_ start: Timestamp, visits: Int, peak: Int = 3, rating: Double? = nil) -> UsageFigures {
        var f = UsageFigures(start: start)
        f.visits = visits; f.uniqueWorkers = visits / 2; f.peakOccupancy = peak; f.meanStaySeconds = 1500
        f.amenityDowntimeSeconds = 5400; f.ratings = rating == nil ? 0 : 4; f.meanRating = rating
        return f
    }

    /// A period's answer: 120 visits, against 100 the period before and 150 a year earlier.
    static func answer(_ p: DashboardPeriod, stations: Int) -> Analytics.Answer {
        let buckets = p.period.bounds.dropLast().enumerated().map { i, b in
            figures(Timestamp(millisecondsSinceEpoch: b), visits: i == 2 ? 120 : 0, rating: i == 2 ? 4.25 : nil)
        }
        var report = UsageReport(buckets: buckets, totals: figures(p.period.from, visits: 120, rating: 4.25))
        report.peakIsUpperBound = stations > 1
        report.uniqueWorkersEstimated = stations > 1
        return Analytics.Answer(period: p.period, report: report,
                                previous: (try! p.period.previous(), figures(p.period.from, visits: 100, rating: 4.0)),
                                yearEarlier: (try! p.period.yearEarlier(), figures(p.period.from, visits: 150)))
    }

    static func hourOfWeek(_ p: DashboardPeriod) -> UsageReport {
        let hours = p.lastFourWeeksByHour
        return UsageReport(buckets: hours.bounds.dropLast().map { figures(Timestamp(millisecondsSinceEpoch: $0), visits: 1) },
                           totals: figures(hours.from, visits: hours.count))
    }

    /// What the handler reads for a region page, made from per-station visits (this period,
    /// the previous one): the children's visits summed from their stations, the stations
    /// placed at the region itself by id, and both rankings.
    static func visitsAndRankings(_ region: RegionPath, stations: [StationRecord], visits: [String: (Int64, Int64)],
                                  by: RankingMeasure) -> (Analytics.ChildVisits, top: [RankingEntry], bottom: [RankingEntry]) {
        var out = Analytics.ChildVisits()
        var current: [String: RollupFigures] = [:], previous: [String: RollupFigures] = [:]
        for s in stations {
            let v = visits[s.id] ?? (0, 0)
            var c = RollupFigures(); c.visits = v.0; current[s.id] = c
            var p = RollupFigures(); p.visits = v.1; previous[s.id] = p
            if s.region.depth > region.depth, region.contains(s.region) {
                out.children[s.region.segments[region.depth], default: Analytics.VisitsPair()].current += v.0
                out.children[s.region.segments[region.depth], default: Analytics.VisitsPair()].previous += v.1
            } else {
                out.stations[s.id] = Analytics.VisitsPair(current: v.0, previous: v.1)
            }
        }
        let capacities = Dictionary(uniqueKeysWithValues: stations.map { ($0.id, $0.capacity) })
        func rank(_ descending: Bool) -> [RankingEntry] {
            Rankings.rank(by, descending: descending, limit: OfficeRegionPage.rankingSize, stations: capacities, current: current,
                          previous: previous, yearEarlier: [:])
        }
        return (out, rank(true), rank(false))
    }

    /// Four stations: two in Zhejiang, one in a province with a hostile name, one placed
    /// at the nation itself with no coordinates.
    static func network() -> [(StationRecord, Bool)] {
        [
            (StationRecord(id: "zj-1", name: "沈家门站", region: RegionPath(parsing: "浙江省/舟山市/普陀区/沈家门街道")!, capacity: 12,
                           latitude: 29.95, longitude: 122.30), true),
            (StationRecord(id: "zj-2", name: "西湖站", region: RegionPath(parsing: "浙江省/杭州市/西湖区")!, capacity: 8,
                           latitude: 30.25, longitude: 120.15), false),
            (StationRecord(id: "gd-1", name: "天河站", region: RegionPath(segments: ["广东" + hostile, "广州市"]), capacity: 10,
                           latitude: 23.13, longitude: 113.32), true),
            (StationRecord(id: "x-1", name: "站" + hostile, capacity: 6), true),
        ]
    }

    func regionPage(_ region: RegionPath, user: UserRecord? = nil, by: RankingMeasure = .visits, stations: [(StationRecord, Bool)] = network(),
                    visits: [String: (Int64, Int64)] = ["zj-1": (50, 40), "zj-2": (30, 30), "gd-1": (40, 0)],
                    rankedAsOf: Timestamp? = nil) throws -> OfficeRegionPage {
        let p = try Self.period()
        let inside = stations.filter { region.contains($0.0.region) }
        let live = inside.map { OfficeRegionPage.Live($0.0, online: $0.1) }
        let (childVisits, top, bottom) = Self.visitsAndRankings(region, stations: inside.map(\.0), visits: visits, by: by)
        let input = OfficeRegionPage.Input(region: region, user: user ?? session.user, stations: inside.map(\.0), live: live,
                                           answer: Self.answer(p, stations: inside.count), hourOfWeek: Self.hourOfWeek(p),
                                           visits: childVisits, top: top, bottom: bottom, rankedAsOf: rankedAsOf, measure: by, period: p, now: Self.now)
        return OfficeRegionPage.make(input, session: session, offset: .china)
    }

    /// A ranking from a large region's snapshot says when its figures were read; one read
    /// for the page says nothing.
    @Test func aRankingFromASnapshotSaysHowOld() throws {
        let asOf = try #require(RFC3339.parse("2026-11-20T14:03:12+08:00", defaultOffset: .utc))
        let html = renderer.render(try regionPage(.nation, rankedAsOf: asOf))
        #expect(html.contains("<p class=\"as-of\">排名按 14:03:12 的数据"), "\(html.count)")
        #expect(!renderer.render(try regionPage(.nation)).contains("class=\"as-of\""))
    }

    /// The version spread from heartbeats, newest first, split by state: how a rollout goes.
    @Test func versionSpread() throws {
        func view(_ version: String?, online: Bool, backlog: Int64 = 0) -> OfficeRegionPage.Live {
            var s = StationRecord(id: "s", name: "s", capacity: 5)
            if let version {
                s.live = LiveState(open: true, capacity: 5, amenities: [:], readers: [], backlog: backlog, lastSeq: 0, version: version, clockSkewSeconds: 0)
            }
            return OfficeRegionPage.Live(s, online: online)
        }
        let rows = OfficeRegionPage.versionSpread([view("0.9.10", online: true), view("0.10.0", online: true, backlog: 3), view("0.10.0", online: false),
                                                   view(nil, online: false), view("0.9.2", online: true)])
        #expect(rows.map(\.version) == ["0.10.0", "0.9.10", "0.9.2", "–"], "by number, not as text; never heard from last")
        #expect(rows[0].stations == 2 && rows[0].online == 1 && rows[0].offline == 1 && rows[0].withBacklog == 1 && rows[0].share == "40.0 %")
        let html = renderer.render(try regionPage(.nation))
        #expect(html.contains("<h2>软件版本 Software versions</h2>") && html.contains("<tr><td>–</td><td>4</td><td>100.0 %</td><td>3</td><td>1</td><td>0</td></tr>"))
    }

    @Test func nationalPage() throws {
        let html = renderer.render(try regionPage(.nation))
        #expect(html.contains("<title>全国 Nation · 驿站 Yizhan</title>") && html.contains(csrfField))
        #expect(html.contains(#"<meta http-equiv="refresh" content="60">"#))
        #expect(html.contains(#"<ol><li><span aria-current="page">全国 Nation</span></li></ol>"#), "the breadcrumb")
        #expect(html.contains("<strong>全国 Nation</strong> · 2026-11-01 – 2026-11-23 · 4 个站点 stations · 在线 online 3"))
        // The period picker: a GET form with the period filled in, no script.
        #expect(html.contains(#"<form method="get" action="/" class="period">"#))
        #expect(html.contains(#"<input type="date" id="from" name="from" value="2026-11-01">"#) && html.contains(#"value="2026-11-23""#))
        #expect(html.contains(#"<option value="day" selected>日 day</option>"#))
        #expect(html.contains(#"<a href="/?from=2026-11-17&amp;to=2026-11-23&amp;bucket=day">7 天 days</a>"#))
        // Headline figures with their change as text.
        #expect(html.contains(#"<tr><th scope="row">到访 Visits</th><td class="figure">120</td><td class="chg-up">↑ 20.0 %</td><td class="chg-down">↓ 20.0 %</td></tr>"#))
        #expect(html.contains("≈ 60 <small>(估计 estimated)</small>") && html.contains("(各站峰值之和 sum of the stations&#39; peaks)"))
        #expect(html.contains(#"<td class="figure">4.25 <small>(4 次评分 ratings)</small></td><td class="chg-up">↑ 6.2 %</td><td class="chg-none">–</td>"#))
        // Child regions link deeper (the path percent-encoded, the name escaped).
        #expect(html.contains("<h2>下级地区 省 Province</h2>"))
        #expect(html.contains(#"<tr><td><a href="/?region=%E6%B5%99%E6%B1%9F%E7%9C%81&amp;from=2026-11-01&amp;to=2026-11-23&amp;bucket=day">浙江省</a></td><td>2</td><td>1</td><td>0 / 20</td><td>0</td><td>80</td><td class="chg-up">↑ 14.3 %</td></tr>"#))
        #expect(html.contains(#">广东\#(Self.escaped)</a></td><td>1</td><td>1</td><td>0 / 10</td><td>0</td><td>40</td><td class="chg-up">↑ 新 new</td></tr>"#))
        #expect(html.contains("/?region=%E5%B9%BF%E4%B8%9C%3Cscript%3E%22%27%26&amp;from="), "a hostile region name stays inside its parameter")
        // The station placed at the nation itself is listed as a station.
        #expect(html.contains(#"<a href="/stations/x-1?from=2026-11-01&amp;to=2026-11-23&amp;bucket=day">站\#(Self.escaped)</a>"#))
        // Five charts and the map, with its legend in words.
        #expect(html.components(separatedBy: "<figure><figcaption>").count - 1 == 5)
        #expect(html.contains("<figcaption>最高在站与座位 Peak inside against seats (36)"))
        #expect(html.contains(#"<figure class="map"><svg viewBox="0 0 720 480""#))
        #expect(html.contains(#"<a href="/stations/zj-1"><title>沈家门站 · 在线 online</title><circle "#))
        #expect(html.contains(#"<a href="/stations/zj-2"><title>西湖站 · 离线 offline</title><circle "#) && html.contains(##"fill="#fff" stroke="#D55E00""##))
        #expect(html.contains("在线 online: 2</li>") && html.contains("离线 offline: 1</li>") && html.contains("满员 full: 0</li>"))
        #expect(html.contains(#"无坐标 Without coordinates: <a href="/stations/x-1?"#))
        // The ranking by visits, measures as links, exports of the same question.
        #expect(html.contains(#"<tr><td>1</td><td><a href="/stations/zj-1?from=2026-11-01&amp;to=2026-11-23&amp;bucket=day">沈家门站</a></td><td>浙江省/舟山市/普陀区/沈家门街道</td><td>50</td><td class="chg-up">↑ 25.0 %</td><td class="chg-up">↑ 新 new</td></tr>"#), "nothing a year earlier")
        #expect(html.contains("<strong>到访 Visits</strong>") && html.contains(#"<a href="/?from=2026-11-01&amp;to=2026-11-23&amp;bucket=day&amp;by=rejected_full">"#))
        #expect(!html.contains("后 10 Bottom 10"), "four stations: one table")
        #expect(html.contains(#"<a href="/api/v1/usage?from=2026-11-01&amp;to=2026-11-23&amp;bucket=day&amp;format=csv">"#))
        #expect(html.contains(#"<a href="/api/v1/rankings?from=2026-11-01&amp;to=2026-11-23&amp;by=visits&amp;limit=1000&amp;format=csv">"#))
        #expect(!html.contains("<script") && !html.contains("card_key"))
        expectEscaped(html)
    }

    @Test func provinceCityAndStreetPages() throws {
        let province = renderer.render(try regionPage(RegionPath(parsing: "浙江省")!, by: .rejectedFull))
        #expect(province.contains(#"<ol><li><a href="/?from=2026-11-01&amp;to=2026-11-23&amp;bucket=day&amp;by=rejected_full">全国 Nation</a></li><li><span aria-current="page">浙江省</span></li></ol>"#))
        #expect(province.contains("<h2>下级地区 市 City</h2>") && province.contains(">舟山市</a>") && province.contains(">杭州市</a>"))
        #expect(!province.contains("天河站"), "only the region's stations")
        #expect(province.contains(#"<input type="hidden" name="region" value="浙江省"><input type="hidden" name="by" value="rejected_full">"#))
        #expect(province.contains("<strong>满员拒入 Turned away (full)</strong>"))
        #expect(province.contains(#"/api/v1/usage?region=%E6%B5%99%E6%B1%9F%E7%9C%81&amp;from="#))
        let street = renderer.render(try regionPage(RegionPath(parsing: "浙江省/舟山市/普陀区/沈家门街道")!))
        #expect(!street.contains("下级地区") && street.contains("<h2>站点 Stations</h2>"))
        #expect(street.contains(#">沈家门站</a></td><td></td><td class="online">在线 online</td><td>0 / 12</td><td>–</td><td>50</td><td class="chg-up">↑ 25.0 %</td></tr>"#))
        #expect(street.contains(#"<li><span aria-current="page">沈家门街道</span></li>"#) && street.contains(#">普陀区</a></li>"#))
    }

    /// An office user of a region sees no links above it: those pages would refuse them.
    @Test func aRegionUsersBreadcrumbStartsAtTheirRegion() throws {
        let user = UserRecord(name: "zs", role: .office, stations: [], region: RegionPath(parsing: "浙江省/舟山市"))
        let page = try regionPage(RegionPath(parsing: "浙江省/舟山市/普陀区")!, user: user)
        #expect(page.crumbs.map(\.name) == ["全国 Nation", "浙江省", "舟山市", "普陀区"])
        #expect(page.crumbs.map { $0.href != nil } == [false, false, true, false])
        let html = renderer.render(page)
        #expect(html.contains(#"<ol><li>全国 Nation</li><li>浙江省</li><li><a href="/?region=%E6%B5%99%E6%B1%9F%E7%9C%81%2F%E8%88%9F%E5%B1%B1%E5%B8%82&amp;from="#))
    }

    @Test func anEmptyRegion() throws {
        let p = try Self.period()
        let empty = UsageReport(buckets: p.period.bounds.dropLast().map { UsageFigures(start: Timestamp(millisecondsSinceEpoch: $0)) },
                                totals: UsageFigures(start: p.period.from))
        let input = OfficeRegionPage.Input(region: .nation, user: session.user, stations: [], live: [],
                                           answer: Analytics.Answer(period: p.period, report: empty, previous: (try p.period.previous(), UsageFigures(start: p.period.from)), yearEarlier: nil),
                                           hourOfWeek: UsageReport(buckets: [], totals: UsageFigures(start: p.period.from)),
                                           visits: Analytics.ChildVisits(), top: [], bottom: [], measure: .visits, period: p, now: Self.now)
        let html = renderer.render(OfficeRegionPage.make(input, session: session, offset: .china))
        #expect(html.contains("此地区没有站点 No stations in this region.") && html.contains("没有可画的坐标 No coordinates to draw."))
        #expect(html.contains(#"<tr><td colspan="6">没有站点 No stations</td></tr>"#))
        #expect(html.contains(#"<td class="figure">0</td><td class="chg-flat">→ 0 %</td><td class="chg-none">–</td>"#))
        #expect(!html.contains("<table class=\"children\">") && !html.contains("<table class=\"stations\">"))
    }

    @Test func bottomTenBesideTheTopTen() throws {
        let many = (1...25).map { i in (StationRecord(id: String(format: "s-%02d", i), name: "站\(i)", region: RegionPath(parsing: "浙江省")!, capacity: 4), true) }
        let visits = Dictionary(uniqueKeysWithValues: many.map { ($0.0.id, (Int64($0.0.id.suffix(2))!, Int64(10))) })
        let page = try regionPage(.nation, stations: many, visits: visits)
        #expect(page.top.map(\.name) == (16...25).reversed().map { "站\($0)" })
        #expect(page.bottom.map(\.name) == (1...10).map { "站\($0)" })
        #expect(page.bottom.first?.vsPrevious.text == "↓ 90.0 %" && page.top.first?.vsPrevious.text == "↑ 150.0 %")
        #expect(renderer.render(page).contains("后 10 Bottom 10 · 到访 Visits"))
    }

    /// Above `StationMap.mostMarkers` stations the map draws squares, not stations: its size
    /// stops growing with them, every station is counted in one square, and each square
    /// shows its most urgent status.
    @Test func aMapOfManyStationsDrawsSquares() throws {
        let n = 6_000
        let many: [(StationRecord, Bool)] = (0..<n).map { i in
            let latitude = 27 + Double(i % 97) * 0.04, longitude = 118 + Double(i / 97) * 0.07
            let station = StationRecord(id: "m-\(i)", name: "站\(i)", region: RegionPath(segments: ["浙江省", "市\(i % 7)"]), capacity: 4,
                                        latitude: latitude, longitude: longitude)
            return (station, i % 50 != 0)
        }
        let page = try regionPage(.nation, stations: many, visits: [:])
        let html = renderer.render(page)
        #expect(page.mapByCells && html.contains("Too many stations to draw one by one"))
        let svg = try #require(page.map?.markup)
        #expect(!svg.contains("/stations/"), "no station drawn one by one")
        #expect(svg.utf8.count < 600_000, "\(svg.utf8.count) bytes")
        let online = n - n / 50, offline = n / 50
        #expect(html.contains("在线 online: \(online)</li>") && html.contains("离线 offline: \(offline)</li>"), "the legend still counts every station")

        let statuses: [StationMap.Status] = [.ok, .ok, .faults, .ok, .offline, .full, .ok]
        let xy: [(x: Double, y: Double)] = [(1, 1), (11.9, 2), (5, 5), (13, 1), (13, 2), (700, 470), (30, 30)]
        let cells = StationMap.cells(statuses, at: xy)
        #expect(cells.map(\.total).reduce(0, +) == statuses.count)
        #expect(cells.map(\.status) == [.ok, .faults, .full, .offline], "the most urgent drawn last, on top")
        #expect(cells[1].counts == [.ok: 2, .faults: 1] && cells[1].x == 6 && cells[1].y == 6)
        #expect(cells[3].counts == [.ok: 1, .offline: 1] && cells[3].x == 18)
        #expect(StationMap.draw(title: "t", points: (0..<10).map { StationMap.Point(id: "p\($0)", name: "p", latitude: Double($0), longitude: 1, status: .ok) })
            .markup.contains(#"<a href="/stations/p3">"#), "a few stations are drawn one by one")
    }

    @Test func changesReadWithoutColour() {
        #expect(Change.between(120, base: 100) == Change(text: "↑ 20.0 %", direction: "up"))
        #expect(Change.between(80, base: 100) == Change(text: "↓ 20.0 %", direction: "down"))
        #expect(Change.between(100, base: 100).text == "→ 0 %" && Change.between(0, base: 0).text == "→ 0 %")
        #expect(Change.between(5, base: 0).text == "↑ 新 new")
        #expect(Change.between(5, base: nil) == .none && Change.between(nil, base: 3.0) == .none)
        #expect(Change.between(1.0001, base: 1.0).text == "→ 0 %", "below a tenth of a percent is no change")
        #expect(Figures.count(1_234_567) == "1,234,567" && Figures.count(12) == "12" && Figures.hours(5400) == "1.5 h")
    }

    @Test func thePeriodComesFromTheForm() throws {
        let p = try Self.period("week")
        #expect(p.fromDate == "2026-11-01" && p.toDate == "2026-11-23" && p.bucket == .week)
        #expect(p.period.from == RFC3339.parse("2026-10-26T00:00:00+08:00", defaultOffset: .utc), "weeks start on Monday")
        let d = try DashboardPeriod.parse(from: nil, to: "", bucket: nil, now: Self.now, offset: .china)
        #expect(d.fromDate == "2026-10-25" && d.toDate == "2026-11-23" && d.bucket == .day && d.period.count == 30)
        #expect(d.lastFourWeeksByHour.count == 28 * 24)
        #expect(throws: DashboardPeriod.Problem.badDate("from", "2026-13-01")) {
            try DashboardPeriod.parse(from: "2026-13-01", to: nil, bucket: nil, now: Self.now, offset: .china)
        }
        #expect(throws: DashboardPeriod.Problem.badDate("to", "<b>")) { try DashboardPeriod.parse(from: nil, to: "<b>", bucket: nil, now: Self.now, offset: .china) }
        #expect(throws: DashboardPeriod.Problem.empty) { try DashboardPeriod.parse(from: "2026-11-24", to: "2026-11-23", bucket: nil, now: Self.now, offset: .china) }
        #expect(throws: DashboardPeriod.Problem.badBucket("year")) { try DashboardPeriod.parse(from: nil, to: nil, bucket: "year", now: Self.now, offset: .china) }
        #expect(throws: DashboardPeriod.Problem.tooManyBuckets(8760)) {
            try DashboardPeriod.parse(from: "2025-11-24", to: "2026-11-23", bucket: "hour", now: Self.now, offset: .china)
        }
    }

    /// North up, east right, the box filled along one side and centred along the other.
    @Test func theMapProjectsIntoItsBox() {
        let xy = StationMap.project([(30, 120), (31, 122), (30.5, 121)])
        #expect(xy[0].x < xy[2].x && xy[2].x < xy[1].x, "east is right")
        #expect(xy[0].y > xy[2].y && xy[2].y > xy[1].y, "north is up")
        for p in xy { #expect((StationMap.margin...(StationMap.width - StationMap.margin)).contains(p.x.rounded()) && (StationMap.margin...(StationMap.height - StationMap.margin)).contains(p.y.rounded())) }
        #expect(abs(xy[0].x - StationMap.margin) < 0.01 && abs(xy[1].x - (StationMap.width - StationMap.margin)) < 0.01, "wider than tall: fills the width")
        let one = StationMap.project([(30, 120)])
        #expect(one.count == 1 && one[0].x.isFinite && one[0].y.isFinite)
        #expect(StationMap.Status.of(online: false, occupancy: 9, capacity: 9, faults: 1) == .offline)
        #expect(StationMap.Status.of(online: true, occupancy: 9, capacity: 9, faults: 1) == .full)
        #expect(StationMap.Status.of(online: true, occupancy: 1, capacity: 9, faults: 1) == .faults)
        let map = StationMap.draw(title: Self.hostile, points: [.init(id: "a\"><b>", name: Self.hostile, latitude: 30, longitude: 120, status: .ok)])
        #expect(!map.markup.contains(Self.hostile) && map.markup.contains(Self.escaped) && map.markup.contains(#"href="/stations/a%22%3E%3Cb%3E""#))
    }

    @Test func stationPage() throws {
        let p = try Self.period()
        var record = StationRecord(id: "p-1", name: "站" + Self.hostile, district: "普陀" + Self.hostile,
                                   region: RegionPath(parsing: "浙江省/舟山市/普陀区")!, address: "沈家门 1 号" + Self.hostile, capacity: 6)
        record.lastSeen = Self.now
        let view = CollectorHTTP.StationView(record, online: true, offset: .china)
        let todayPeriod = try UsagePeriod(from: Self.now, to: Self.now, bucket: .day, offset: .china)
        let today = try UsagePeriod(from: todayPeriod.from, to: todayPeriod.to, bucket: .hour, offset: .china)
        let page = OfficeStationPage.make(record: record, view: view, answer: Self.answer(p, stations: 1), hourOfWeek: Self.hourOfWeek(p),
                                          today: UsageReport(buckets: today.bounds.dropLast().map { Self.figures(Timestamp(millisecondsSinceEpoch: $0), visits: 1) },
                                                             totals: UsageFigures(start: today.from)),
                                          period: p, user: session.user, now: Self.now, offset: .china, session: session)
        let html = renderer.render(page)
        #expect(html.contains("<title>站\(Self.escaped) · 驿站 Yizhan</title>") && html.contains(csrfField))
        #expect(html.contains(#"<li><a href="/?region=%E6%B5%99%E6%B1%9F%E7%9C%81%2F%E8%88%9F%E5%B1%B1%E5%B8%82&amp;from=2026-11-01&amp;to=2026-11-23&amp;bucket=day">舟山市</a></li>"#))
        #expect(html.contains(#"<li><span aria-current="page">站\#(Self.escaped)</span></li></ol>"#))
        #expect(html.contains(#"<p class="big">普陀\#(Self.escaped) · 在站 Inside <strong>0 / 6</strong> · 在线 online · 开放 否 closed · 故障 Faults: –</p>"#))
        #expect(html.contains("<p>地址 Address: 沈家门 1 号\(Self.escaped)</p>"))
        #expect(html.contains(#"<form method="get" action="/stations/p-1" class="period">"#))
        #expect(html.contains(#"<td class="figure">120</td><td class="chg-up">↑ 20.0 %</td><td class="chg-down">↓ 20.0 %</td>"#))
        #expect(!html.contains("估计 estimated") && !html.contains("各站峰值之和"), "one station: exact, and its own peak")
        #expect(html.contains(#"<a href="/api/v1/usage?station=p-1&amp;from=2026-11-01&amp;to=2026-11-23&amp;bucket=day&amp;format=csv">"#))
        #expect(html.components(separatedBy: "<figure><figcaption>").count - 1 == 6)
        #expect(html.components(separatedBy: #"<svg viewBox="#).count - 1 == 6, "the charts' markup goes in as drawn")
        #expect(html.contains("<figcaption>到访 Visits 每日 per day</figcaption><svg") && html.contains("周一 Mon"))
        #expect(html.contains("座位 seats 6"), "capacity drawn against the peak")
        #expect(!html.contains("&lt;svg"), "not escaped twice")
        expectEscaped(html)

        var offline = page
        offline.online = false
        offline.open = true
        offline.district = nil
        let other = renderer.render(offline)
        #expect(other.contains(#"<p class="big">在站 Inside <strong>0 / 6</strong> · <span class="offline">离线 offline</span> · 开放 是 open"#))
    }

    @Test func chartsEscapeTheirOwnTexts() throws {
        let chart = SVGChart.bars(title: Self.hostile, labels: [Self.hostile], values: [1])
        #expect(!chart.markup.contains(Self.hostile) && chart.markup.contains(Self.escaped))
        var page = try regionPage(.nation)
        page.charts = [.init(caption: Self.hostile, svg: chart)]
        let html = renderer.render(page)
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
