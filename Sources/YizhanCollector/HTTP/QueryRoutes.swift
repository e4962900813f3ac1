import Foundation
import Hummingbird
import YizhanCore

/// The office's read endpoints. Every one takes a user API token; a manager sees only
/// their own stations, everywhere.
extension CollectorHTTP {
    struct StationView: Encodable {
        var id: String
        var name: String
        var district: String?
        var occupancy: Int
        var capacity: Int
        var online: Bool
        var lastSeen: String?
        var lastAck: Int64
        var open: Bool?
        var latitude: Double?
        var longitude: Double?
        var amenities: [String: AmenityStatus]
        /// Amenities not ok (out of order or degraded), sorted.
        var faults: [String]
        var readers: [Heartbeat.Reader]
        var backlog: Int64?
        var version: String?
        var clockSkewSeconds: Int64?
        enum CodingKeys: String, CodingKey {
            case id, name, district, occupancy, capacity, online, open, latitude, longitude, amenities, faults, readers, backlog, version
            case lastSeen = "last_seen"
            case lastAck = "last_ack"
            case clockSkewSeconds = "clock_skew_seconds"
        }

        init(_ s: StationRecord, online: Bool, offset: UTCOffset) {
            id = s.id; name = s.name; district = s.district; occupancy = s.occupancy; capacity = s.live?.capacity ?? s.capacity
            self.online = online; lastSeen = s.lastSeen.map { RFC3339.format($0, offset: offset) }; lastAck = s.lastAck
            open = s.live?.open; latitude = s.latitude; longitude = s.longitude; amenities = s.live?.amenities ?? [:]
            faults = amenities.filter { $0.value.needsAttention }.keys.sorted()
            readers = s.live?.readers ?? []; backlog = s.live?.backlog; version = s.live?.version; clockSkewSeconds = s.live?.clockSkewSeconds
        }
    }

    /// The stations this user may see, with heartbeats up to this moment.
    func directory(_ user: UserRecord, now: Timestamp = .now()) async throws -> StationDirectory {
        try await heartbeats.flush()
        return StationDirectory(stations: try await store.stations(), user: user, now: now, offlineAfter: configuration.offlineAfter,
                                offset: configuration.utcOffset)
    }

    func stations(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        return try json(["stations": try await directory(user).views])
    }

    /// Live roll-up per district (stations without one are under "").
    func districts(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        return try json(["districts": try await directory(user).districts])
    }

    // MARK: usage

    struct UsageView: Encodable {
        struct Bucket: Encodable {
            var start: String
            var visits, uniqueWorkers, peakOccupancy: Int
            var meanStaySeconds: Int64?
            var rejectedFull, badReads, faultReports: Int
            var amenityDowntimeSeconds: Int64
            var ratings: Int
            var meanRating: Double?
            enum CodingKeys: String, CodingKey {
                case start, visits, ratings
                case uniqueWorkers = "unique_workers", peakOccupancy = "peak_occupancy", meanStaySeconds = "mean_stay_seconds"
                case rejectedFull = "rejected_full", badReads = "bad_reads", faultReports = "fault_reports"
                case amenityDowntimeSeconds = "amenity_downtime_seconds", meanRating = "mean_rating"
            }
            init(_ f: UsageFigures, offset: UTCOffset) {
                start = RFC3339.format(f.start, offset: offset); visits = f.visits; uniqueWorkers = f.uniqueWorkers
                peakOccupancy = f.peakOccupancy; meanStaySeconds = f.meanStaySeconds; rejectedFull = f.rejectedFull
                badReads = f.badReads; faultReports = f.faultReports; amenityDowntimeSeconds = f.amenityDowntimeSeconds
                ratings = f.ratings; meanRating = f.meanRating
            }
            func encode(to encoder: any Encoder) throws {
                // Explicit nulls: every bucket has every key.
                var c = encoder.container(keyedBy: CodingKeys.self)
                try c.encode(start, forKey: .start); try c.encode(visits, forKey: .visits)
                try c.encode(uniqueWorkers, forKey: .uniqueWorkers); try c.encode(peakOccupancy, forKey: .peakOccupancy)
                try c.encode(meanStaySeconds, forKey: .meanStaySeconds); try c.encode(rejectedFull, forKey: .rejectedFull)
                try c.encode(badReads, forKey: .badReads); try c.encode(faultReports, forKey: .faultReports)
                try c.encode(amenityDowntimeSeconds, forKey: .amenityDowntimeSeconds)
                try c.encode(ratings, forKey: .ratings); try c.encode(meanRating, forKey: .meanRating)
            }
            static let csvHeader = ["start", "visits", "unique_workers", "peak_occupancy", "mean_stay_seconds", "rejected_full", "bad_reads",
                                    "fault_reports", "amenity_downtime_seconds", "ratings", "mean_rating"]
            var csvFields: [String] {
                [CSV.field(start), CSV.number(visits), CSV.number(uniqueWorkers), CSV.number(peakOccupancy), CSV.number(meanStaySeconds),
                 CSV.number(rejectedFull), CSV.number(badReads), CSV.number(faultReports), CSV.number(amenityDowntimeSeconds),
                 CSV.number(ratings), CSV.number(meanRating)]
            }
        }
        var stations: [String]
        var district: String?
        var from: String
        var to: String
        var bucket: String
        var buckets: [Bucket]
        var totals: Bucket
    }

