import Hummingbird
import HummingbirdCore
import YizhanCore
import YizhanWeb

/// A public question as the finder page and `/open/v1/nearby` read it from the query:
/// `lat` and `lon` (both or neither; WGS-84 degrees), `amenity` (a kind such as
/// `microwave`), `limit`, `region` (a region path, the page only). Anything else in the
/// query is ignored; a bad value is a 400 with the code `bad_query`.
struct FinderQuery: Sendable, Hashable {
    var latitude: Double?
    var longitude: Double?
    var amenity: String?
    var limit: Int
    var region: String?

    typealias Parameters = FlatDictionary<Substring, Substring>

    /// `emptyIsAbsent`: the page's form sends empty fields for its "any" choices, so there an
    /// empty field is no value; the JSON API answers it 400 like any other bad value (its
    /// OpenAPI document says so, and the fuzzer holds it to that).
    static func parse(_ q: Parameters, requirePosition: Bool, maximumLimit: Int, defaultLimit: Int,
                      emptyIsAbsent: Bool = true) throws -> FinderQuery {
        func bad(_ message: String) -> APIErrorResponse { APIErrorResponse(.badRequest, "bad_query", message) }
        for key in ["lat", "lon", "amenity", "limit", "region"] as [Substring] where !emptyIsAbsent && q[key]?.isEmpty == true {
            throw bad("\(key) is empty: leave it out or give a value")
        }
        func text(_ key: Substring) -> String? {
            guard let v = q[key], !v.isEmpty else { return nil }
            return String(v)
        }
        func degrees(_ key: Substring, _ bound: Double) throws -> Double? {
            guard let t = text(key) else { return nil }
            guard t.utf8.count <= 32, let v = Double(t), v.isFinite, (-bound...bound).contains(v) else {
                throw bad("\(key)=\(IngestValidation.printable(String(t.prefix(32)))): expected degrees from \(-bound) to \(bound)")
            }
            return v
        }
        let lat = try degrees("lat", 90), lon = try degrees("lon", 180)
        guard (lat == nil) == (lon == nil) else { throw bad("lat and lon go together: give both or neither") }
        if requirePosition && lat == nil { throw bad("lat and lon are required") }
        let amenity = text("amenity")
        if let amenity, amenity.utf8.count > 32 || !AmenityEventDetail.isValidAmenityID(Substring(amenity)) {
            throw bad("amenity=\(IngestValidation.printable(String(amenity.prefix(32)))): expected an amenity kind such as microwave")
        }
        var limit = defaultLimit
        if let t = text("limit") {
            guard t.utf8.count <= 6, let n = Int(t), (1...maximumLimit).contains(n) else {
                throw bad("limit=\(IngestValidation.printable(String(t.prefix(32)))): expected a whole number from 1 to \(maximumLimit)")
            }
            limit = n
        }
        let region = text("region")
        if let region, region.utf8.count > 200 || region.utf8.contains(where: { $0 < 0x20 }) {
            throw bad("region: expected a region path such as 浙江省/舟山市")
        }
        return FinderQuery(latitude: lat, longitude: lon, amenity: amenity.map(FinderStation.kind(ofID:)), limit: limit, region: region)
    }
}
