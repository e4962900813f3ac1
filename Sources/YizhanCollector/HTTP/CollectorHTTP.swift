import CompressNIO
import Crypto
import Foundation
import Hummingbird
import Logging
import Synchronization
import YizhanCore

/// Tokens: 32 random bytes, hex, prefixed by kind. Only SHA-256 of a token is stored; a
/// lookup by that hash compares digests, never the secret itself.
public enum Tokens {
    public static func generate(prefix: String) -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return prefix + bytes.map { String($0, radix: 16).leftPadded(2) }.joined()
    }

    /// Lower-case hex of SHA-256: once per station request, so no string per byte.
    public static func hash(_ token: String) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8](repeating: 0, count: 64)
        for (i, byte) in SHA256.hash(data: Array(token.utf8)).enumerated() {
            out[2 * i] = digits[Int(byte >> 4)]
            out[2 * i + 1] = digits[Int(byte & 15)]
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension String {
    func leftPadded(_ n: Int) -> String { count >= n ? self : String(repeating: "0", count: n - count) + self }
}

struct CollectorHTTPError: HTTPResponseError {
    var status: HTTPResponse.Status
    var body: APIError
    init(_ status: HTTPResponse.Status, _ code: String, _ message: String) {
        self.status = status
        body = APIError(error: code, message: message)
    }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        let data = try JSONEncoder().encode(body)
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer realm=\"yizhan-collector\"" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Every error leaves as JSON with a stable code; nothing unexpected becomes an HTML page.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let e as CollectorHTTPError {
            throw e
        } catch let e as HTTPError {
            throw CollectorHTTPError(e.status, e.status == .notFound ? "not_found" : "http_\(e.status.code)", e.body ?? "\(e.status)")
        } catch {
            logger.error("request \(request.method) \(request.uri.path) failed: \(error)")
            throw CollectorHTTPError(.internalServerError, "internal", "the collector could not complete the request")
        }
    }
}

public struct CollectorHTTP: Sendable {
    let store: any CollectorStore
    let configuration: CollectorConfiguration
    let logger: Logger
    /// Heartbeats wait here for the next flush (run `HeartbeatFlusher` beside the server).
    public let heartbeats: HeartbeatBuffer
    let stationTokens = TokenCache()
    /// Office dashboard logins (browser sessions); the read API accepts them too.
    let sessions = OfficeSessions()

