import Hummingbird
import YizhanCore
import YizhanWeb

/// `/find` and its script: public, no login, no cookie, no request to anyone else (the
/// CSP allows this origin only), rate-limited like the open data.
struct FinderPages: Sendable {
    let http: CollectorHTTP

    static let csp = "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

    func register(on router: Router<WebRequestContext>) {
        router.get("/find") { request, context in try await self.find(request, context) }
        router.get("/find.js") { _, context in
            try http.publicLimiter.check(context.clientAddress)
            return Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "public, max-age=3600"],
                            body: .init(byteBuffer: ByteBuffer(string: OfficeTemplates.findScript)))
        }
    }

    func find(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try http.publicLimiter.check(context.clientAddress)
        let index = try await http.finder.current()
        let now = Timestamp.now()
        do {
            let q = try FinderQuery.parse(request.uri.queryParameters, requirePosition: false, maximumLimit: 20, defaultLimit: 10)
            return page(FindPage.make(question: q, index: index, now: now, offlineAfter: http.configuration.offlineAfter))
        } catch let e as APIErrorResponse {
            let p = FindPage.make(question: nil, index: index, now: now, offlineAfter: http.configuration.offlineAfter,
                                  message: "请求有误 Bad request: \(e.body.message)")
            return page(p, status: e.status)
        }
    }

    func page(_ model: FindPage, status: HTTPResponse.Status = .ok) -> Response {
        var r = PageResponse.html(OfficePages.renderer.render(model), status: status, contentSecurityPolicy: Self.csp)
        r.headers[.init("Referrer-Policy")!] = "no-referrer"
        return r
    }
}

extension CollectorHTTP {
    /// The stations a kiosk points a worker on to: the nearest open ones with room, its
    /// own left out; nil when the station has no position or the index is not built.
    func onwardStations(for station: String, now: Timestamp) async throws -> [OnwardStation]? {
        let index = try await finder.current(now: now)
        guard let me = index.station(station) else { return nil }
        return index.nearest(latitude: me.latitude, longitude: me.longitude, limit: OnwardStation.count, now: now,
                             offlineAfter: configuration.offlineAfter, excluding: station)
            .filter(\.available).map(OnwardStation.init)
    }
}
