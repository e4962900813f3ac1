import Foundation
import Synchronization
import Hummingbird
import HummingbirdBcrypt
import Logging
import Prometheus
import YizhanCore
import YizhanWeb

/// The station's errors are the shared JSON error (`{"error": code, "message": text}`).
typealias StationHTTPError = APIErrorResponse

func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    try JSONBody.response(value, status: status)
}

/// The station's HTTP surface. Over TCP (loopback) only `/healthz` and `/metrics` answer
/// without a login (the kiosk browser runs as another user and must not read the log);
/// the unix socket in the data directory, guarded by file permissions, serves the API
/// that `yizhanctl` uses.
struct StationHTTP: Sendable {
    enum Listener { case tcp, unixSocket }

    let runtime: StationRuntime
    let sessions: ManagerSessions

    init(runtime: StationRuntime) {
        self.runtime = runtime
        sessions = ManagerSessions(store: runtime.store)
    }

    var limits: ServerLimits { runtime.configuration.http.limits }

    func router(for listener: Listener) -> Router<WebRequestContext> {
        let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
        let pages = ManagerPages(runtime: runtime, sessions: sessions)
        router.add(middleware: ErrorMiddleware(logger: runtime.logger, page: { status, message in
            pages.errorPage(status: status, message: message)
        }))
        router.add(middleware: RequestLimitsMiddleware(limits))
        router.add(middleware: SameOriginMiddleware())
        router.get("/healthz") { _, _ in try self.health() }
        // The kiosk: no login, and nothing of the visit log (counts, amenities, the last
        // swipe's outcome with a masked name).
        router.get("/kiosk") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                            .init("Content-Security-Policy")!: Self.kioskCSP],
                     body: .init(byteBuffer: ByteBuffer(string: KioskPage.html(stationName: self.runtime.configuration.station.name))))
        }
        router.get("/kiosk/state") { _, _ in try jsonResponse(self.runtime.kioskState()) }
        router.get("/kiosk/events") { _, _ in try self.kioskEvents() }
        router.post("/kiosk/report") { request, _ in try await self.kioskReport(request) }
        router.post("/kiosk/rating") { request, _ in try await self.kioskRating(request) }
        pages.register(on: router)
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: self.runtime.prometheus.emitToBuffer())))
        }
        switch listener {
        case .unixSocket:
            router.get("/api/v1/status") { _, _ in try jsonResponse(self.runtime.status()) }
            router.get("/api/v1/events") { request, _ in try await self.events(request) }
            router.post("/api/v1/card-key") { request, _ in try await self.cardKey(request) }
            router.post("/api/v1/checkout-all") { request, _ in try await self.checkoutAll(request) }
            router.post("/api/v1/amenity") { request, _ in try await self.setAmenity(request) }
            router.post("/api/v1/manager") { request, _ in try await self.setManager(request) }
        case .tcp:
            let refuse: @Sendable (Request, WebRequestContext) throws -> Response = { _, _ in
                throw StationHTTPError(.unauthorized, "login_required",
                                       "the station API needs a login over TCP; on the station box use yizhanctl (unix socket)")
            }
            for path in ["/api/v1/status", "/api/v1/events"] { router.get(RouterPath(path), use: refuse) }
            for path in ["/api/v1/card-key", "/api/v1/checkout-all", "/api/v1/amenity", "/api/v1/manager"] { router.post(RouterPath(path), use: refuse) }
        }
        return router
    }

    private func health() throws -> Response {
        let snapshot = runtime.recorder.snapshot
        let stalled = runtime.liveness.stalled(maxAge: .seconds(15))
        struct Health: Encodable {
            var status: String
            var store: String
            var stalled: [String]
            var lastSeq: Int64
            enum CodingKeys: String, CodingKey { case status, store, stalled; case lastSeq = "last_seq" }
        }
        let ok = snapshot.storeError == nil && stalled.isEmpty
        return try jsonResponse(Health(status: ok ? "ok" : "failing", store: snapshot.storeError ?? "ok",
                                       stalled: stalled, lastSeq: snapshot.lastSeq),
                                status: ok ? .ok : .serviceUnavailable)
    }

    private func events(_ request: Request) async throws -> Response {
        let params = request.uri.queryParameters
        let offset = runtime.configuration.station.utcOffset
        var q = EventStore.Query()
        func int64(_ name: String) throws -> Int64? {
            guard let v = params.get(name) else { return nil }
            guard let i = Int64(v), i >= 0 else { throw StationHTTPError(.badRequest, "bad_parameter", "\(name) must be a non-negative integer, got \"\(v)\"") }
            return i
        }
        func time(_ name: String) throws -> Timestamp? {
            guard let v = params.get(name) else { return nil }
            guard let t = RFC3339.parse(v, defaultOffset: offset) else {
                throw StationHTTPError(.badRequest, "bad_parameter", "\(name) must be an RFC 3339 time or a date (2026-11-23), got \"\(v)\"")
            }
            return t
        }
        q.after = try int64("after")
        q.since = try time("since")
        q.until = try time("until")
        if let key = params.get("card_key") {
            guard key.count == 64, key.allSatisfy(\.isHexDigit) else {
                throw StationHTTPError(.badRequest, "bad_parameter", "card_key must be 64 hex characters")
            }
            q.cardKey = CardKey(hex: key.lowercased())
        }
        if let kinds = params.get("kind") {
            for k in kinds.split(separator: ",") {
                guard let kind = EventKind(rawValue: String(k)) else {
                    throw StationHTTPError(.badRequest, "bad_parameter",
                                           "unknown kind \"\(k)\" (one of \(EventKind.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                q.kinds.append(kind)
            }
        }
        q.reader = params.get("reader")
        let limit = try int64("limit") ?? 100
        guard (1...1000).contains(limit) else { throw StationHTTPError(.badRequest, "bad_parameter", "limit must be 1...1000") }
        q.limit = Int(limit)
        switch params.get("order") ?? "asc" {
        case "asc": q.descending = false
        case "desc": q.descending = true
        case let other: throw StationHTTPError(.badRequest, "bad_parameter", "order must be asc or desc, got \"\(other)\"")
        }
        let found = try await runtime.store.events(q)
        let page = EventPage(events: found.map { EventRecord($0, offset: offset) },
                             nextAfter: found.count == q.limit ? found.last?.seq : nil)
        return try jsonResponse(page)
    }

    /// Turns a card number typed by a manager into its card key, so `yizhanctl log --card`
    /// can filter without the raw number ever reaching a URL, a log line or the disk.
    private func cardKey(_ request: Request) async throws -> Response {
        struct Body: Decodable { var card: String }
        struct Answer: Encodable {
            var cardKey: String
            var cardHint: String
            enum CodingKeys: String, CodingKey { case cardKey = "card_key"; case cardHint = "card_hint" }
        }
        let buffer = try await BodyReader.collect(request, limit: 4096, timeout: limits.bodyTimeout)
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
            throw StationHTTPError(.badRequest, "bad_body", "expected {\"card\": \"<card or ID number>\"}")
        }
        // Judged after normalising: " - : " is no number, and neither is one with control characters.
        let number = NormalizedCardNumber(body.card)
        guard !number.value.isEmpty, number.value.count <= 64, number.value.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
            throw StationHTTPError(.badRequest, "bad_body", "expected {\"card\": \"<card or ID number>\"}: the card number is empty or not printable")
        }
        return try jsonResponse(Answer(cardKey: runtime.keyer.key(for: number).hex, cardHint: number.hint))
    }

    private func checkoutAll(_ request: Request) async throws -> Response {
        struct Body: Decodable { var by: String? }
        let buffer = try await BodyReader.collect(request, limit: 4096, timeout: limits.bodyTimeout)
        // An empty body closes the day as yizhanctl; a body that is not the JSON expected
        // closes nothing (this checks everyone out).
        var by = "yizhanctl"
        if buffer.readableBytes > 0 {
            guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
                throw StationHTTPError(.badRequest, "bad_body", "expected no body or {\"by\": \"<who>\"}")
            }
            by = body.by ?? by
        }
        let result = try await runtime.recorder.closeDay(by: String(by.prefix(64)))
        return try jsonResponse(result)
    }

    /// Sets an amenity's status: `{"amenity": "microwave", "status": "out_of_order", "note": "...", "by": "li"}`.
    private func setAmenity(_ request: Request) async throws -> Response {
        struct Body: Decodable { var amenity: String; var status: String; var note: String?; var by: String? }
        let buffer = try await BodyReader.collect(request, limit: 4096, timeout: limits.bodyTimeout)
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
            throw StationHTTPError(.badRequest, "bad_body", "expected {\"amenity\": ID, \"status\": ok|degraded|out_of_order|closed, \"note\": ...}")
        }
        guard let status = AmenityStatus(rawValue: body.status) else {
            throw StationHTTPError(.badRequest, "bad_status", "status must be ok, degraded, out_of_order or closed, got \"\(body.status)\"")
        }
        do {
            let recorded = try await runtime.recorder.record(.amenity(id: body.amenity, status: status, by: body.by ?? "yizhanctl", note: body.note))
            return try jsonResponse(EventRecord(recorded, offset: runtime.configuration.station.utcOffset))
        } catch let e as VisitRecorder.RequestError {
            throw StationHTTPError(.unprocessableContent, "refused", e.description)
        }
    }

    /// Sets a manager's password (yizhanctl manager add): `{"name": "li", "password": "..."}`.
    private func setManager(_ request: Request) async throws -> Response {
        struct Body: Decodable { var name: String; var password: String }
        let buffer = try await BodyReader.collect(request, limit: 4096, timeout: limits.bodyTimeout)
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(buffer: buffer)) else {
            throw StationHTTPError(.badRequest, "bad_body", "expected {\"name\": ..., \"password\": ...}")
        }
        guard AmenityEventDetail.isValidActor(Substring(body.name)) else {
            throw StationHTTPError(.unprocessableContent, "bad_name", "a name is 1 to 32 of letters, digits, '_', '-', '.', '@'")
        }
        do { try PasswordRules.checkNew(body.password) } catch {
            throw StationHTTPError(.unprocessableContent, "weak_password", "\(error)")
        }
        let hash = await Task.detached { Bcrypt.hash(body.password, cost: 12) }.value
        try runtime.store.setManagerPassword(name: body.name, hash: hash)
        runtime.logger.notice("manager password set", metadata: ["name": "\(body.name)"])
        return try jsonResponse(["name": body.name, "status": "set"])
    }

    // MARK: kiosk

    /// Everything inline, nothing fetched from elsewhere: the page cannot leak a request
    /// off the machine even if a station name carried markup.
    static let kioskCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    private func kioskEvents() throws -> Response {
        let first = KioskFeed.frame(event: "state", runtime.kioskState())
        guard let stream = runtime.kiosk.subscribe(first: "retry: 2000\n\n" + first) else {
            throw StationHTTPError(.serviceUnavailable, "too_many_streams",
                                   "\(runtime.kiosk.maximumSubscribers) kiosk streams are open already", headers: [.retryAfter: "10"])
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
                        body: .init { writer in
                            for await frame in stream { try await writer.write(ByteBuffer(string: frame)) }
                            try await writer.finish(nil)
                        })
    }

    /// Kiosk posts are JSON from the kiosk's own page: a form on another site cannot send
    /// JSON without a preflight, and a foreign Origin is refused outright.
    private func kioskBody<T: Decodable>(_ request: Request, as type: T.Type) async throws -> T {
        try BodyReader.requireJSON(request)
        let buffer = try await BodyReader.collect(request, limit: 2048, timeout: limits.bodyTimeout)
        guard let body = try? JSONDecoder().decode(T.self, from: Data(buffer: buffer)) else {
            throw StationHTTPError(.badRequest, "bad_body", "unexpected body")
        }
        return body
    }

    private func kioskReport(_ request: Request) async throws -> Response {
        struct Body: Decodable { var amenity: String; var note: String? }
        let body = try await kioskBody(request, as: Body.self)
        guard runtime.recorder.amenities.entry(body.amenity) != nil else {
            throw StationHTTPError(.notFound, "unknown_amenity", "no amenity \(body.amenity)")
        }
        do {
            let recorded = try await runtime.recorder.record(.faultReport(id: body.amenity, note: body.note.map { String($0.prefix(200)) }))
            return try jsonResponse(["status": "reported", "seq": "\(recorded.seq)"], status: .created)
        } catch StationState.Refusal.alreadyReported {
            // The throttle (StationState.reportInterval): the report is known, nothing new.
            return try jsonResponse(["status": "already_reported"], status: .ok)
        } catch let e as VisitRecorder.RequestError {
            throw StationHTTPError(.unprocessableContent, "refused", e.description)
        }
    }

    private func kioskRating(_ request: Request) async throws -> Response {
        struct Body: Decodable { var score: Int }
        let body = try await kioskBody(request, as: Body.self)
        do {
            let recorded = try await runtime.recorder.record(.rating(score: body.score))
            return try jsonResponse(["status": "recorded", "seq": "\(recorded.seq)"], status: .created)
        } catch let e as VisitRecorder.RequestError {
            throw StationHTTPError(.unprocessableContent, "refused", e.description)
        }
    }
}
