import Foundation
import Hummingbird
import HummingbirdBcrypt
import YizhanCore
import YizhanWeb

/// The station manager's pages under `/manage`: login, the overview (readers, uplink,
/// amenities, close the day), the visit log with filters, pages and CSV, and the amenity
/// history. Every page needs a session; every form carries the session's CSRF token.
/// The handlers read the request and the store, build the page's view model (Pages/) and
/// render it; the pages themselves are templates.
struct ManagerPages: Sendable {
    let runtime: StationRuntime
    let sessions: ManagerSessions
    /// Parsed when the server is built: a broken template stops the daemon at start.
    let renderer = StationPages.renderer

    static let csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    /// What the manager forms post (each uses some of the fields).
    struct Form: Decodable, Sendable {
        var csrf: String?
        var amenity: String?
        var status: String?
        var note: String?
    }

    func register(on router: Router<WebRequestContext>) {
        router.get("/manage/login") { request, _ in self.loginPage(message: nil, status: .ok) }
        router.post("/manage/login") { request, context in try await self.login(request, from: context.clientAddress) }
        router.post("/manage/logout") { request, _ in try await self.withForm(request) { _, _ in try await self.logout(request) } }
        router.get("/manage") { request, _ in try await self.withSession(request) { s in self.overview(s) } }
        router.get("/manage/log") { request, _ in try await self.withSession(request) { s in try await self.log(request, s) } }
        router.get("/manage/log.csv") { request, _ in try await self.withSession(request) { _ in try await self.logCSV(request) } }
        router.get("/manage/amenities") { request, _ in try await self.withSession(request) { s in try await self.amenityHistory(s) } }
        router.post("/manage/amenity") { request, _ in try await self.withForm(request) { s, form in try await self.setAmenity(s, form) } }
        router.post("/manage/close-day") { request, _ in try await self.withForm(request) { s, _ in try await self.closeDay(s) } }
    }

    private var stationName: String { runtime.configuration.station.name }

    /// A rendered page with the pages' headers (CSP, no-store).
    func page<Model: PageModel>(_ model: Model, status: HTTPResponse.Status = .ok) -> Response {
        PageResponse.html(renderer.render(model), status: status, contentSecurityPolicy: Self.csp)
    }

    /// A message on the manager layout: errors, refused and unsaved forms.
    func message(_ status: HTTPResponse.Status, title: String, _ text: String, session: WebSession?) -> Response {
        page(ManagerMessagePage.make(title: title, message: text, stationName: stationName, session: session), status: status)
    }

    /// The error page `ErrorMiddleware` shows a browser.
    func errorPage(status: HTTPResponse.Status, message text: String) -> Response {
        message(status, title: "\(status.code) \(status.reasonPhrase)", text, session: nil)
    }

    // MARK: sessions

    /// A page for a logged-in manager; otherwise to the login page.
    private func withSession(_ request: Request, _ body: (WebSession) async throws -> Response) async throws -> Response {
        guard let session = try await sessions.sessions.session(request) else {
            return Response(status: .seeOther, headers: [.location: "/manage/login"])
        }
        return try await body(session)
    }

    /// A form post: a session, the same origin, and the session's CSRF token.
    private func withForm(_ request: Request,
                          _ body: (WebSession, Form) async throws -> Response) async throws -> Response {
        guard let session = try await sessions.sessions.session(request) else {
            return page(ManagerMessagePage.loginRequired(stationName: stationName), status: .unauthorized)
        }
        let form: Form
        do {
            form = try await Forms.decode(Form.self, from: request, limit: 16 * 1024, timeout: runtime.configuration.http.limits.bodyTimeout)
        } catch let e as APIErrorResponse {
            return message(e.status, title: "拒绝 Refused", e.body.message, session: session)
        }
        guard let token = form.csrf, ConstantTime.equal(token, session.csrf) else {
            return message(.forbidden, title: "拒绝 Refused", "表单已过期或无效，请返回重试。 The form is stale or forged; go back and try again.", session: session)
        }
        return try await body(session, form)
    }

    private func loginPage(message: String?, status: HTTPResponse.Status) -> Response {
        page(ManagerLoginPage.make(stationName: stationName, message: message), status: status)
    }

    private func login(_ request: Request, from address: String) async throws -> Response {
        let form: LoginForm
        do {
            form = try await Forms.decode(LoginForm.self, from: request, limit: 4096, timeout: runtime.configuration.http.limits.bodyTimeout)
        } catch let e as APIErrorResponse {
            var response = loginPage(message: e.body.message, status: e.status)
            for field in e.headers { response.headers.append(field) }
            return response
        }
        let name = form.name ?? ""
        let hash = name.isEmpty || name.utf8.count > 64 || name.utf8.contains(0) ? nil : try runtime.store.managerPasswordHash(name: name)
        switch await sessions.logins.attempt(account: name, passwordHash: hash, password: form.password ?? "", address: address) {
        case .success:
            var response = Response(status: .seeOther, headers: [.location: "/manage"])
            response.setCookie(try await sessions.sessions.create(name: name).cookie)
            runtime.logger.info("manager logged in", metadata: ["name": "\(name)"])
            return response
        case .throttled(let wait):
            let seconds = APIErrorResponse.retryAfterSeconds(wait)
            var response = loginPage(message: "尝试次数过多，请 \(seconds) 秒后再试。 Too many attempts; try again in \(seconds) s.", status: .tooManyRequests)
            response.headers[.retryAfter] = "\(seconds)"
            return response
        case .busy:
            var response = loginPage(message: "系统繁忙，请稍后再试。 Busy; try again in a moment.", status: .serviceUnavailable)
            response.headers[.retryAfter] = "2"
            return response
        case .malformed(let problem):
            return loginPage(message: "密码无效 Invalid password: \(problem)", status: .badRequest)
        case .wrongCredentials:
            runtime.logger.notice("manager login failed", metadata: ["name": "\(IngestValidation.printable(name))"])
            return loginPage(message: "用户名或密码错误 Wrong name or password", status: .unauthorized)
        }
    }

