import HTTPTypes
import Hummingbird

/// Every state-changing request (anything but GET and HEAD) from a browser must come from
/// the server's own pages: an `Origin` naming another site, or `Sec-Fetch-Site:
/// cross-site`, is refused with 403 before any handler runs. Forms still carry their
/// session's CSRF token (checked by the page with `ConstantTime.equal`); this is the
/// second lock, the same for both servers.
public struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if request.method != .get, request.method != .head, !Self.isSameOrigin(request) {
            throw APIErrorResponse(.forbidden, "foreign_origin", "requests from another site are not accepted")
        }
        return try await next(request, context)
    }

    static func isSameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], site == "cross-site" { return false }
        guard let origin = request.headers[.origin] else { return true }  // not a browser, or a same-origin GET-like navigation
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }
}
