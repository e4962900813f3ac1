import Foundation
import Hummingbird
import Logging
import YizhanCore

/// Every error either server answers with: JSON `{"error": code, "message": text}` with a
/// stable code, or, for a browser's page request, the same words on a page.
public struct APIErrorResponse: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var body: APIError
    /// Extra headers: `Retry-After` on 429 and 503, `Connection: close` when the rest of
    /// the request is not worth reading.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.body = APIError(error: code, message: message)
        self.headers = headers
    }

    public var description: String { "\(status.code) \(body.error): \(body.message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONBody.response(body, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"yizhan\"" }
        for field in headers { response.headers.append(field) }
        return response
    }

    /// 429 with the delay in whole seconds (at least one).
    public static func tooManyRequests(retryAfter: Duration, message: String) -> APIErrorResponse {
        APIErrorResponse(.tooManyRequests, "too_many_requests", message, headers: [.retryAfter: "\(retryAfterSeconds(retryAfter))"])
    }

    public static func retryAfterSeconds(_ d: Duration) -> Int64 { max(1, d.components.seconds + (d.components.attoseconds > 0 ? 1 : 0)) }
}

/// JSON responses, encoded the same way by both servers.
public enum JSONBody {
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }
}

/// Turns whatever a handler throws into the answer the client can read: `APIErrorResponse`
/// as it is, Hummingbird's errors with a stable code, anything else a logged 500 that
/// says nothing of the inside. A browser asking for a page (`Accept: text/html`) gets the
/// error as a page when `page` is given.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public typealias Page = @Sendable (_ status: HTTPResponse.Status, _ message: String) -> Response
    let logger: Logger
    let page: Page?

    public init(logger: Logger, page: Page? = nil) { self.logger = logger; self.page = page }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let failure: APIErrorResponse
        do {
            return try await next(request, context)
        } catch let e as APIErrorResponse {
            failure = e
        } catch let e as HTTPError {
            let code = switch e.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "too_large"
            default: "http_\(e.status.code)"
            }
            failure = APIErrorResponse(e.status, code, e.body ?? e.status.reasonPhrase, headers: e.headers)
        } catch {
            logger.error("request \(request.method) \(request.uri.path) failed: \(String(reflecting: error))")
            failure = APIErrorResponse(.internalServerError, "internal", "the server could not complete the request")
        }
        if let page, Self.wantsPage(request) {
            var response = page(failure.status, failure.body.message)
            for field in failure.headers { response.headers.append(field) }
            return response
        }
        return try failure.response(from: request, context: context)
    }

    static func wantsPage(_ request: Request) -> Bool {
        (request.headers[.accept] ?? "").contains("text/html")
    }
}
