import CompressNIO
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore
import Synchronization
import YizhanCore
import YizhanWeb

/// Tokens: 32 random bytes, hex, prefixed by kind. Only SHA-256 of a token is stored; a
/// lookup by that hash compares digests, never the secret itself.
public enum Tokens {
    public static func generate(prefix: String) -> String { prefix + Hex.random(bytes: 32) }

    /// Lower-case hex of SHA-256: once per station request.
    public static func hash(_ token: String) -> String { Hex.encode(SHA256.hash(data: Array(token.utf8))) }
}

/// The collector's errors are the shared JSON error (`{"error": code, "message": text}`).
typealias CollectorHTTPError = APIErrorResponse

public struct CollectorHTTP: Sendable {
    let store: any CollectorStore
    let configuration: CollectorConfiguration
    let logger: Logger
    /// Heartbeats wait here for the next flush (run `HeartbeatFlusher` beside the server).
    public let heartbeats: HeartbeatBuffer
    let stationTokens = TokenCache()
    /// Office settings, notices and regions for heartbeat answers.
    let office = OfficeCache()
    /// Office dashboard logins, kept in the store (the read API accepts them too).
    let sessions: BrowserSessions
    /// Password checks for the dashboard's login.
    let logins = LoginGuard()
    /// The station list in memory for the office's questions, read again when it changed.
    let roster = StationRoster()
    /// Per-day counts compared with the store (sequence gaps, resend requests).
    let reconciliation = ReconciliationCache()
    /// The public finder's index and open-data feed, and their limit per client address.
    let finder: FinderSnapshots
    let publicLimiter: PublicRateLimiter
    /// The alert pass's copy of every station, for the dashboard's pages (`LiveStations`).
    public let live: LiveStations
    /// Large regions' rankings for the dashboard's pages, read at most once a minute.
    let rankingSnapshots = RankingSnapshots()

    public init(store: any CollectorStore, configuration: CollectorConfiguration, logger: Logger) {
        self.store = store; self.configuration = configuration; self.logger = logger
        heartbeats = HeartbeatBuffer(store: store)
        sessions = BrowserSessions(records: store, cookie: OfficeSession.cookie, path: "/")
        finder = FinderSnapshots(store: store, heartbeats: heartbeats)
        publicLimiter = PublicRateLimiter(policy: configuration.publicRateLimit)
        // Three passes old at most, however often they run.
        live = LiveStations(maximumAge: max(.seconds(30), configuration.alerts.evaluateEvery * 3))
    }

    /// The request's dashboard session with its user as stored now.
    func officeSession(_ request: Request) async throws -> OfficeSession? {
        guard let s = try await sessions.session(request), let found = try await store.user(named: s.name) else { return nil }
        return OfficeSession(user: found.user, csrf: s.csrf)
    }

    /// Every route, in one table: the router is built from it and the OpenAPI document
    /// (docs/openapi.json) is checked against it by a test.
    public static let routes: [(method: String, path: String)] = [
        ("GET", "/healthz"),
        ("POST", "/api/v1/ingest/events"),
        ("POST", "/api/v1/ingest/heartbeat"),
        ("GET", "/api/v1/stations"),
        ("GET", "/api/v1/districts"),
        ("GET", "/api/v1/usage"),
        ("GET", "/api/v1/rankings"),
        ("GET", "/api/v1/nearby"),
        ("GET", "/api/v1/alerts"),
        // Office → stations (OfficeRoutes.swift, NoticeRoutes.swift).
        ("GET", "/api/v1/station/settings"),
        ("GET", "/api/v1/settings"),
        ("PUT", "/api/v1/settings"),
        ("GET", "/api/v1/notices"),
        ("POST", "/api/v1/notices"),
        ("POST", "/api/v1/notices/{id}/end"),
        ("GET", "/api/v1/audit"),
        ("GET", "/open/v1/stations.geojson"),
        ("GET", "/open/v1/nearby"),
    ]

