import Foundation
import Hummingbird
import HummingbirdBcrypt
import Synchronization
import YizhanCore
import YizhanWeb

/// A dashboard login: the user as the store has them now (role and stations may change
/// while they are logged in) and the session's CSRF token.
struct OfficeSession: Sendable {
    var user: UserRecord
    var csrf: String
    static let cookie = "yizhan_office"
}

/// The office dashboard at `/`: a region's page (the nation's, or the user's region's)
/// with its child regions to drill down through, its figures for a period and their
/// change, charts drawn on the server, the ranking and a map of its stations; a page per
/// station. Managers see only their stations, region users only their region. The handlers
/// read the request and the store, build the page's view model (Pages/) and render it.
struct Dashboard: Sendable {
    let http: CollectorHTTP

    static let csp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    func register(on router: Router<WebRequestContext>) {
        // The templates are parsed now, while the router is built: a broken one stops the
        // collector at start rather than on the first request for its page.
        _ = OfficePages.renderer
        router.get("/login") { _, _ in self.loginPage(nil) }
        router.post("/login") { request, context in try await self.login(request, from: context.clientAddress) }
        router.post("/logout") { request, _ in try await self.logout(request) }
        router.get("/") { request, _ in try await self.withSession(request) { try await self.region(request, $0) } }
        router.get("/audit") { request, _ in try await self.withSession(request) { try await self.audit($0) } }
        router.get("/stations/:id") { request, context in
            try await self.withSession(request) { try await self.station(context.parameters.get("id") ?? "", request, $0) }
        }
    }

    /// A rendered page with the pages' headers (CSP, no-store).
    static func page<Model: PageModel>(_ model: Model, status: HTTPResponse.Status = .ok) -> Response {
        PageResponse.html(OfficePages.renderer.render(model), status: status, contentSecurityPolicy: csp)
    }

    /// The error page `ErrorMiddleware` shows a browser.
    static func errorPage(status: HTTPResponse.Status, message: String) -> Response {
        page(OfficeMessagePage.make(title: "\(status.code) \(status.reasonPhrase)", message: message, session: nil), status: status)
    }

    private func withSession(_ request: Request, _ body: (OfficeSession) async throws -> Response) async throws -> Response {
        guard let s = try await http.officeSession(request) else { return Response(status: .seeOther, headers: [.location: "/login"]) }
        return try await body(s)
    }

    private func loginPage(_ message: String?, status: HTTPResponse.Status = .ok) -> Response {
        Self.page(OfficeLoginPage.make(message: message), status: status)
    }

    struct LogoutForm: Decodable { var csrf: String? }

    private func login(_ request: Request, from address: String) async throws -> Response {
        let form: LoginForm
        do {
            form = try await Forms.decode(LoginForm.self, from: request, limit: 8192, timeout: http.configuration.limits.bodyTimeout)
        } catch let e as APIErrorResponse {
            var response = loginPage(e.body.message, status: e.status)
            for field in e.headers { response.headers.append(field) }
            return response
        }
        let name = form.name ?? ""
        // A name that cannot exist is not looked up (PostgreSQL refuses a NUL in text).
        let found = name.isEmpty || name.utf8.count > 128 || name.utf8.contains(0) ? nil : try await http.store.user(named: name)
        switch await http.logins.attempt(account: found?.user.name, passwordHash: found?.passwordHash, password: form.password ?? "", address: address) {
        case .success:
            guard let user = found?.user else { break }
            var response = Response(status: .seeOther, headers: [.location: "/"])
            response.setCookie(try await http.sessions.create(name: user.name).cookie)
            return response
        case .throttled(let wait):
            let seconds = APIErrorResponse.retryAfterSeconds(wait)
            var response = loginPage("尝试次数过多，请 \(seconds) 秒后再试。 Too many attempts; try again in \(seconds) s.", status: .tooManyRequests)
            response.headers[.retryAfter] = "\(seconds)"
            return response
        case .busy:
            var response = loginPage("系统繁忙，请稍后再试。 Busy; try again in a moment.", status: .serviceUnavailable)
            response.headers[.retryAfter] = "2"
            return response
        case .malformed(let problem):
            return loginPage("密码无效 Invalid password: \(problem)", status: .badRequest)
        case .wrongCredentials:
            break
        }
        return loginPage("用户名或密码错误 Wrong name or password", status: .unauthorized)
    }

