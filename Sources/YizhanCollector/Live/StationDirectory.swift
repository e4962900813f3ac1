import YizhanCore

/// The stations one user may see, as the office sees them at one moment: each station's
/// view (online, faults), the roll-up per district and the service circle. Built once per
/// request from the store's records; the API and the dashboard both read it, so they
/// cannot disagree.
struct StationDirectory: Sendable {
    let views: [CollectorHTTP.StationView]
    let records: [StationRecord]

    init(stations: [StationRecord], user: UserRecord, now: Timestamp, offlineAfter: Duration, offset: UTCOffset) {
        records = Self.visible(stations, to: user)
        views = records.map { s in
            CollectorHTTP.StationView(s, online: s.lastSeen.map { now - $0 < offlineAfter } ?? false, offset: offset)
        }
    }

    /// The stations `user` may see: an office user's region (all without one), a manager's own.
    static func visible(_ stations: [StationRecord], to user: UserRecord) -> [StationRecord] {
        if user.role == .office, user.region == nil { return stations }
        return stations.keeping { s in user.role == .office ? user.region?.contains(s.region) ?? true : user.stations.contains(s.id) }
    }

    var onlineCount: Int { views.filter(\.online).count }

    struct District: Encodable, Sendable {
        var district: String
        var stations = 0, online = 0, occupancy = 0, capacity = 0, faults = 0
    }

    /// Live roll-up per district (stations without one are under ""), sorted by name.
    var districts: [District] {
        var by: [String: District] = [:]
        for v in views {
            let d = v.district ?? ""
            var r = by[d] ?? District(district: d)
            r.stations += 1; r.online += v.online ? 1 : 0; r.occupancy += v.occupancy; r.capacity += v.capacity
            r.faults += v.faults.count
            by[d] = r
        }
        return by.values.sorted { $0.district < $1.district }
    }

    struct Nearby: Encodable, Sendable {
        var id: String
        var name: String
        var district: String?
        var distanceMeters: Int
        var walkMinutes: Int
        var occupancy: Int
        var capacity: Int
        var free: Int
        var amenity: AmenityStatus?
        enum CodingKeys: String, CodingKey {
            case id, name, district, occupancy, capacity, free, amenity
            case distanceMeters = "distance_m", walkMinutes = "walk_minutes"
        }
    }

    /// Walking pace for "minutes away": 80 m a minute, so 15 minutes is 1,200 m.
    static let walkingMetersPerMinute = 80.0

    /// The service circle: stations open now, online, with room, and (if asked) with the
    /// amenity working, within `radius` metres, nearest first.
    func nearby(latitude: Double, longitude: Double, radius: Double, amenity: String?, limit: Int) -> [Nearby] {
        var found: [Nearby] = []
        for (s, v) in zip(records, views) {
            guard let sLat = s.latitude, let sLon = s.longitude, v.online, let live = s.live, live.open else { continue }
            guard v.occupancy < v.capacity else { continue }
            var status: AmenityStatus?
            if let amenity {
                status = live.amenities[amenity]
                guard status?.isWorking == true else { continue }
            }
            let d = Geo.distanceMeters(latitude, longitude, sLat, sLon)
            guard d <= radius else { continue }
            found.append(Nearby(id: s.id, name: s.name, district: s.district, distanceMeters: Int(d.rounded()),
                                walkMinutes: Int((d / Self.walkingMetersPerMinute).rounded(.up)), occupancy: v.occupancy,
                                capacity: v.capacity, free: v.capacity - v.occupancy, amenity: status))
        }
        found.sort { ($0.distanceMeters, $0.id) < ($1.distanceMeters, $1.id) }
        return Array(found.prefix(limit))
    }
}

extension Array {
    /// The elements `keep` accepts, in order; when it accepts all, the array itself, its
    /// storage shared rather than copied. Measured: a province question's 10,000 station
    /// records were copied twice per request (who may see them, which are in the region),
    /// and the copies were most of what a province question cost over a station's.
    func keeping(_ keep: (Element) throws -> Bool) rethrows -> [Element] {
        guard let first = try firstIndex(where: { try !keep($0) }) else { return self }
        var out = Array(self[..<first])
        for e in self[index(after: first)...] where try keep(e) { out.append(e) }
        return out
    }
}
