import Foundation
import Hummingbird
import YizhanCore
import YizhanWeb

/// The office → stations endpoints: settings (the stations' document and the office's
/// view), notices and the audit log. Writes take a user API token (no browser form writes
/// yet), and an office user with a region acts only within it.
extension CollectorHTTP {
    /// `GET /api/v1/station/settings` (station token): what this station should apply.
    func stationSettings(_ request: Request) async throws -> Response {
        let station = try await authenticatedStation(request)
        // The cache the answer's revision came from (another collector's may be a few seconds
        // older: the station then fetches again at its next heartbeat).
        let c = try await office.current(store)
        return try json(OfficeSettingsDocument.resolve(c, station: station))
    }

    /// A user from a bearer token only (writes: a session cookie cannot authorize them).
    func tokenUser(_ request: Request) async throws -> UserRecord {
        guard let token = BearerToken.from(request), let user = try await store.user(forTokenHash: Tokens.hash(token)) else {
            throw CollectorHTTPError(.unauthorized, "unauthorized", "a user API token is required (Authorization: Bearer ...)")
        }
        return user
    }

    /// `?region=` or `?station=` (exactly one; neither: the user's own region).
    func scope(_ request: Request, user: UserRecord, required: Bool) throws -> OfficeScope? {
        let q = request.uri.queryParameters
        switch (q["region"].map(String.init), q["station"].map(String.init)) {
        case (let r?, nil):
            guard let p = RegionPath(parsing: r) else { throw CollectorHTTPError(.badRequest, "bad_query", "region: not a region path") }
            return .region(p)
        case (nil, let s?): return .station(s)
        case (nil, nil):
            if required { throw CollectorHTTPError(.badRequest, "bad_query", "give region= or station=") }
            return nil
        default: throw CollectorHTTPError(.badRequest, "bad_query", "give region= or station=, not both")
        }
    }

    func refusal(_ r: OfficeActions.Refusal) -> CollectorHTTPError {
        switch r.code {
        case "forbidden": CollectorHTTPError(.forbidden, r.code, r.message)
        case "unknown_station", "unknown_notice": CollectorHTTPError(.notFound, r.code, r.message)
        default: CollectorHTTPError(.unprocessableContent, r.code, r.message)
        }
    }

    struct SettingsView: Encodable {
        var scope: String
        var target: String
        /// The keys set at this scope (removed ones left out).
        var settings: [String: String]
        /// What applies there: the region chain (and the station's own).
        var effective: OfficeSettingsDocument
        /// The stations concerned, with their sync state.
        var stations: [SettingsSync]
    }

    /// `GET /api/v1/settings?region=|station=`
    func getSettings(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        guard user.role == .office else { throw CollectorHTTPError(.forbidden, "forbidden", "only office users see settings") }
        let scope = try self.scope(request, user: user, required: false) ?? .region(user.region ?? .nation)
        try await heartbeats.flush()
        let regions = try await store.stationRegions()
        do { try OfficeActions.authorize(user, scope, stationRegions: regions) } catch { throw refusal(error) }
        let rows = try await store.settingRows()
        let stations = try await store.stations().filter { scope.covers(station: $0.id, region: $0.region) }
        let own = rows.filter { $0.scope == scope }.reduce(into: [String: String]()) { d, r in if let v = r.value { d[r.key.rawValue] = v } }
        let effective: OfficeSettingsDocument
        switch scope {
        case .region(let p): effective = OfficeSettingsResolver.resolve(rows, station: "", region: p)
        case .station(let id): effective = OfficeSettingsResolver.resolve(rows, station: id, region: regions[id] ?? .nation)
        }
        return try json(SettingsView(scope: scope.kind, target: scope.target, settings: own, effective: effective,
                                     stations: stations.map { SettingsSync(station: $0, rows: rows) }))
    }

    struct SettingsBody: Decodable {
        /// Key → value (a string or a number); null removes the key at this scope.
        var settings: [String: SettingValue?]
    }

    struct SettingValue: Decodable {
        var text: String
        init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let i = try? c.decode(Int.self) { text = String(i) } else { text = try c.decode(String.self) }
        }
    }

    /// `PUT /api/v1/settings?region=|station=` with `{"settings": {"capacity": 30}}`.
    func putSettings(_ request: Request) async throws -> Response {
        let user = try await tokenUser(request)
        let scope = try self.scope(request, user: user, required: true)!
        let body = try decode(SettingsBody.self, try await self.body(request), expected: "{\"settings\": {\"capacity\": 30, ...}}")
        let values: [OfficeSettingKey: String?]
        let regions = try await store.stationRegions()
        do {
            try OfficeActions.authorize(user, scope, stationRegions: regions)
            values = try OfficeActions.parseAssignments(body.settings.map { "\($0.key)=\($0.value?.text ?? "")" }, offset: configuration.utcOffset)
        } catch { throw refusal(error) }
        let revision = try await store.setSettings(scope, values, actor: user.name, at: .now())
        office.invalidate()
        return try json(["revision": revision])
    }
}

extension OfficeSettingsDocument {
    static func resolve(_ c: OfficeCache.Contents, station: String) -> OfficeSettingsDocument {
        OfficeSettingsResolver.resolve(c.rows, station: station, region: c.regions[station] ?? .nation)
    }
}