    private func logout(_ request: Request) async throws -> Response {
        guard let s = try await http.officeSession(request) else { return Response(status: .seeOther, headers: [.location: "/login"]) }
        let f = try await Forms.decode(LogoutForm.self, from: request, limit: 4096, timeout: http.configuration.limits.bodyTimeout)
        guard let token = f.csrf, ConstantTime.equal(token, s.csrf) else {
            return Self.page(OfficeMessagePage.make(title: "拒绝 Refused", message: "表单无效 Forged or stale form.", session: s), status: .forbidden)
        }
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        if let cookie = try await http.sessions.end(request) { response.setCookie(cookie) }
        return response
    }

    /// A period from the query, or a page that says what is wrong with it.
    private enum PeriodOrPage { case period(DashboardPeriod), page(Response) }

    private func period(_ request: Request, now: Timestamp) -> PeriodOrPage {
        let q = request.uri.queryParameters
        do {
            return .period(try DashboardPeriod.parse(from: q["from"].map(String.init), to: q["to"].map(String.init),
                                                      bucket: q["bucket"].map(String.init), now: now, offset: http.configuration.utcOffset))
        } catch {
            let message = switch error {
            case .badDate(let name, let text): "\(name)=\(IngestValidation.printable(text)): 需要日期 expected a date such as 2026-11-23 (2000–2099)"
            case .badBucket(let text): "bucket=\(IngestValidation.printable(text)): 需要 expected hour, day, week or month"
            case .empty: "起始日期须早于结束日期 from must not be after to"
            case .tooManyBuckets(let n): "\(n) 个时段 buckets: 最多 at most \(UsagePeriod.maximumBuckets); 请选更长的时段 choose a longer bucket"
            }
            return .page(Self.page(OfficeMessagePage.make(title: "时段无效 Bad period", message: message, session: nil), status: .badRequest))
        }
    }