    private func logout(_ request: Request) async throws -> Response {
        var response = Response(status: .seeOther, headers: [.location: "/manage/login"])
        if let cookie = try await sessions.sessions.end(request) { response.setCookie(cookie) }
        return response
    }

    // MARK: pages

    private func overview(_ s: WebSession) -> Response {
        page(ManagerOverviewPage.make(status: runtime.status(), hours: runtime.configuration.policy.hours.description,
                                      stationName: stationName, session: s))
    }

    /// Filters from the query: since/until (dates or times), kind, reader; `after` pages.
    private func query(_ request: Request, limit: Int) -> (EventStore.Query, [String: String]) {
        let params = FormData.parse(request.uri.query ?? "")
        let offset = runtime.configuration.station.utcOffset
        var q = EventStore.Query()
        q.descending = true
        q.limit = limit
        func time(_ key: String, end: Bool) -> Timestamp? {
            guard let text = params[key], !text.isEmpty else { return nil }
            if text.count == 10, let day = RFC3339.parse(text + "T00:00:00", defaultOffset: offset) { return end ? day + .seconds(86_400) : day }
            return RFC3339.parse(text, defaultOffset: offset)
        }
        q.since = time("since", end: false)
        q.until = time("until", end: true)
        if let k = params["kind"], let kind = EventKind(rawValue: k) { q.kinds = [kind] }
        if let r = params["reader"], !r.isEmpty { q.reader = r }
        if let a = params["after"], let after = Int64(a) { q.after = after }
        return (q, params)
    }

    private func log(_ request: Request, _ s: WebSession) async throws -> Response {
        let pageSize = 50
        let (q, params) = query(request, limit: pageSize)
        let offset = runtime.configuration.station.utcOffset
        let events = try await runtime.store.events(q).map { EventRecord($0, offset: offset) }
        return page(VisitLogPage.make(events: events, filters: params, pageSize: pageSize, stationName: stationName, session: s))
    }

    private func logCSV(_ request: Request) async throws -> Response {
        var (q, _) = query(request, limit: 100_000)
        q.descending = false
        let events = try await runtime.store.events(q)
        let offset = runtime.configuration.station.utcOffset
        // A download for Excel: byte-order mark, CRLF, quoted and formula-safe (CSV).
        var csv = CSV.byteOrderMark + CSV.header(EventRecord.csvHeader)
        for r in events { csv += CSV.line(EventRecord(r, offset: offset).csvFields) }
        let name = "\(runtime.configuration.station.id)-log.csv"
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .cacheControl: "no-store",
                                               .contentDisposition: "attachment; filename=\"\(name)\""],
                        body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    private func amenityHistory(_ s: WebSession) async throws -> Response {
        var q = EventStore.Query()
        q.kinds = [.amenity, .faultReport]
        q.descending = true
        q.limit = 200
        // station.toml's amenities and the office's (offered now); an office amenity removed
        // since has its kind as id, so the catalogue names it.
        var names = AmenityCatalogue.names.mapValues { "\($0.zh) \($0.en)" }
        for a in runtime.configuration.amenities + runtime.recorder.amenities.entries.map(\.definition) { names[a.id] = "\(a.nameZh) \(a.nameEn)" }
        return page(AmenityHistoryPage.make(events: try await runtime.store.events(q), names: names,
                                            offset: runtime.configuration.station.utcOffset, stationName: stationName, session: s))
    }

    // MARK: actions

    private func setAmenity(_ s: WebSession, _ form: Form) async throws -> Response {
        guard let id = form.amenity, let status = form.status.flatMap(AmenityStatus.init(rawValue:)) else {
            return message(.badRequest, title: "无效 Invalid", "缺少设施或状态 Missing amenity or status.", session: s)
        }
        let note = form.note.flatMap { $0.isEmpty ? nil : $0 }
        let by = AmenityEventDetail.isValidActor(Substring(s.name)) ? s.name : "manager"
        do {
            _ = try await runtime.recorder.record(.amenity(id: id, status: status, by: by, note: note))
        } catch let e as VisitRecorder.RequestError {
            return message(.unprocessableContent, title: "未保存 Not saved", e.description, session: s)
        }
        return Response(status: .seeOther, headers: [.location: "/manage"])
    }

    private func closeDay(_ s: WebSession) async throws -> Response {
        let result = try await runtime.recorder.closeDay(by: "manager \(s.name)")
        runtime.logger.info("day closed from the manager page", metadata: ["by": "\(s.name)", "checked_out": "\(result.checkedOut)"])
        return Response(status: .seeOther, headers: [.location: "/manage"])
    }
}
