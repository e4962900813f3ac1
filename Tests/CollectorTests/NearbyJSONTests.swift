import Foundation
import Testing
@testable import YizhanCore
@testable import YizhanCollector

/// The hand-written `/open/v1/nearby` body says what `JSONEncoder` said before it: same
/// keys, same values, optional fields left out alike, texts escaped.
@Suite struct NearbyJSONTests {
    /// The answer as it was encoded before, kept here as the reference.
    struct Reference: Encodable {
        var id: String, name: String, address: String?, latitude: Double, longitude: Double
        var distanceMeters: Int, walkMinutes: Int, freeSeats: Int, available: Bool
        var amenity: AmenityStatus?, amenities: [String: AmenityStatus], openingHours: [String]?
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

    @Test func theHandWrittenBodyMeansWhatJSONEncoderWrote() throws {
        let statuses: [AmenityStatus] = [.ok, .degraded, .closed, .outOfOrder]
        var matches: [FinderIndex.Match] = []
        for i in 0..<40 {
            let station = FinderStation(
                id: "s-\(i)", name: i % 3 == 0 ? "驿站 \"\(i)\" \\ /\t\u{1}" : "Station \(i)", address: i % 4 == 0 ? nil : "路 <\(i)> 号",
                region: "浙江省/舟山市", latitude: i % 5 == 0 ? 30 : 29.95 + Double(i) / 1000, longitude: i % 7 == 0 ? -122 : 122.3 - Double(i) / 997,
                capacity: 6, occupancy: i % 6, open: true,
                amenities: i % 2 == 0 ? [:] : ["microwave": statuses[i % 4], "toilet": statuses[(i + 1) % 4], "water": .ok],
                openingHours: i % 3 == 1 ? nil : ["07:00-12:00", "13:00-22:00"])
            matches.append(FinderIndex.Match(station: station, distanceMeters: i * 37, walkMinutes: 1 + i, freeSeats: 6 - i % 6,
                                             available: i % 2 == 0, amenity: i % 3 == 0 ? nil : statuses[i % 4]))
        }
        for n in [0, 1, 5, 40] {
            let found = Array(matches.prefix(n))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let expected = try encoder.encode(["stations": found.map(Reference.init)])
            let written = Data(CollectorHTTP.nearbyJSON(found))
            let a = try JSONSerialization.jsonObject(with: written) as? NSDictionary
            let b = try JSONSerialization.jsonObject(with: expected) as? NSDictionary
            #expect(a != nil && a == b, "\(String(decoding: written, as: UTF8.self))")
        }
    }
}