    /// The region page (`/?region=PATH`): the nation, or the user's own region, when none is given.
    private func region(_ request: Request, _ s: OfficeSession) async throws -> Response {
        let now = Timestamp.now()
        let q = request.uri.queryParameters
        let period: DashboardPeriod
        switch self.period(request, now: now) {
        case .period(let p): period = p
        case .page(let page): return page
        }
        let stations = try await http.pageStations(s.user, now: now)
        let regionText = q["region"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let scope: Analytics.Scope
        do {
            scope = try Analytics.scope(user: s.user, visible: stations.records, station: nil, region: regionText, district: nil)
        } catch let error as Analytics.ScopeError {
            switch error {
            case .outsideYourRegion, .notYours:
                return Self.page(OfficeMessagePage.make(title: "拒绝 Forbidden", message: "此地区不在您的范围内。 This region is outside yours.", session: s),
                                 status: .forbidden)
            default:
                return Self.page(OfficeMessagePage.make(title: "没有此地区 Not found", message: "您的站点中没有此地区。 No station of yours in this region.", session: s),
                                 status: .notFound)
            }
        }
        let measure = q["by"].flatMap { RankingMeasure(rawValue: String($0)) } ?? .visits
        let analytics = http.analytics
        // The headline, the charts and the child regions from the regions' own rollup rows;
        // only the rankings read every station (its measure for the period, once for both tables).
        let region = scope.region ?? .nation
        let answer = try await analytics.usage(scope, period: period.period, comparisons: true, now: now)
        let hourOfWeek = try await analytics.usage(scope, period: period.lastFourWeeksByHour, comparisons: false, now: now).report
        let visits = try await analytics.childVisits(scope, region: region, period: period.days)
        let ranked = try await analytics.rankings(scope, measure: measure, orders: [true, false], limit: OfficeRegionPage.rankingSize,
                                                  period: period.days, snapshots: http.rankingSnapshots, now: now)
        let records = scope.stations
        let live = records.indices.map { i in stations.withCurrent(records[i]) { http.pageLive($0, now: now) } }
        let input = OfficeRegionPage.Input(region: region, user: s.user, stations: scope.stations, live: live, answer: answer,
                                           hourOfWeek: hourOfWeek, visits: visits, top: ranked.lists[0], bottom: ranked.lists[1], rankedAsOf: ranked.asOf,
                                           measure: measure, period: period, now: now)
        var page = OfficeRegionPage.make(input, session: s, offset: http.configuration.utcOffset)
        page.alerts = try await openAlerts(scope.stations) { OfficeRegionPage.stationLink($0, period: period) }
        page.outOfSync = try await outOfSync(scope.stations, current: stations)
        return Self.page(page)
    }

    private func station(_ id: String, _ request: Request, _ s: OfficeSession) async throws -> Response {
        let now = Timestamp.now()
        let period: DashboardPeriod
        switch self.period(request, now: now) {
        case .period(let p): period = p
        case .page(let page): return page
        }
        let stations = try await http.pageStations(s.user, now: now)
        guard let record = stations.records.first(where: { $0.id == id }).map(stations.current) else {
            return Self.page(OfficeMessagePage.make(title: "没有此站 Not found", message: "没有此站点，或不在您的范围内。 No such station among yours.", session: s),
                             status: .notFound)
        }
        let offset = http.configuration.utcOffset
        let scope = Analytics.Scope(rollups: .stations([id]), stations: [record], region: nil, district: nil, description: id)
        let analytics = http.analytics
        let answer = try await analytics.usage(scope, period: period.period, comparisons: true, now: now)
        let hourOfWeek = try await analytics.usage(scope, period: period.lastFourWeeksByHour, comparisons: false, now: now).report
        let todayStart = DashboardPeriod.startOfDay(now, offset)
        let today = try await analytics.usage(scope, period: try UsagePeriod(from: todayStart, to: todayStart + .seconds(86_400), bucket: .hour, offset: offset),
                                              comparisons: false, now: now).report
        var page = OfficeStationPage.make(record: record, view: http.view(record, now: now), answer: answer, hourOfWeek: hourOfWeek,
                                          today: today, period: period, user: s.user, now: now, offset: offset, session: s)
        page.alerts = try await openAlerts([record]) { OfficeRegionPage.stationLink($0, period: period) }
        page.settingsSync = SettingsSyncRow(SettingsSync(station: record, rows: try await http.store.settingRows()), name: record.name)
        return Self.page(page)
    }

    /// The open alerts of these stations, for a page.
    private func openAlerts(_ stations: [StationRecord], link: (String) -> String) async throws -> OfficeAlertList {
        OfficeAlertList.make(try await AlertView.list(http.store, stations: stations, state: .open, limit: OfficeAlertList.shown + 1,
                                                      offset: http.configuration.utcOffset), stationLink: link)
    }
}

/// The office settings parts of the dashboard: the audit page, the out-of-sync list.
extension Dashboard {
    func audit(_ s: OfficeSession) async throws -> Response {
        guard s.user.role == .office else {
            return Self.page(OfficeMessagePage.make(title: "拒绝 Forbidden", message: "操作记录仅供总部用户 The audit log is for office users.", session: s),
                             status: .forbidden)
        }
        let entries = try await http.visibleAudit(s.user, limit: OfficeAuditPage.shown)
        return Self.page(OfficeAuditPage.make(entries, offset: http.configuration.utcOffset, session: s))
    }

    /// The stations of a region page whose applied settings revision is not the desired one.
    /// `current`: the heartbeats to lay over the stations.
    func outOfSync(_ stations: [StationRecord], current: CollectorHTTP.PageStations) async throws -> [SettingsSyncRow] {
        let rows = try await http.store.settingRows()
        // Only the stations out of sync are kept (a national page walks 186,000).
        var found: [(sync: SettingsSync, name: String)] = []
        for i in stations.indices {
            let sync = current.withCurrent(stations[i]) { s -> SettingsSync? in
                // The revisions compared first: a whole SettingsSync for each of 186,000
                // stations (most in sync) cost a national page some 100 ms.
                let desired = OfficeSettingsResolver.resolve(rows, station: s.id, region: s.region).revision
                return desired == s.live?.settingsRevision ?? 0 ? nil : SettingsSync(station: s, rows: rows)
            }
            if let sync, !sync.inSync { found.append((sync, stations[i].name)) }
        }
        return found.sorted { $0.sync.station < $1.sync.station }.prefix(200).map { SettingsSyncRow($0.sync, name: $0.name) }
    }
}
