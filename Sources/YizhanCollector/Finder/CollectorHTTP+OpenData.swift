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
        let maxAge = OpenDataFeed.maximumAge(stations: feed.count).wholeSeconds
        // The gzip'd representation for a client that accepts gzip, unless it holds the plain
        // one (it asked without gzip before): a 304 names the one it holds, as RFC 9110 asks.
        // Without gzip, only the plain representation's ETag is current.
        let holdsPlain = request.headers[.ifNoneMatch].map { Self.ifNoneMatch($0, feed.etag) && !Self.ifNoneMatch($0, feed.gzipETag) } ?? false
        let gzipped = Self.acceptsGzip(request.headers[.acceptEncoding]) && !holdsPlain ? feed.gzipped : nil
        var response = Self.conditional(request, etag: gzipped == nil ? feed.etag : feed.gzipETag, maxAge: maxAge, shared: true,
                                        contentType: "application/geo+json", body: gzipped ?? feed.body)
        if gzipped != nil && response.status == .ok { response.headers[.contentEncoding] = "gzip" }
        response.headers[.vary] = "Accept-Encoding"
        return response
    }

    /// Whether an Accept-Encoding header (RFC 9110 §12.5.3) accepts gzip: `gzip`, `x-gzip`
    /// or `*`, without `q=0`.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else { return false }
        var gzip: Bool?, any: Bool?
        for item in header.split(separator: ",") {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let coding = parts.first else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            switch coding {
            case "gzip", "x-gzip": gzip = q > 0
            case "*": any = q > 0
            default: break
            }
        }
        return gzip ?? any ?? false
    }

    /// The public `nearby` answer, `{"stations": [...]}` with each station's keys sorted —
    /// what `JSONEncoder` with `.sortedKeys` wrote before, written by hand because it was a
    /// tenth of the collector's time at 2,000 questions a second (docs/benchmarks.md).
    static func nearbyJSON(_ found: [FinderIndex.Match]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + found.count * 400)
        func raw(_ text: String) { out += Array(text.utf8) }
        func string(_ text: String) { JSONText.string(text, into: &out) }
        raw(#"{"stations":["#)
        for (i, m) in found.enumerated() {
            let s = m.station
            if i > 0 { raw(",") }
            raw("{")
            if let address = s.address { raw(#""address":"#); string(address); raw(",") }
            raw(#""amenities":{"#)
            for (j, kind) in s.amenities.keys.sorted().enumerated() {
                if j > 0 { raw(",") }
                string(kind); raw(":"); string(s.amenities[kind]!.rawValue)
            }
            raw("},")
            if let amenity = m.amenity { raw(#""amenity":"#); string(amenity.rawValue); raw(",") }
            raw(#""available":\#(m.available),"distance_m":\#(m.distanceMeters),"free_seats":\#(m.freeSeats),"id":"#)
            string(s.id)
            raw(#","latitude":\#(JSONText.number(s.latitude)),"longitude":\#(JSONText.number(s.longitude)),"name":"#)
            string(s.name)
            if let hours = s.openingHours {
                raw(#","opening_hours":["#)
                for (j, h) in hours.enumerated() { if j > 0 { raw(",") }; string(h) }
                raw("]")
            }
            raw(#","walk_minutes":\#(m.walkMinutes)}"#)
        }
        raw("]}")
        return out
    }

    func publicNearby(_ request: Request, _ context: WebRequestContext) async throws -> Response {
        try publicLimiter.check(context.clientAddress)
        let question = try FinderQuery.parse(request.uri.queryParameters, requirePosition: true, maximumLimit: 20, defaultLimit: 5,
                                             emptyIsAbsent: false)
        let index = try await finder.current()
        let found = index.nearest(latitude: question.latitude!, longitude: question.longitude!, amenity: question.amenity,
                                  limit: question.limit, now: .now(), offlineAfter: configuration.offlineAfter)
        let bytes = Self.nearbyJSON(found)
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