    /// Periods the office can ask about: nothing was recorded before 2020, and a bound far
    /// out (year 0, year 9999) is a mistake, not a question.
    static func bounds(_ offset: UTCOffset) -> ClosedRange<Timestamp> {
        CivilTime(year: 2000, month: 1, day: 1).timestamp(offset: offset)...CivilTime(year: 2100, month: 1, day: 1).timestamp(offset: offset)
    }

    /// A date (`2026-11-23`, local: the whole day) or an RFC 3339 time, from 2000 to 2099.
    static func parseBound(_ text: String, name: String, isEnd: Bool, offset: UTCOffset) throws -> Timestamp {
        let t: Timestamp
        if text.count == 10, let day = RFC3339.parse(text, defaultOffset: offset) {
            t = isEnd ? day + .seconds(86_400) : day
        } else if let parsed = RFC3339.parse(text, defaultOffset: offset) {
            t = parsed
        } else {
            throw CollectorHTTPError(.badRequest, "bad_query", "\(name)=\(IngestValidation.printable(text)): expected a date (2026-11-23) or an RFC 3339 time")
        }
        guard bounds(offset).contains(t) else {
            throw CollectorHTTPError(.badRequest, "bad_query", "\(name)=\(IngestValidation.printable(text)): out of range (2000-01-01 to 2099-12-31)")
        }
        return t
    }

