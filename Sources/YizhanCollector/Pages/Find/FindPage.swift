import YizhanCore
import YizhanWeb

/// `/find`: the nearest open stations for a worker's phone. Built from the finder's index
/// and the question alone; it holds nothing about the person asking.
struct FindPage: PageModel, Sendable {
    static let template = "find"

    struct Choice: Sendable { var value: String; var label: String; var selected: Bool }

    struct Station: Sendable {
        var name: String
        var address: String?
        var freeSeats: Int
        var hasRoom: Bool
        var capacity: Int
        var walkMinutes: Int?
        var distance: String?
        var hours: String?
        var amenity: String?
        var amenityWorking: Bool
        var geoLink: String
        var amapLink: String
        var baiduLink: String
    }

    var latitude: String?
    var longitude: String?
    var amenities: [Choice]
    var regions: [Choice]
    /// The question was answered (a position or a region was given).
    var asked: Bool
    var byRegion: Bool
    var available: [Station]
    var others: [Station]
    var message: String?
    /// Stored, not computed: templates see stored properties only.
    var nothing = false
    var hasOthers = false

    /// The amenity kinds a worker can ask for (the kiosk's catalogue).
    static let amenityKinds: [(id: String, label: String)] = AmenityCatalogue.names.keys.sorted().map { kind in
        let n = AmenityCatalogue.names[kind]!
        return (kind, "\(n.zh) \(n.en)")
    }

    static func make(question: FinderQuery?, index: FinderIndex, now: Timestamp, offlineAfter: Duration, message: String? = nil) -> FindPage {
        let q = question ?? FinderQuery(limit: 10)
        let amenities = [Choice(value: "", label: "任何 Any", selected: q.amenity == nil)]
            + amenityKinds.map { Choice(value: $0.id, label: $0.label, selected: $0.id == q.amenity) }
        let regions = [Choice(value: "", label: "选择地区 Choose a region", selected: q.region == nil)]
            + Self.regions(index).map { Choice(value: $0, label: $0, selected: $0 == q.region) }
        var page = FindPage(latitude: q.latitude.map(Self.coordinate), longitude: q.longitude.map(Self.coordinate), amenities: amenities,
                            regions: regions, asked: false, byRegion: false, available: [], others: [], message: message)
        if let lat = q.latitude, let lon = q.longitude {
            let found = index.nearest(latitude: lat, longitude: lon, amenity: q.amenity, limit: q.limit, now: now, offlineAfter: offlineAfter)
            page.asked = true
            page.available = found.filter(\.available).map { station($0.station, match: $0, amenity: q.amenity) }
            page.others = found.filter { !$0.available }.map { station($0.station, match: $0, amenity: q.amenity) }
        } else if let region = q.region {
            page.asked = true; page.byRegion = true
            let inRegion = index.stations.filter {
                ($0.region == region || $0.region.hasPrefix(region + "/")) && $0.open && $0.isOnline(now: now, offlineAfter: offlineAfter)
            }
            let usable = inRegion.filter { s in s.capacity > s.occupancy && (q.amenity.map { s.amenities[$0]?.isWorking == true } ?? true) }
            page.available = usable.sorted { ($0.capacity - $0.occupancy, $1.name) > ($1.capacity - $1.occupancy, $0.name) }
                .prefix(q.limit).map { station($0, match: nil, amenity: q.amenity) }
        }
        page.nothing = page.asked && page.available.isEmpty && page.others.isEmpty
        page.hasOthers = !page.others.isEmpty
        return page
    }

    /// Provinces and cities that have stations, for the no-position way in.
    static func regions(_ index: FinderIndex) -> [String] {
        var set = Set<String>()
        for s in index.stations {
            let parts = s.region.split(separator: "/")
            if parts.count >= 1 { set.insert(String(parts[0])) }
            if parts.count >= 2 { set.insert(parts[0] + "/" + parts[1]) }
        }
        return set.sorted()
    }

    static func coordinate(_ d: Double) -> String {
        // Five decimals are about a metre: enough for a walk, and a shorter URL.
        let scaled = (d * 100_000).rounded() / 100_000
        return "\(scaled)"
    }

    static func station(_ s: FinderStation, match: FinderIndex.Match?, amenity: String?) -> Station {
        let lat = coordinate(s.latitude), lon = coordinate(s.longitude)
        let name = URLText.encode(s.name)
        let status = amenity.flatMap { s.amenities[$0] }
        return Station(
            name: s.name, address: s.address, freeSeats: max(0, s.capacity - s.occupancy), hasRoom: s.capacity > s.occupancy, capacity: s.capacity,
            walkMinutes: match?.walkMinutes,
            distance: match.map { $0.distanceMeters < 1000 ? "\($0.distanceMeters) m" : "\(Double($0.distanceMeters / 100) / 10) km" },
            hours: s.openingHours.map { $0.joined(separator: ", ") },
            amenity: amenity.map { a in "\(AmenityCatalogue.names[a]?.zh ?? a)：\(status.map(AmenityStatusText.label) ?? "无 none")" },
            amenityWorking: status?.isWorking ?? false,
            geoLink: "geo:\(lat),\(lon)?q=\(lat),\(lon)(\(name))",
            amapLink: "https://uri.amap.com/marker?position=\(lon),\(lat)&name=\(name)&coordinate=wgs84&callnative=1",
            baiduLink: "baidumap://map/marker?location=\(lat),\(lon)&title=\(name)&coord_type=wgs84&src=yizhan.finder")
    }
}

enum AmenityStatusText {
    static func label(_ s: AmenityStatus) -> String {
        switch s {
        case .ok: "正常 working"
        case .degraded: "部分可用 partly working"
        case .outOfOrder: "故障 out of order"
        case .closed: "暂停 closed"
        }
    }
}

/// Percent-encoding for a URL's query value: everything but RFC 3986's unreserved ASCII.
enum URLText {
    static func encode(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        for b in s.utf8 {
            if (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) || (0x30...0x39).contains(b) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