    public func router() -> Router<WebRequestContext> {
        let router = Router(context: WebRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ErrorMiddleware(logger: logger, page: { status, message in
            Dashboard.errorPage(status: status, message: message)
        }))
        router.add(middleware: RequestLimitsMiddleware(configuration.limits))
        router.add(middleware: SameOriginMiddleware())
        for (method, path) in Self.routes {
            let handler: @Sendable (Request, WebRequestContext) async throws -> Response
            switch (method, path) {
            case ("GET", "/healthz"): handler = { _, _ in try json(["status": "ok"]) }
            case ("POST", "/api/v1/ingest/events"): handler = { request, _ in try await self.ingestEvents(request) }
            case ("POST", "/api/v1/ingest/heartbeat"): handler = { request, _ in try await self.heartbeat(request) }
            case ("GET", "/api/v1/stations"): handler = { request, _ in try await self.stations(request) }
            case ("GET", "/api/v1/districts"): handler = { request, _ in try await self.districts(request) }
            case ("GET", "/api/v1/usage"): handler = { request, _ in try await self.usage(request) }
            case ("GET", "/api/v1/rankings"): handler = { request, _ in try await self.rankings(request) }
            case ("GET", "/api/v1/nearby"): handler = { request, _ in try await self.nearby(request) }
            case ("GET", "/api/v1/alerts"): handler = { request, _ in try await self.alerts(request) }
            case ("GET", "/api/v1/station/settings"): handler = { request, _ in try await self.stationSettings(request) }
            case ("GET", "/api/v1/settings"): handler = { request, _ in try await self.getSettings(request) }
            case ("PUT", "/api/v1/settings"): handler = { request, _ in try await self.putSettings(request) }
            case ("GET", "/api/v1/notices"): handler = { request, _ in try await self.listNotices(request) }
            case ("POST", "/api/v1/notices"): handler = { request, _ in try await self.addNotice(request) }
            case ("POST", "/api/v1/notices/{id}/end"):
                handler = { request, context in try await self.endNotice(request, id: context.parameters.get("id") ?? "") }
            case ("GET", "/api/v1/audit"): handler = { request, _ in try await self.audit(request) }
            case ("GET", "/open/v1/stations.geojson"): handler = { request, context in try await self.stationsGeoJSON(request, context) }
            case ("GET", "/open/v1/nearby"): handler = { request, context in try await self.publicNearby(request, context) }
            default: preconditionFailure("route \(method) \(path) has no handler")
            }
            router.on(RouterPath(path.replacingOccurrences(of: "{id}", with: ":id")), method: HTTPRequest.Method(method)!, use: handler)
        }
        Dashboard(http: self).register(on: router)
        FinderPages(http: self).register(on: router)
        return router
    }

    /// The HTTP server as the collector runs it: this router, the configured address and
    /// the limits on connections, time and sizes (the executable and the tests alike).
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        -> Application<RouterResponder<WebRequestContext>> {
        Application(router: router(), server: configuration.limits.server,
                    configuration: configuration.limits.applicationConfiguration(
                        address: .hostname(configuration.host, port: configuration.port), serverName: "yizhan-collector", logger: logger),
                    onServerRunning: onServerRunning, logger: logger)
    }

    /// Loads every station's token hash, so the first heartbeat of each does not wait for
    /// the database (a national network has 200,000 of them).
    public func warmTokenCache() async throws -> Int {
        let all = try await store.stationTokens()
        for (hash, station) in all { stationTokens[hash] = station }
        return all.count
    }

    // MARK: station authentication and bodies