    func usage(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        let q = request.uri.queryParameters
        let bucket: UsageBucketSize
        switch q["bucket"].map(String.init) ?? "day" {
        case "hour": bucket = .hour
        case "day": bucket = .day
        case let other: throw CollectorHTTPError(.badRequest, "bad_query", "bucket=\(IngestValidation.printable(other)): expected hour or day")
        }
        let format = q["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw CollectorHTTPError(.badRequest, "bad_query", "format=\(IngestValidation.printable(format)): expected json or csv") }
        let now = Timestamp.now()
        let to = try q["to"].map { try Self.parseBound(String($0), name: "to", isEnd: true, offset: configuration.utcOffset) }
            ?? UsageQuery(from: now, to: now, bucket: .day, offset: configuration.utcOffset).to
        let from = try q["from"].map { try Self.parseBound(String($0), name: "from", isEnd: false, offset: configuration.utcOffset) }
            ?? to - .seconds(bucket == .day ? 7 * 86_400 : 86_400)
        guard from < to else { throw CollectorHTTPError(.badRequest, "bad_query", "from must be before to") }
        let query = UsageQuery(from: from, to: to, bucket: bucket, offset: configuration.utcOffset)
        guard query.bucketCount <= 4000 else {
            throw CollectorHTTPError(.unprocessableContent, "range_too_large", "\(query.bucketCount) buckets: at most 4000 (about 5 months by hour)")
        }

        let visible = try await directory(user).records
        var scope: [StationRecord]
        let district = q["district"].map(String.init)
        if let id = q["station"].map(String.init) {
            guard let s = visible.first(where: { $0.id == id }) else {
                throw user.role == .office
                    ? CollectorHTTPError(.notFound, "unknown_station", "no station \(id)")
                    : CollectorHTTPError(.forbidden, "forbidden", "station \(id) is not one of yours")
            }
            scope = [s]
        } else if let district {
            scope = visible.filter { $0.district == district }
            guard !scope.isEmpty else { throw CollectorHTTPError(.notFound, "unknown_district", "no station of yours in district \(district)") }
        } else {
            scope = visible
        }
        let input: UsageInput
        do {
            input = try await store.usageInput(stations: scope.map(\.id), from: query.from, to: query.to)
        } catch let e as CollectorStoreError {
            throw CollectorHTTPError(.unprocessableContent, "too_much_data", e.description)
        }
        let report = UsageAggregator.aggregate(query, starts: input.starts, events: input.events, now: now)
        let view = UsageView(stations: scope.map(\.id), district: district, from: RFC3339.format(query.from, offset: configuration.utcOffset),
                             to: RFC3339.format(query.to, offset: configuration.utcOffset), bucket: bucket.rawValue,
                             buckets: report.buckets.map { UsageView.Bucket($0, offset: configuration.utcOffset) },
                             totals: UsageView.Bucket(report.totals, offset: configuration.utcOffset))
        guard format == "csv" else { return try json(view) }
        // A download for Excel: byte-order mark, CRLF, quoted and formula-safe (CSV).
        var csv = CSV.byteOrderMark + CSV.header(UsageView.Bucket.csvHeader)
        for b in view.buckets { csv += CSV.line(b.csvFields) }
        let name = (q["station"].map(String.init) ?? district ?? "all").map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" }
        let day = { (t: Timestamp) in String(RFC3339.format(t, offset: self.configuration.utcOffset).prefix(10)) }
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"usage-\(String(name))-\(day(query.from))-\(bucket.rawValue).csv\"",
        ], body: .init(byteBuffer: ByteBuffer(string: csv)))
    }

    // MARK: the 15-minute service circle

    /// Stations open now, online, with room, and (if asked) with the amenity working,
    /// nearest first.
    func nearby(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        let q = request.uri.queryParameters
        func number(_ key: Substring, _ range: ClosedRange<Double>, default d: Double? = nil) throws -> Double {
            guard let text = q[key].map(String.init) else {
                if let d { return d }
                throw CollectorHTTPError(.badRequest, "bad_query", "\(key) is required")
            }
            guard let v = Double(text), range.contains(v) else {
                throw CollectorHTTPError(.badRequest, "bad_query", "\(key)=\(text): expected a number in \(range.lowerBound)...\(range.upperBound)")
            }
            return v
        }
        let lat = try number("lat", -90...90), lon = try number("lon", -180...180)
        let radius = try number("radius_m", 10...50_000, default: 15 * StationDirectory.walkingMetersPerMinute)
        let limit = Int(try number("limit", 1...100, default: 5))
        let amenity = q["amenity"].map(String.init)
        if let amenity, !AmenityEventDetail.isValidAmenityID(Substring(amenity)) {
            throw CollectorHTTPError(.badRequest, "bad_query", "amenity=\(amenity): expected an amenity id such as microwave")
        }
        let found = try await directory(user).nearby(latitude: lat, longitude: lon, radius: radius, amenity: amenity, limit: limit)
        return try json(["stations": found])
    }
}

enum Geo {
    /// Great-circle distance (haversine) on a sphere of the Earth's mean radius.
    static func distanceMeters(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let r = 6_371_008.8, rad = Double.pi / 180
        let dLat = (lat2 - lat1) * rad, dLon = (lon2 - lon1) * rad
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * rad) * cos(lat2 * rad) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * r * asin(min(1, a.squareRoot()))
    }
}
