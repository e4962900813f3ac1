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
/// station with charts drawn on the server. Managers see only their stations.
struct Dashboard: Sendable {
    let http: CollectorHTTP

    static let csp = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    func register(on router: Router<WebRequestContext>) {
        router.get("/login") { _, _ in self.page(title: "登录 Log in", body: Self.loginForm(nil), session: nil) }
        router.post("/login") { request, context in try await self.login(request, from: context.clientAddress) }
        router.post("/logout") { request, _ in try await self.logout(request) }
        router.get("/") { request, _ in try await self.withSession(request) { try await self.overview($0) } }
        router.get("/stations/:id") { request, context in
            try await self.withSession(request) { try await self.station(context.parameters.get("id") ?? "", $0) }
        }
    }

    private func withSession(_ request: Request, _ body: (OfficeSession) async throws -> Response) async throws -> Response {
        guard let s = try await http.officeSession(request) else { return Response(status: .seeOther, headers: [.location: "/login"]) }
        return try await body(s)
    }

    static func loginForm(_ message: String?) -> String {
        (message.map { #"<p class="error" role="alert">\#(HTML.escape($0))</p>"# } ?? "") + """
            <form method="post" action="/login" class="login">
            <label for="name">用户名 Name</label><input id="name" name="name" autocomplete="username" required>
            <label for="password">密码 Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
            <button type="submit">登录 Log in</button></form>
            """
    }

    struct LogoutForm: Decodable { var csrf: String? }

    private func login(_ request: Request, from address: String) async throws -> Response {
        let form: LoginForm
        do {
            form = try await Forms.decode(LoginForm.self, from: request, limit: 8192, timeout: http.configuration.limits.bodyTimeout)
        } catch let e as APIErrorResponse {
            var response = page(title: "登录 Log in", body: Self.loginForm(e.body.message), session: nil, status: e.status)
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
            var response = page(title: "登录 Log in", body: Self.loginForm("尝试次数过多，请 \(APIErrorResponse.retryAfterSeconds(wait)) 秒后再试。 Too many attempts; try again in \(APIErrorResponse.retryAfterSeconds(wait)) s."),
                                session: nil, status: .tooManyRequests)
            response.headers[.retryAfter] = "\(APIErrorResponse.retryAfterSeconds(wait))"
            return response
        case .busy:
            var response = page(title: "登录 Log in", body: Self.loginForm("系统繁忙，请稍后再试。 Busy; try again in a moment."), session: nil, status: .serviceUnavailable)
            response.headers[.retryAfter] = "2"
            return response
        case .malformed(let problem):
            return page(title: "登录 Log in", body: Self.loginForm("密码无效 Invalid password: \(problem)"), session: nil, status: .badRequest)
        case .wrongCredentials:
            break
        }
        return page(title: "登录 Log in", body: Self.loginForm("用户名或密码错误 Wrong name or password"), session: nil, status: .unauthorized)
    }

    private func logout(_ request: Request) async throws -> Response {
        guard let s = try await http.officeSession(request) else { return Response(status: .seeOther, headers: [.location: "/login"]) }
        let f = try await Forms.decode(LogoutForm.self, from: request, limit: 4096, timeout: http.configuration.limits.bodyTimeout)
        guard let token = f.csrf, ConstantTime.equal(token, s.csrf) else {
            return page(title: "拒绝 Refused", body: "<p>表单无效 Forged or stale form.</p>", session: s, status: .forbidden)
        }
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        if let cookie = try await http.sessions.end(request) { response.setCookie(cookie) }
        return response
    }

    private func overview(_ s: OfficeSession) async throws -> Response {
        let directory = try await http.directory(s.user)
        let e = HTML.escape
        let rows = directory.views.map { v -> String in
            """
                <tr><td><a href="/stations/\(e(v.id))">\(e(v.name))</a><br><small>\(e(v.id))</small></td><td>\(e(v.district ?? ""))</td>
                <td>\(v.occupancy) / \(v.capacity)</td><td class="\(v.online ? "online" : "offline")">\(v.online ? "在线 online" : "离线 offline")</td>
                <td>\(v.faults.isEmpty ? "–" : e(v.faults.joined(separator: ", ")))</td><td>\(e(String((v.lastSeen ?? "–").prefix(19)).replacingOccurrences(of: "T", with: " ")))</td></tr>
                """
        }.joined()
        let districtRows = directory.districts.map { d -> String in
            "<tr><td>\(e(d.district.isEmpty ? "–" : d.district))</td><td>\(d.stations)</td><td>\(d.online)</td><td>\(d.occupancy) / \(d.capacity)</td><td>\(d.faults)</td></tr>"
        }.joined()
        return page(title: "站点 Stations", body: """
            <p>\(directory.views.count) 个站点 stations · 在线 online \(directory.onlineCount) · <a href="/api/v1/usage?format=csv">导出用量 CSV usage export</a></p>
            <h2>区县 Districts</h2>
            <table><thead><tr><th>区县 District</th><th>站点 Stations</th><th>在线 Online</th><th>在站 Inside</th><th>故障 Faults</th></tr></thead><tbody>\(districtRows)</tbody></table>
            <h2>站点 Stations</h2>
            <table><thead><tr><th>站点 Station</th><th>区县 District</th><th>在站 Inside</th><th>状态 State</th><th>故障 Faults</th><th>最后心跳 Last seen</th></tr></thead>
            <tbody>\(rows.isEmpty ? "<tr><td colspan=\"6\">没有站点 No stations</td></tr>" : rows)</tbody></table>
            <p class="muted">每 30 秒刷新 Refreshes every 30 s.</p>
            """, session: s, refreshSeconds: 30)
    }

    private func station(_ id: String, _ s: OfficeSession) async throws -> Response {
        let now = Timestamp.now()
        let directory = try await http.directory(s.user, now: now)
        guard let i = directory.records.firstIndex(where: { $0.id == id }) else {
            return page(title: "没有此站 Not found", body: "<p>没有此站点，或不在您的范围内。 No such station among yours.</p>", session: s, status: .notFound)
        }
        let (st, v) = (directory.records[i], directory.views[i])
        let e = HTML.escape
        func report(_ from: Timestamp, _ to: Timestamp, _ bucket: UsageBucketSize) async throws -> UsageReport {
            let q = UsageQuery(from: from, to: to, bucket: bucket, offset: http.configuration.utcOffset)
            let input = try await http.store.usageInput(stations: [id], from: q.from, to: q.to)
            return UsageAggregator.aggregate(q, starts: input.starts, events: input.events, now: now)
        }
        let days = try await report(now - .seconds(29 * 86_400), now, .day)
        let weeks = try await report(now - .seconds(28 * 86_400), now, .hour)
        let todayStart = UsageQuery(from: now, to: now, bucket: .day, offset: http.configuration.utcOffset).from
        let hours = try await report(todayStart, todayStart + .seconds(86_400), .hour)
        let dayLabel = { (t: Timestamp) in String(RFC3339.format(t, offset: http.configuration.utcOffset).dropFirst(5).prefix(5)) }
        // Hour of week, Monday first, China time.
        var cells = Array(repeating: Array(repeating: 0.0, count: 24), count: 7)
        for b in weeks.buckets {
            let c = CivilTime(b.start, offset: http.configuration.utcOffset)
            cells[(c.weekday + 6) % 7][c.hour] += Double(b.visits)
        }
        let weekdays = ["周一 Mon", "周二 Tue", "周三 Wed", "周四 Thu", "周五 Fri", "周六 Sat", "周日 Sun"]
        let charts = [
            ("每日到访 Visits per day (30 days)", SVGChart.bars(title: "Visits per day", labels: days.buckets.map { dayLabel($0.start) },
                                                              values: days.buckets.map { Double($0.visits) }, labelEvery: 5)),
            ("到访时段 Hour of week (4 weeks)", SVGChart.heatmap(title: "Visits by hour of week", cells: cells, rowLabels: weekdays)),
            ("今日在站 Inside through today (peak per hour)", SVGChart.line(title: "Occupancy today", labels: (0..<24).map { "\($0)" },
                                                                         values: hours.buckets.map { Double($0.peakOccupancy) })),
            ("设施故障时长 Amenity downtime per day (hours)", SVGChart.bars(title: "Downtime per day", labels: days.buckets.map { dayLabel($0.start) },
                                                                        values: days.buckets.map { Double($0.amenityDowntimeSeconds) / 3600 }, labelEvery: 5, unit: " h")),
            ("满意度 Satisfaction (mean 1–5 per day)", SVGChart.bars(title: "Satisfaction per day", labels: days.buckets.map { dayLabel($0.start) },
                                                                   values: days.buckets.map { $0.meanRating ?? 0 }, labelEvery: 5)),
        ].map { "<figure><figcaption>\($0.0)</figcaption>\($0.1)</figure>" }.joined()
        let t = days.totals
        return page(title: st.name, body: """
            <p><a href="/">← 全部站点 All stations</a></p>
            <p class="big">\(e(st.district ?? "")) · 在站 Inside <strong>\(v.occupancy) / \(v.capacity)</strong> · \(v.online ? "在线 online" : "<span class=\"offline\">离线 offline</span>") · 开放 \(v.open == true ? "是 open" : "否 closed") · 故障 Faults: \(v.faults.isEmpty ? "–" : e(v.faults.joined(separator: ", ")))</p>
            <p>30 天 30 days: 到访 visits \(t.visits) · 服务人数 unique workers \(t.uniqueWorkers) · 平均停留 mean stay \(t.meanStaySeconds.map { "\($0 / 60) min" } ?? "–") · 报修 fault reports \(t.faultReports) · 评分 ratings \(t.ratings)\(t.meanRating.map { " (\($0))" } ?? "")
            · <a href="/api/v1/usage?station=\(e(id))&amp;bucket=day&amp;format=csv">CSV</a></p>
            <div class="charts">\(charts)</div>
            """, session: s)
    }

    func page(title: String, body: String, session: OfficeSession?, status: HTTPResponse.Status = .ok,
              refreshSeconds: Int? = nil) -> Response {
        Self.page(title: title, body: body, session: session, status: status, refreshSeconds: refreshSeconds)
    }

    static func page(title: String, body: String, session: OfficeSession?, status: HTTPResponse.Status = .ok,
                     refreshSeconds: Int? = nil) -> Response {
        let nav = session.map { s in
            """
            <nav><a href="/">站点 Stations</a><span>\(HTML.escape(s.user.name)) (\(s.user.role.rawValue))</span>
            <form method="post" action="/logout"><input type="hidden" name="csrf" value="\(s.csrf)"><button type="submit">退出 Log out</button></form></nav>
            """
        } ?? ""
        let html = """
            <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            \(refreshSeconds.map { "<meta http-equiv=\"refresh\" content=\"\($0)\">" } ?? "")
            <title>\(HTML.escape(title)) · 驿站 Yizhan</title><style>
            body { font-family: "Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif; margin: 0; color: #111; background: #fff; }
            header { background: #123; color: #fff; padding: 12px 20px; } h1 { margin: 0; font-size: 20px; }
            nav { display: flex; gap: 16px; align-items: center; padding: 8px 20px; background: #e8eef3; } nav form { margin: 0 0 0 auto; }
            main { padding: 16px 20px; } table { border-collapse: collapse; width: 100%; } th, td { border-bottom: 1px solid #ccd; padding: 6px 8px; text-align: left; }
            th { background: #f3f5f7; } .online { color: #0a6b2d; } .offline, .error { color: #a00000; font-weight: bold; } a { color: #0b3d91; }
            .charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; } figure { margin: 0; }
            figcaption { font-weight: bold; margin-bottom: 4px; } .chart { width: 100%; height: auto; background: #fafbfc; } .chart text { fill: #222; }
            .login { display: grid; gap: 8px; max-width: 320px; } .big { font-size: 18px; }
            </style></head><body><header><h1>驿站 · \(HTML.escape(title))</h1></header>\(nav)<main>\(body)</main></body></html>
            """
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                                  .init("Content-Security-Policy")!: Self.csp],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
