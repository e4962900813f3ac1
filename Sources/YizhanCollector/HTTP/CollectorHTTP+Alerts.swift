import Foundation
import Hummingbird
import YizhanCore

/// `GET /api/v1/alerts?region=&station=&state=open|resolved|all&limit=`: the alerts of the
/// stations the user sees (an office user's region, a manager's stations).
extension CollectorHTTP {
    func alerts(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        let q = request.uri.queryParameters
        let stateText = q["state"].map(String.init) ?? "open"
        guard let state = AlertStateFilter(rawValue: stateText) else {
            throw CollectorHTTPError(.badRequest, "bad_query", "state=\(IngestValidation.printable(stateText)): expected open, resolved or all")
        }
        var limit = 500
        if let text = q["limit"] {
            guard let n = Int(text), (1...10_000).contains(n) else {
                throw CollectorHTTPError(.badRequest, "bad_query", "limit=\(IngestValidation.printable(String(text))): expected 1 to 10000")
            }
            limit = n
        }
        let scope = try await scope(q, user: user)
        let views = try await AlertView.list(store, stations: scope.stations, state: state, limit: limit, offset: configuration.utcOffset)
        return try json(["alerts": views])
    }
}
