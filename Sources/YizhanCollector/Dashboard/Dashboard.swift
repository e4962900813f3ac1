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

/// The office dashboard at `/`: the station table live, the district roll-up, a page per
/// station with charts drawn on the server. Managers see only their stations. The handlers
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
        router.get("/") { request, _ in try await self.withSession(request) { try await self.overview($0) } }
        router.get("/stations/:id") { request, context in
            try await self.withSession(request) { try await self.station(context.parameters.get("id") ?? "", $0) }
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

    private func overview(_ s: OfficeSession) async throws -> Response {
        let directory = try await http.directory(s.user)
        return Self.page(OfficeOverviewPage.make(views: directory.views, districts: directory.districts, session: s))
    }

    private func station(_ id: String, _ s: OfficeSession) async throws -> Response {
        let now = Timestamp.now()
        let directory = try await http.directory(s.user, now: now)
        guard let i = directory.records.firstIndex(where: { $0.id == id }) else {
            return Self.page(OfficeMessagePage.make(title: "没有此站 Not found", message: "没有此站点，或不在您的范围内。 No such station among yours.", session: s),
                             status: .notFound)
        }
        let offset = http.configuration.utcOffset
        let scope = Analytics.Scope(rollups: .stations([id]), stations: [directory.records[i]], region: nil, district: nil, description: id)
        func report(_ from: Timestamp, _ to: Timestamp, _ bucket: UsageBucket) async throws -> UsageReport {
            try await http.analytics.usage(scope, period: try UsagePeriod(from: from, to: to, bucket: bucket, offset: offset),
                                           comparisons: false, now: now).report
        }
        let days = try await report(now - .seconds(29 * 86_400), now, .day)
        let weeks = try await report(now - .seconds(28 * 86_400), now, .hour)
        let todayStart = try UsagePeriod(from: now, to: now, bucket: .day, offset: offset).from
        let today = try await report(todayStart, todayStart + .seconds(86_400), .hour)
        let charts = StationCharts.make(days: days, weeks: weeks, today: today, offset: offset)
        return Self.page(OfficeStationPage.make(record: directory.records[i], view: directory.views[i], days: days, charts: charts, session: s))
    }
}