    public init(store: any CollectorStore, configuration: CollectorConfiguration, logger: Logger) {
        self.store = store; self.configuration = configuration; self.logger = logger
        heartbeats = HeartbeatBuffer(store: store)
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
        ("GET", "/api/v1/nearby"),
    ]

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: JSONErrorMiddleware(logger: logger))
        for (method, path) in Self.routes {
            let handler: @Sendable (Request, BasicRequestContext) async throws -> Response
            switch (method, path) {
            case ("GET", "/healthz"): handler = { _, _ in try json(["status": "ok"]) }
            case ("POST", "/api/v1/ingest/events"): handler = { request, _ in try await self.ingestEvents(request) }
            case ("POST", "/api/v1/ingest/heartbeat"): handler = { request, _ in try await self.heartbeat(request) }
            case ("GET", "/api/v1/stations"): handler = { request, _ in try await self.stations(request) }
            case ("GET", "/api/v1/districts"): handler = { request, _ in try await self.districts(request) }
            case ("GET", "/api/v1/usage"): handler = { request, _ in try await self.usage(request) }
            case ("GET", "/api/v1/nearby"): handler = { request, _ in try await self.nearby(request) }
            default: preconditionFailure("route \(method) \(path) has no handler")
            }
            router.on(RouterPath(path), method: HTTPRequest.Method(method)!, use: handler)
        }
        Dashboard(http: self).register(on: router)
        return router
    }

    /// Loads every station's token hash, so the first heartbeat of each does not wait for
    /// the database (a national network has 200,000 of them).
    public func warmTokenCache() async throws -> Int {
        let all = try await store.stationTokens()
        for (hash, station) in all { stationTokens[hash] = station }
        return all.count
    }

    // MARK: station authentication and bodies

    private func authenticatedStation(_ request: Request) async throws -> String {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7 else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "a station token is required (Authorization: Bearer ...)")
        }
        let hash = Tokens.hash(String(header.dropFirst(7)))
        if let station = stationTokens[hash] { return station }
        guard let station = try await store.station(forTokenHash: hash) else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "unknown station token")
        }
        stationTokens[hash] = station
        return station
    }

    /// The body, inflated when gzip'd, never more than the configured limit either way.
    private func body(_ request: Request) async throws -> Data {
        var request = request
        let limit = configuration.maximumBodyBytes
        var buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch {
            throw CollectorHTTPError(.contentTooLarge, "too_large", "body over \(limit) bytes")
        }
        switch request.headers[.contentEncoding]?.lowercased() {
        case nil, "identity": break
        case "gzip":
            do {
                buffer = try buffer.decompress(with: .gzip(), maxSize: limit)
            } catch let e as CompressNIOError where e == .bufferOverflow {
                throw CollectorHTTPError(.contentTooLarge, "too_large", "inflated body over \(limit) bytes")
            } catch {
                throw CollectorHTTPError(.badRequest, "bad_encoding", "the body is not valid gzip")
            }
        case let other?:
            throw CollectorHTTPError(.unsupportedMediaType, "bad_encoding", "Content-Encoding \(other) is not supported (gzip is)")
        }
        return Data(buffer: buffer)
    }

    // MARK: ingest

    private func ingestEvents(_ request: Request) async throws -> Response {
        let station = try await authenticatedStation(request)
        let data = try await body(request)
        let batch: EventBatch
        do {
            batch = try JSONDecoder().decode(EventBatch.self, from: data)
        } catch {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected an event batch: \(error)")
        }
        guard batch.stationID == station else {
            throw CollectorHTTPError(.forbidden, "wrong_station", "this token belongs to station \(station), not \(batch.stationID)")
        }
        let events = try validate(batch.events)
        let new = try await store.ingest(station: station, events: events)
        if new > 0 { logger.debug("ingested \(new) event(s) from \(station)") }
        return try json(IngestAcknowledgement(acknowledgedSeq: events.last?.seq ?? 0))
    }

    /// Sizes, types, times and sequences. A batch is all or nothing: 422 names the first
    /// bad event so the station can isolate and quarantine it.
    func validate(_ records: [EventRecord], now: Timestamp = .now()) throws -> [IngestedEvent] {
        guard !records.isEmpty else { throw CollectorHTTPError(.unprocessableContent, "empty_batch", "the batch has no events") }
        guard records.count <= 5000 else { throw CollectorHTTPError(.contentTooLarge, "too_many_events", "at most 5000 events per batch") }
        var out: [IngestedEvent] = []
        out.reserveCapacity(records.count)
        var previous: Int64 = 0
        for r in records {
            func bad(_ why: String) -> CollectorHTTPError {
                CollectorHTTPError(.unprocessableContent, "invalid_event", "event \(r.seq): \(why)")
            }
            guard r.seq > 0 else { throw bad("seq must be positive") }
            guard r.seq > previous else { throw CollectorHTTPError(.unprocessableContent, "out_of_order", "event \(r.seq) follows \(previous): seqs must increase") }
            previous = r.seq
            guard EventKind(rawValue: r.kind) != nil || AmenityEventDetail.kinds.contains(r.kind) else { throw bad("unknown kind \"\(r.kind)\"") }
            guard let time = RFC3339.parse(r.time, defaultOffset: .utc), r.time.count >= 20 else { throw bad("time is not RFC 3339") }
            // Station clocks drift; a time from before the project or from next week is not a clock, it is garbage.
            guard time >= Timestamp(secondsSinceEpoch: 1_577_836_800), time <= now + .seconds(7 * 86_400) else {
                throw bad("time \(r.time) is implausible")
            }
            if let key = r.cardKey, !(key.count == 64 && key.allSatisfy { $0.isASCII && $0.isHexDigit }) { throw bad("card_key must be 64 hex") }
            guard (0...100_000).contains(r.occupancy) else { throw bad("occupancy out of range") }
            if let s = r.staySeconds, s < 0 { throw bad("stay_seconds must not be negative") }
            guard (r.reader?.count ?? 0) <= 64, (r.detail?.count ?? 0) <= 512 else { throw bad("reader or detail too long") }
            if AmenityEventDetail.kinds.contains(r.kind) {
                do { _ = try AmenityEventDetail.parse(kind: r.kind, detail: r.detail) } catch { throw bad("\(error)") }
            }
            // Empty text is stored as absent, the same in both stores.
            out.append(IngestedEvent(seq: r.seq, time: time, kind: r.kind, cardKey: r.cardKey, reader: r.reader.flatMap { $0.isEmpty ? nil : $0 },
                                     occupancy: r.occupancy, staySeconds: r.staySeconds, detail: r.detail.flatMap { $0.isEmpty ? nil : $0 }))
        }
        return out
    }

    private func heartbeat(_ request: Request) async throws -> Response {
        let station = try await authenticatedStation(request)
        let hb: Heartbeat
        do {
            hb = try JSONDecoder().decode(Heartbeat.self, from: try await body(request))
        } catch let e as CollectorHTTPError {
            throw e
        } catch {
            throw CollectorHTTPError(.badRequest, "bad_body", "expected a heartbeat: \(error)")
        }
        guard hb.stationID == station else {
            throw CollectorHTTPError(.forbidden, "wrong_station", "this token belongs to station \(station), not \(hb.stationID)")
        }
        func invalid(_ why: String) -> CollectorHTTPError { CollectorHTTPError(.unprocessableContent, "invalid_heartbeat", why) }
        guard (0...100_000).contains(hb.occupancy), (0...100_000).contains(hb.capacity) else { throw invalid("occupancy or capacity out of range") }
        guard let stationTime = RFC3339.parse(hb.time, defaultOffset: .utc) else { throw invalid("time is not RFC 3339") }
        var amenities: [String: AmenityStatus] = [:]
        for (id, status) in hb.amenities {
            guard AmenityEventDetail.isValidAmenityID(Substring(id)), let s = AmenityStatus(rawValue: status) else {
                throw invalid("amenity \(id)=\(status): expected an id and one of ok, degraded, out_of_order, closed")
            }
            amenities[id] = s
        }
        guard hb.amenities.count <= 64, hb.readers.count <= 32, hb.version.count <= 64,
              hb.readers.allSatisfy({ $0.name.count <= 64 && $0.state.count <= 32 }) else { throw invalid("too many or too long fields") }
        let now = Timestamp.now()
        heartbeats.add(HeartbeatRecord(station: station, at: now, occupancy: hb.occupancy, live: LiveState(
            open: hb.open, capacity: hb.capacity, amenities: amenities, readers: hb.readers, backlog: hb.backlog, lastSeq: hb.lastSeq,
            version: hb.version, clockSkewSeconds: (stationTime - now).components.seconds)))
        return Response(status: .noContent)
    }

    // MARK: queries (the handlers are in QueryRoutes.swift)

    func authenticatedUser(_ request: Request) async throws -> UserRecord {
        // A dashboard session (GET only: the read API has no forms to forge).
        if request.headers[.authorization] == nil, let session = sessions.session(request) { return session.user }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "), header.count > 7,
              let user = try await store.user(forTokenHash: Tokens.hash(String(header.dropFirst(7))))
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
