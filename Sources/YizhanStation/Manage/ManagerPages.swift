import Foundation
import Hummingbird
import HummingbirdBcrypt
import YizhanCore
import YizhanWeb

/// The station manager's pages under `/manage`: login, the overview (readers, uplink,
/// amenities, close the day), the visit log with filters, pages and CSV, and the amenity
/// history. Every page needs a session; every form carries the session's CSRF token.
struct ManagerPages: Sendable {
    let runtime: StationRuntime
    let sessions: ManagerSessions

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
        router.get("/manage") { request, _ in try await self.withSession(request) { s in try await self.overview(s) } }
        router.get("/manage/log") { request, _ in try await self.withSession(request) { s in try await self.log(request, s) } }
        router.get("/manage/log.csv") { request, _ in try await self.withSession(request) { _ in try await self.logCSV(request) } }
        router.get("/manage/amenities") { request, _ in try await self.withSession(request) { s in try await self.amenityHistory(s) } }
        router.post("/manage/amenity") { request, _ in try await self.withForm(request) { s, form in try await self.setAmenity(s, form) } }
        router.post("/manage/close-day") { request, _ in try await self.withForm(request) { s, _ in try await self.closeDay(s) } }
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
            return html(status: .unauthorized, title: "需要登录 Login required", body: #"<p>请先<a href="/manage/login">登录</a>。 Please <a href="/manage/login">log in</a>.</p>"#, session: nil)
        }
        let form: Form
        do {
            form = try await Forms.decode(Form.self, from: request, limit: 16 * 1024, timeout: runtime.configuration.http.limits.bodyTimeout)
        } catch let e as APIErrorResponse {
            return html(status: e.status, title: "拒绝 Refused", body: "<p>\(HTML.escape(e.body.message))</p>", session: session)
        }
        guard let token = form.csrf, ConstantTime.equal(token, session.csrf) else {
            return html(status: .forbidden, title: "拒绝 Refused",
                        body: "<p>表单已过期或无效，请返回重试。 The form is stale or forged; go back and try again.</p>", session: session)
        }
        return try await body(session, form)
    }

    private func loginPage(message: String?, status: HTTPResponse.Status) -> Response {
        let note = message.map { #"<p class="error" role="alert">\#(HTML.escape($0))</p>"# } ?? ""
        return html(status: status, title: "站长登录 Manager login", body: #"""
            \#(note)
            <form method="post" action="/manage/login" class="login">
              <label for="name">用户名 Name</label><input id="name" name="name" autocomplete="username" required>
              <label for="password">密码 Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
              <button type="submit">登录 Log in</button>
            </form>
            <p class="muted">密码由 <code>yizhanctl manager add --name NAME</code> 设置。 Passwords are set with yizhanctl on the station box.</p>
            """#, session: nil)
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

    private func overview(_ s: WebSession) async throws -> Response {
        let st = runtime.status()
        let e = HTML.escape
        let readers = st.readers.map { r -> String in
            "<tr><td>\(e(r.name))</td><td>\(e(r.protocol))</td><td>\(e(r.device))</td><td class=\"state-\(e(r.state))\">\(e(r.state))</td><td>\(e(String((r.since ?? "").prefix(19))))</td><td>\(r.reads)</td><td>\(r.badReads)</td></tr>"
        }.joined()
        let u = st.uplink
        // (Typed: GRDB's SQL literal would otherwise claim these interpolations.)
        let amenities = st.amenities.map { a -> String in
            let options: String = AmenityStatus.allCases.map { (s: AmenityStatus) -> String in "<option value=\"\(s.rawValue)\"\(s == a.status ? " selected" : "")>\(Self.statusName(s))</option>" }.joined()
            let reports = a.openReports > 0 ? "<strong>\(a.openReports)</strong>" + (a.lastReportNote.map { "：" + e($0) } ?? "") : "0"
            return """
                <tr><td>\(e(a.nameZh)) \(e(a.nameEn))</td><td class="amenity-\(a.status.rawValue)">\(Self.statusName(a.status))</td>
                <td>\(e(String((a.since ?? "").prefix(16))))</td><td>\(e(a.by ?? ""))</td><td>\(e(a.note ?? ""))</td><td>\(reports)</td>
                <td><form method="post" action="/manage/amenity" class="inline">
                <input type="hidden" name="csrf" value="\(s.csrf)"><input type="hidden" name="amenity" value="\(e(a.id))">
                <label class="sr" for="status-\(e(a.id))">状态 Status</label><select id="status-\(e(a.id))" name="status">\(options)</select>
                <label class="sr" for="note-\(e(a.id))">备注 Note</label><input id="note-\(e(a.id))" name="note" maxlength="200" placeholder="备注 note">
                <button type="submit">保存 Save</button></form></td></tr>
                """
        }.joined()
        return html(status: .ok, title: "概览 Overview", body: """
            <section><h2>\(e(st.name))</h2>
            <p class="big">在站 Inside: <strong>\(st.occupancy) / \(st.capacity)</strong>\(st.full ? " · <span class=\"bad\">已满员 Full</span>" : "") · \(st.open ? "开放中 Open" : "未开放 Closed") · \(e(runtime.configuration.policy.hours.description))</p></section>
            <section><h2>设施 Amenities</h2>
            <table><thead><tr><th>设施 Amenity</th><th>状态 Status</th><th>自 Since</th><th>由 By</th><th>备注 Note</th><th>待处理报修 Open reports</th><th>更改 Change</th></tr></thead><tbody>\(amenities)</tbody></table>
            <p><a href="/manage/amenities">设施记录 Amenity history</a></p></section>
            <section><h2>读卡器 Readers</h2>
            <table><thead><tr><th>名称 Name</th><th>协议 Protocol</th><th>设备 Device</th><th>状态 State</th><th>自 Since</th><th>读卡 Reads</th><th>失败 Bad</th></tr></thead><tbody>\(readers)</tbody></table></section>
            <section><h2>上报 Uplink</h2>
            <p>状态 State: <strong>\(e(u.state.rawValue))</strong> · 待上报 Backlog: \(u.backlog) · 已确认 Last ack: \(u.lastAck) · 心跳 Heartbeat: \(e(u.lastHeartbeat ?? "–"))\(u.detail.map { " · " + e($0) } ?? "")</p></section>
            <section><h2>日结 Close the day</h2>
            <form method="post" action="/manage/close-day"><input type="hidden" name="csrf" value="\(s.csrf)">
            <p>为仍在站内的 \(st.occupancy) 人签退并结束今天。 Check out the \(st.occupancy) still inside and close the day.</p>
            <button type="submit" class="danger">日结 Close the day</button></form></section>
            """, session: s)
    }

    static func statusName(_ s: AmenityStatus) -> String {
        switch s {
        case .ok: return "正常 OK"
        case .degraded: return "部分可用 Limited"
        case .outOfOrder: return "故障 Out of order"
        case .closed: return "暂停 Closed"
        }
    }

    /// Filters from the query: since/until (dates or times), kind, reader; `after` pages.
    private func query(_ request: Request, limit: Int) throws -> (EventStore.Query, [String: String]) {
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
        let (q, params) = try query(request, limit: 50)
        let events = try await runtime.store.events(q)
        let offset = runtime.configuration.station.utcOffset
        let e = HTML.escape
        let rows = events.map { r -> String in
            let x = EventRecord(r, offset: offset)
            return "<tr><td>\(x.seq)</td><td>\(e(String(x.time.prefix(19)).replacingOccurrences(of: "T", with: " ")))</td><td>\(e(x.kind))</td><td>\(e(x.cardHint ?? ""))</td><td>\(e(x.reader ?? ""))</td><td>\(x.occupancy)</td><td>\(x.staySeconds.map { "\($0 / 60) min" } ?? "")</td><td>\(e(x.detail ?? ""))</td></tr>"
        }.joined()
        // Only the filters this page knows go back into its links, encoded, then escaped
        // for the attribute (a query key from the address bar never reaches the page).
        let filters = ["since", "until", "kind", "reader"].compactMap { key in
            params[key].flatMap { $0.isEmpty ? nil : "\(key)=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
        }.joined(separator: "&")
        let next = events.count == q.limit ? events.last.map { "<a href=\"\(e("/manage/log?\(filters)\(filters.isEmpty ? "" : "&")after=\($0.seq)"))\" rel=\"next\">更早 Older →</a>" } ?? "" : ""
        let kinds = ([""] + EventKind.allCases.map(\.rawValue)).map { (k: String) -> String in "<option value=\"\(k)\"\(params["kind"] == k ? " selected" : "")>\(k.isEmpty ? "全部 all" : k)</option>" }.joined()
        return html(status: .ok, title: "访问记录 Visit log", body: """
            <form method="get" action="/manage/log" class="filters">
            <label for="since">从 From</label><input id="since" name="since" type="date" value="\(e(params["since"] ?? ""))">
            <label for="until">到 To</label><input id="until" name="until" type="date" value="\(e(params["until"] ?? ""))">
            <label for="kind">类型 Kind</label><select id="kind" name="kind">\(kinds)</select>
            <label for="reader">读卡器 Reader</label><input id="reader" name="reader" value="\(e(params["reader"] ?? ""))" size="8">
            <button type="submit">筛选 Filter</button> <a href="\(e("/manage/log.csv?" + filters))">导出 CSV</a></form>
            <table><thead><tr><th>#</th><th>时间 Time</th><th>类型 Kind</th><th>卡 Card</th><th>读卡器 Reader</th><th>在站 Inside</th><th>停留 Stay</th><th>详情 Detail</th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"8\">没有记录 No events</td></tr>" : rows)</tbody></table>
            <p class="pager">\(next)</p>
            """, session: s)
    }

    private func logCSV(_ request: Request) async throws -> Response {
        var (q, _) = try query(request, limit: 100_000)
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
        let offset = runtime.configuration.station.utcOffset
        let e = HTML.escape
        let names = Dictionary(uniqueKeysWithValues: runtime.configuration.amenities.map { ($0.id, "\($0.nameZh) \($0.nameEn)") })
        let rows = try await runtime.store.events(q).map { r -> String in
            let time = String(RFC3339.format(r.event.time, offset: offset).prefix(16)).replacingOccurrences(of: "T", with: " ")
            switch try? AmenityEventDetail.parse(kind: r.event.kind.rawValue, detail: r.event.detail) {
            case .change(let id, let status, let by, let note)?:
                return "<tr><td>\(e(time))</td><td>\(e(names[id] ?? id))</td><td>\(Self.statusName(status))</td><td>\(e(by ?? ""))</td><td>\(e(note ?? ""))</td></tr>"
            case .faultReport(let id, let note)?:
                return "<tr><td>\(e(time))</td><td>\(e(names[id] ?? id))</td><td>报修 Reported</td><td>kiosk</td><td>\(e(note ?? ""))</td></tr>"
            default:
                return ""
            }
        }.joined()
        return html(status: .ok, title: "设施记录 Amenity history", body: """
            <table><thead><tr><th>时间 Time</th><th>设施 Amenity</th><th>状态 Status</th><th>由 By</th><th>备注 Note</th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"5\">没有记录 Nothing yet</td></tr>" : rows)</tbody></table>
            """, session: s)
    }

    // MARK: actions

    private func setAmenity(_ s: WebSession, _ form: Form) async throws -> Response {
        guard let id = form.amenity, let status = form.status.flatMap(AmenityStatus.init(rawValue:)) else {
            return html(status: .badRequest, title: "无效 Invalid", body: "<p>缺少设施或状态 Missing amenity or status.</p>", session: s)
        }
        let note = form.note.flatMap { $0.isEmpty ? nil : $0 }
        let by = AmenityEventDetail.isValidActor(Substring(s.name)) ? s.name : "manager"
        do {
            _ = try await runtime.recorder.record(.amenity(id: id, status: status, by: by, note: note))
        } catch let e as VisitRecorder.RequestError {
            return html(status: .unprocessableContent, title: "未保存 Not saved", body: "<p>\(HTML.escape(e.description))</p>", session: s)
        }
        return Response(status: .seeOther, headers: [.location: "/manage"])
    }

    private func closeDay(_ s: WebSession) async throws -> Response {
        let result = try await runtime.recorder.closeDay(by: "manager \(s.name)")
        runtime.logger.info("day closed from the manager page", metadata: ["by": "\(s.name)", "checked_out": "\(result.checkedOut)"])
        return Response(status: .seeOther, headers: [.location: "/manage"])
    }

    // MARK: layout

    func html(status: HTTPResponse.Status, title: String, body: String, session: WebSession?) -> Response {
        let nav = session.map { s in
            """
            <nav><a href="/manage">概览 Overview</a><a href="/manage/log">访问记录 Visit log</a><a href="/manage/amenities">设施记录 Amenities</a>
            <form method="post" action="/manage/logout" class="inline"><input type="hidden" name="csrf" value="\(s.csrf)">
            <button type="submit">退出 \(HTML.escape(s.name)) · Log out</button></form></nav>
            """
        } ?? ""
        let page = """
            <!DOCTYPE html>
            <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · \(HTML.escape(runtime.configuration.station.name))</title>
            <style>
            body { font-family: "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif; margin: 0; color: #111; background: #fff; font-size: 16px; }
            header { background: #123; color: #fff; padding: 12px 20px; } header h1 { margin: 0; font-size: 20px; }
            nav { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 8px 20px; background: #e8eef3; }
            nav a { color: #0b3d91; } main { padding: 16px 20px; max-width: 1400px; }
            table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; } th, td { border-bottom: 1px solid #ccd; padding: 6px 8px; text-align: left; vertical-align: top; }
            th { background: #f3f5f7; } .inline { display: inline-flex; gap: 6px; flex-wrap: wrap; align-items: center; margin: 0; }
            .big { font-size: 20px; } .bad, .error, .amenity-out_of_order, .state-down { color: #a00000; font-weight: bold; }
            .amenity-degraded { color: #7a4d00; font-weight: bold; } .muted { color: #555; }
            button { font: inherit; padding: 4px 12px; } .danger { background: #a00000; color: #fff; border: 0; padding: 8px 16px; }
            .login { display: grid; gap: 8px; max-width: 320px; } .filters { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
            .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
            </style></head>
            <body><header><h1>\(HTML.escape(runtime.configuration.station.name)) · \(title)</h1></header>\(nav)<main>\(body)</main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                                  .init("Content-Security-Policy")!: Self.csp],
                        body: .init(byteBuffer: ByteBuffer(string: page)))
    }
}
