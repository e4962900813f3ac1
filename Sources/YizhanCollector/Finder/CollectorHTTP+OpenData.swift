import Crypto
import Foundation
import Hummingbird
import YizhanCore
import YizhanWeb

/// The public open data: every station as GeoJSON for the map providers, and the nearest
/// open stations for any app. No login, no cookies, nothing about people; answered from
/// the finder's in-memory index, never a database query per request; rate-limited per
/// client address. The position in a nearby question is neither stored nor logged (the
/// collector logs no request lines, and a failed request's log names its path only).
extension CollectorHTTP {
    func stationsGeoJSON(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try publicLimiter.check(context.clientAddress)
        let feed = try await finder.feed(offlineAfter: configuration.offlineAfter, offset: configuration.utcOffset)
        return Self.conditional(request, etag: feed.etag, maxAge: OpenDataFeed.maximumAge.wholeSeconds, shared: true,
                                contentType: "application/geo+json", body: feed.body)
    }

    /// The public `nearby` answer: one station.
    struct PublicNearby: Encodable {
        var id: String
        var name: String
        var address: String?
        var latitude: Double
        var longitude: Double
        var distanceMeters: Int
        var walkMinutes: Int
        var freeSeats: Int
        /// Room, and the asked-for amenity working; the others come after.
        var available: Bool
        var amenity: AmenityStatus?
        var amenities: [String: AmenityStatus]
        var openingHours: [String]?
        enum CodingKeys: String, CodingKey {
            case id, name, address, latitude, longitude, available, amenity, amenities
            case distanceMeters = "distance_m", walkMinutes = "walk_minutes", freeSeats = "free_seats", openingHours = "opening_hours"
        }
        init(_ m: FinderIndex.Match) {
            id = m.station.id; name = m.station.name; address = m.station.address; latitude = m.station.latitude
            longitude = m.station.longitude; distanceMeters = m.distanceMeters; walkMinutes = m.walkMinutes; freeSeats = m.freeSeats
            available = m.available; amenity = m.amenity; amenities = m.station.amenities; openingHours = m.station.openingHours
        }
    }

    func publicNearby(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try publicLimiter.check(context.clientAddress)
        let question = try FinderQuery.parse(request.uri.queryParameters, requirePosition: true, maximumLimit: 20, defaultLimit: 5,
                                             emptyIsAbsent: false)
        let index = try await finder.current()
        let found = index.nearest(latitude: question.latitude!, longitude: question.longitude!, amenity: question.amenity,
                                  limit: question.limit, now: .now(), offlineAfter: configuration.offlineAfter)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let answer: [String: [PublicNearby]] = ["stations": found.map { PublicNearby($0) }]
        let bytes = try encoder.encode(answer)
        let etag = "\"" + Hex.encode(Array(SHA256.hash(data: bytes)).prefix(16)) + "\""
        // private: the URL holds a position, which no shared cache should keep.
        return Self.conditional(request, etag: etag, maxAge: 5, shared: false, contentType: "application/json; charset=utf-8",
                                body: ByteBuffer(bytes: bytes))
    }

    /// 304 when `If-None-Match` names this ETag (or `*`), else the body; both with the
    /// ETag and Cache-Control, and open to any origin (it is public data).
    static func conditional(_ request: Request, etag: String, maxAge: Int64, shared: Bool, contentType: String, body: ByteBuffer) -> Response {
        var headers: HTTPFields = [
            .eTag: etag,
            .cacheControl: "\(shared ? "public" : "private"), max-age=\(maxAge)",
            .accessControlAllowOrigin: "*",
        ]
        if let match = request.headers[.ifNoneMatch], ifNoneMatch(match, etag) {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }

    /// RFC 9110's weak comparison, as If-None-Match asks: `W/` is ignored.
    static func ifNoneMatch(_ header: String, _ etag: String) -> Bool {
        header.split(separator: ",").contains { item in
            var tag = item.trimmingCharacters(in: .whitespaces)
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag.removeFirst(2) }
            return tag == etag
        }
    }
}
