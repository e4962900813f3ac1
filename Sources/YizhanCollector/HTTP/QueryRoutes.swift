import Foundation
import Hummingbird
import HummingbirdCore
import YizhanCore

/// The office's read endpoints. Every one takes a user API token; a manager sees only
/// their own stations, everywhere.
extension CollectorHTTP {
    struct StationView: Encodable {
        var id: String
        var name: String
        var district: String?
        var region: String
        var address: String?
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
            case id, name, district, region, address, occupancy, capacity, online, open, latitude, longitude, amenities, faults, readers, backlog, version
            case lastSeen = "last_seen"
            case lastAck = "last_ack"
            case clockSkewSeconds = "clock_skew_seconds"
        }

        init(_ s: StationRecord, online: Bool, offset: UTCOffset) {
            id = s.id; name = s.name; district = s.district; region = s.region.description; address = s.address; occupancy = s.occupancy; capacity = s.live?.capacity ?? s.capacity
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

    /// The stations a dashboard page may show, and the heartbeats to lay over them.
    struct PageStations: Sendable {
        /// The stations the user may see, as the alert pass (or the store) read them.
        var records: [StationRecord]
        /// Heartbeats this collector received since the pass, newest per station.
        var pending: [String: HeartbeatRecord] = [:]

        /// `s` as of its newest heartbeat here.
        func current(_ s: StationRecord) -> StationRecord { withCurrent(s) { $0 } }

        /// `body` of `s` as of its newest heartbeat here. Only a station with one is copied
        /// (to lay it over): the pages walk every station this way, and copying each record
        /// (a dozen references) was a quarter of a national page.
        func withCurrent<T>(_ s: StationRecord, _ body: (StationRecord) throws -> T) rethrows -> T {
            guard !pending.isEmpty, let h = pending[s.id] else { return try body(s) }
            return try body(LiveStations.laid(h, over: s))
        }
    }

    /// The stations `user` may see for a dashboard page: the alert pass's copy when it is
    /// fresh and of the current station list (`LiveStations`), with the heartbeats this
    /// collector received since (`PageStations.withCurrent`), else read from the store as
    /// `directory` does. A region page takes a few live figures of each (`pageLive`), not the
    /// API's whole view.
    func pageStations(_ user: UserRecord, now: Timestamp = .now()) async throws -> PageStations {
        if let (stations, pending) = live.fresh(revision: try await store.stationRosterRevision(), now: now) {
            return PageStations(records: StationDirectory.visible(stations, to: user), pending: pending)
        }
        try await heartbeats.flush()
        return PageStations(records: StationDirectory.visible(try await store.stations(), to: user))
    }

    /// A station as the office sees it at `now` (online or not), as `StationDirectory` makes it.
    func view(_ s: StationRecord, now: Timestamp) -> StationView {
        StationView(s, online: isOnline(s, now: now), offset: configuration.utcOffset)
    }

    /// What a region page shows of a station's live state.
    func pageLive(_ s: StationRecord, now: Timestamp) -> OfficeRegionPage.Live {
        OfficeRegionPage.Live(s, online: isOnline(s, now: now))
    }

    func isOnline(_ s: StationRecord, now: Timestamp) -> Bool { s.lastSeen.map { now - $0 < configuration.offlineAfter } ?? false }

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

    /// The period of a question: `from`/`to` (dates or RFC 3339; default the last 7 days,
    /// or the last day by hour) in `bucket`s.
    func period(_ q: FlatDictionary<Substring, Substring>, defaultBucket: UsageBucket = .day, fixedBucket: UsageBucket? = nil) throws -> UsagePeriod {
        let bucket: UsageBucket
        if let fixedBucket {
            bucket = fixedBucket
        } else if let text = q["bucket"].map(String.init) {
            guard let b = UsageBucket(rawValue: text) else {
                throw CollectorHTTPError(.badRequest, "bad_query", "bucket=\(IngestValidation.printable(text)): expected hour, day, week or month")
            }
            bucket = b
        } else { bucket = defaultBucket }
        let offset = configuration.utcOffset
        let now = Timestamp.now()
        let to = try q["to"].map { try Self.parseBound(String($0), name: "to", isEnd: true, offset: offset) }
            ?? (try! UsagePeriod(from: now, to: now, bucket: .day, offset: offset)).to
        let from = try q["from"].map { try Self.parseBound(String($0), name: "from", isEnd: false, offset: offset) }
            ?? to - .seconds(bucket == .hour ? 86_400 : 7 * 86_400)
        guard from < to else { throw CollectorHTTPError(.badRequest, "bad_query", "from must be before to") }
        do {
            return try UsagePeriod(from: from, to: to, bucket: bucket, offset: offset)
        } catch {
            guard case .tooManyBuckets(let n) = error else { throw error }
            throw CollectorHTTPError(.unprocessableContent, "range_too_large", "\(n) buckets: at most \(UsagePeriod.maximumBuckets) (about 5 months by hour)")
        }
    }

    /// The scope of a question (`station=`, `region=`, `district=`) among what the user sees.
    func scope(_ q: FlatDictionary<Substring, Substring>, user: UserRecord) async throws -> Analytics.Scope {
        // Who may see what, from the roster in memory: without the live views `directory`
        // builds for every station, nor flushing heartbeats first (a question reads rollups).
        let visible = StationDirectory.visible(try await roster.stations(store), to: user)
        do {
            return try Analytics.scope(user: user, visible: visible, station: q["station"].map(String.init), region: q["region"].map(String.init),
                                       district: q["district"].map(String.init))
        } catch let error as Analytics.ScopeError {
            switch error {
            case .unknownStation(let id): throw CollectorHTTPError(.notFound, "unknown_station", "no station \(IngestValidation.printable(id))")
            case .notYours(let id): throw CollectorHTTPError(.forbidden, "forbidden", "station \(IngestValidation.printable(id)) is not one of yours")
            case .unknownRegion(let r): throw CollectorHTTPError(.notFound, "unknown_region", "no station of yours in region \(IngestValidation.printable(r))")
            case .outsideYourRegion(let r): throw CollectorHTTPError(.forbidden, "forbidden", "region \(IngestValidation.printable(r)) is outside yours")
            case .unknownDistrict(let d): throw CollectorHTTPError(.notFound, "unknown_district", "no station of yours in district \(IngestValidation.printable(d))")
            }
        }
    }

    func outputFormat(_ q: FlatDictionary<Substring, Substring>) throws -> String {
        let format = q["format"].map(String.init) ?? "json"
        guard format == "json" || format == "csv" else { throw CollectorHTTPError(.badRequest, "bad_query", "format=\(IngestValidation.printable(format)): expected json or csv") }
        return format
    }

    var analytics: Analytics { Analytics(store: store, offset: configuration.utcOffset) }

    func usage(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        let q = request.uri.queryParameters
        let format = try outputFormat(q)
        let period = try period(q)
        let scope = try await scope(q, user: user)
        let answer = try await analytics.usage(scope, period: period, comparisons: format == "json")
        let offset = configuration.utcOffset
        let view = UsageView(answer, scope: scope, offset: offset)
        guard format == "csv" else { return try json(view) }
        // A download for Excel: byte-order mark, CRLF, quoted and formula-safe (CSV).
        var csv = CSV.byteOrderMark + CSV.header(UsageView.Bucket.csvHeader)
        for b in view.buckets { csv += CSV.line(b.csvFields) }
        return csvDownload(csv, name: "usage-\(scope.description)-\(view.from.prefix(10))-\(period.bucket.rawValue)")
    }

    func rankings(_ request: Request) async throws -> Response {
        let user = try await authenticatedUser(request)
        let q = request.uri.queryParameters
        let format = try outputFormat(q)
        let byText = q["by"].map(String.init) ?? "visits"
        guard let measure = RankingMeasure(rawValue: byText) else {
            throw CollectorHTTPError(.badRequest, "bad_query", "by=\(IngestValidation.printable(byText)): expected one of visits, rejected_full, downtime, rating, visits_per_seat")
        }
        let orderText = q["order"].map(String.init) ?? "desc"
        guard orderText == "asc" || orderText == "desc" else {
            throw CollectorHTTPError(.badRequest, "bad_query", "order=\(IngestValidation.printable(orderText)): expected asc or desc")
        }
        let limitText = q["limit"].map(String.init) ?? "20"
        guard let limit = Int(limitText), (1...1000).contains(limit) else {
            throw CollectorHTTPError(.badRequest, "bad_query", "limit=\(IngestValidation.printable(limitText)): expected 1 to 1000")
        }
        let period = try period(q, fixedBucket: .day)
        let scope = try await scope(q, user: user)
        let entries = try await analytics.rankings(scope, measure: measure, descending: orderText == "desc", limit: limit, period: period)
        let view = RankingsView(measure: measure, order: orderText, period: period, scope: scope, entries: entries, offset: configuration.utcOffset)
        guard format == "csv" else { return try json(view) }
        var csv = CSV.byteOrderMark + CSV.header(RankingsView.Entry.csvHeader)
        for e in view.stations { csv += CSV.line(e.csvFields) }
        return csvDownload(csv, name: "rankings-\(measure.rawValue)-\(scope.description)-\(view.from.prefix(10))")
    }

    /// A CSV attachment; the file name keeps ASCII letters, digits and `-` only.
    func csvDownload(_ csv: String, name: String) -> Response {
        let safe = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "_" })
        return Response(status: .ok, headers: [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"\(safe).csv\"",
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