    func authenticatedStation(_ request: Request) async throws -> String {
        guard let token = BearerToken.from(request) else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "a station token is required (Authorization: Bearer ...)")
        }
        let hash = Tokens.hash(token)
        if let station = stationTokens[hash] { return station }
        guard let station = try await store.station(forTokenHash: hash) else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "unknown station token")
        }
        stationTokens[hash] = station
        return station
    }

    /// A station's JSON body, inflated when gzip'd, never more than the configured limit
    /// either way. A gzip body is one whole member: its trailer checked, nothing after it.
    func body(_ request: Request) async throws -> Data {
        try BodyReader.requireJSON(request)
        let limit = configuration.maximumBodyBytes
        var buffer = try await BodyReader.collect(request, limit: limit, timeout: configuration.limits.bodyTimeout)
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            let compressed = buffer
            var input = buffer
            do {
                // Consumes `input` up to the end of the first gzip member.
                buffer = try input.decompress(with: .gzip(), maxSize: limit)
            } catch let e as CompressNIOError where e == .bufferOverflow {
                throw CollectorHTTPError(.contentTooLarge, "too_large", "inflated body over \(limit) bytes")
            } catch {
                throw CollectorHTTPError(.badRequest, "bad_encoding", "the body is not valid gzip")
            }
            guard input.readableBytes == 0, GzipMember.trailerMatches(compressed: compressed.readableBytesView, inflated: buffer.readableBytesView) else {
                throw CollectorHTTPError(.badRequest, "bad_encoding", "the gzip body's trailer is missing or wrong, or data follows it")
            }
        case let other?:
            throw CollectorHTTPError(.unsupportedMediaType, "bad_encoding", "Content-Encoding \(IngestValidation.printable(other)) is not supported (gzip is)")
        }
        return Data(buffer: buffer)
    }

    /// A body decoded as `T`; the error says what was expected, never Swift's internals.
    func decode<T: Decodable>(_ type: T.Type, _ data: Data, expected: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected \(expected): \"\(key.stringValue)\" is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected \(expected): \"\(Self.path(context.codingPath))\" has the wrong type")
        } catch let DecodingError.dataCorrupted(context) where !context.codingPath.isEmpty {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected \(expected): \"\(Self.path(context.codingPath))\" has a value out of range for its type")
        } catch {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected \(expected): the body is not valid JSON")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: ["."])
    }

    // MARK: ingest

    private func ingestEvents(_ request: Request) async throws -> Response {
        let station = try await authenticatedStation(request)
        let batch = try decode(EventBatch.self, try await body(request), expected: "an event batch {\"station_id\", \"events\": [...]}")
        guard batch.stationID == station else {
            throw CollectorHTTPError(.forbidden, "wrong_station", "this token belongs to station \(station), not \(IngestValidation.printable(batch.stationID))")
        }
        let events = try validate(batch.events)
        let new = try await store.ingest(station: station, events: events)
        if new > 0 { logger.debug("ingested \(new) event(s) from \(station)") }
        return try json(IngestAcknowledgement(acknowledgedSeq: events.last?.seq ?? 0))
    }

    /// The core's checks, as HTTP: 422 for a bad event, 413 for too many.
    func validate(_ records: [EventRecord], now: Timestamp = .now()) throws -> [IngestedEvent] {
        do {
            return try IngestValidation.validate(records, now: now)
        } catch {
            throw CollectorHTTPError(error.reason == .tooLarge ? .contentTooLarge : .unprocessableContent, error.code, error.message)
        }
    }

    private func heartbeat(_ request: Request) async throws -> Response {
        let station = try await authenticatedStation(request)
        let hb = try decode(Heartbeat.self, try await body(request), expected: "a heartbeat")
        guard hb.stationID == station else {
            throw CollectorHTTPError(.forbidden, "wrong_station", "this token belongs to station \(station), not \(IngestValidation.printable(hb.stationID))")
        }
        let checked: IngestValidation.CheckedHeartbeat
        do { checked = try IngestValidation.validate(hb) } catch { throw CollectorHTTPError(.unprocessableContent, error.code, error.message) }
        let now = Timestamp.now()
        let gaps = await reconciliation.gaps(station: station, days: hb.dayCounts, store: store, now: now,
                                             recheckAfter: configuration.alerts.reconcileRecheck, logger: logger)
        let record = HeartbeatRecord(station: station, at: now, occupancy: hb.occupancy, live: LiveState(
            open: hb.open, capacity: hb.capacity, amenities: checked.amenities, readers: hb.readers, backlog: hb.backlog, lastSeq: hb.lastSeq,
            version: hb.version, clockSkewSeconds: (checked.stationTime - now).components.seconds, openingHours: checked.openingHours,
            storagePercent: hb.storagePercent, sequenceGaps: gaps,
            settingsRevision: hb.settingsRevision, settingsError: hb.settingsError.map { String($0.prefix(500)) },
            settingsPinned: hb.settingsPinned?.filter { OfficeSettingKey(rawValue: $0) != nil }))
        heartbeats.add(record)
        finder.note(record)
        live.note(record)
        return try json(try await heartbeatAnswer(station: station, heartbeat: hb, now: now))
    }

    // MARK: queries (the handlers are in QueryRoutes.swift)

    func authenticatedUser(_ request: Request) async throws -> UserRecord {
        // A dashboard session (GET only: the read API has no forms to forge).
        if request.headers[.authorization] == nil, let session = try await officeSession(request) { return session.user }
        guard let token = BearerToken.from(request), let user = try await store.user(forTokenHash: Tokens.hash(token))
        else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "a user API token is required (Authorization: Bearer ...)")
        }
        return user
    }
}

func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
}

/// Station tokens already looked up (hash → station): heartbeats come thousands a second.
/// Tokens are only ever added, so a cached answer stays right.
final class TokenCache: Sendable {
    private let map = Mutex<[String: String]>([:])
    subscript(hash: String) -> String? {
        get { map.withLock { $0[hash] } }
        set { map.withLock { m in if m.count > 1_000_000 { m.removeAll() }; m[hash] = newValue } }
    }
}
