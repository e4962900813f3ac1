import YizhanCore
import YizhanWeb

/// `/?region=PATH&from&to&bucket&by`: where the office works. A region (the nation when
/// none) for a period: breadcrumbs up to the nation, headline figures with their change
/// against the previous period and a year earlier, its child regions (or, at the bottom,
/// its stations) with their live state and visits, five charts, the ranking of its
/// stations, a map of them, and the API's CSV exports of the same question.
struct OfficeRegionPage: PageModel, Sendable {
    static let template = "office-region"

    struct Crumb: Sendable { var name: String; var href: String?; var current = false }
    struct Child: Sendable {
        var name: String
        var href: String
        var stations: Int
        var online: Int
        var occupancy: Int
        var capacity: Int
        var faults: Int
        var visits: String
        var change: Change
    }
    struct StationRow: Sendable {
        var name: String
        var href: String
        var region: String
        var online: Bool
        var occupancy: Int
        var capacity: Int
        var faults: String
        var visits: String
        var change: Change
    }
    struct MeasureLink: Sendable { var label: String; var href: String; var current: Bool }
    struct Ranked: Sendable {
        var rank: Int
        var name: String
        var href: String
        var region: String
        var value: String
        var vsPrevious: Change
        var vsYear: Change
    }
    struct Export: Sendable { var label: String; var href: String }
    /// One software version among the region's stations (from their last heartbeats): how a
    /// rollout wave is going.
    struct VersionRow: Sendable { var version: String; var stations: Int; var share: String; var online: Int; var offline: Int; var withBacklog: Int }
    struct Unplaced: Sendable { var name: String; var href: String }

    var layout: OfficeLayout
    var crumbs: [Crumb]
    var regionName: String
    var periodText: String
    var picker: PeriodPicker
    var headlines: [Headline]
    var childLevel: String
    var children: [Child]
    var stations: [StationRow]
    var stationCount: Int
    var onlineCount: Int
    var charts: [StationCharts.Chart]
    var map: TrustedMarkup?
    /// The map draws squares of stations, not each one (`StationMap.mostMarkers`).
    var mapByCells: Bool
    var legend: [StationMap.Legend]
    var unplaced: [Unplaced]
    var unplacedMore: Int?
    var measures: [MeasureLink]
    var measureLabel: String
    var top: [Ranked]
    var bottom: [Ranked]
    /// `14:03:12`: the snapshot the ranking's order comes from (a large region's), if any.
    var rankedAsOf: String?
    var exports: [Export]
    var versions: [VersionRow]
    /// Open alerts of the region's stations (set by the handler after `make`).
    var alerts = OfficeAlertList.empty
    /// Stations whose applied settings revision is not the desired one (set by the handler).
    var outOfSync: [SettingsSyncRow] = []

    /// Live figures refresh with the page this often.
    static let refreshSeconds = 60
    static let rankingSize = 10
    static let unplacedShown = 20

    /// What a region page shows of a station's live state: a few figures, not the API's
    /// whole view (a national page makes one for each of 186,000 stations).
    struct Live: Sendable, Equatable {
        var online: Bool
        var occupancy: Int
        var capacity: Int
        /// The amenities that need attention, sorted.
        var faultNames: [String]
        var faults: Int { faultNames.count }
        var version: String?
        var backlog: Int64

        init(_ s: StationRecord, online: Bool) {
            self.online = online
            occupancy = s.occupancy
            capacity = s.live?.capacity ?? s.capacity
            // Looked for before they are gathered: most stations have none, and nothing to allocate.
            let amenities = s.live?.amenities ?? [:]
            faultNames = amenities.values.contains(where: \.needsAttention) ? amenities.filter { $0.value.needsAttention }.keys.sorted() : []
            version = s.live?.version
            backlog = s.live?.backlog ?? 0
        }
    }

    /// What the handler fetched for the page.
    struct Input: Sendable {
        var region: RegionPath
        var user: UserRecord
        /// The stations in the region the user may see, and what the page shows of each one's
        /// live state, in the same order.
        var stations: [StationRecord]
        var live: [Live]
        var answer: Analytics.Answer
        /// The last four weeks (at most) of the period by hour.
        var hourOfWeek: UsageReport
        var visits: Analytics.ChildVisits
        /// The top and the bottom of the ranking by `measure` (`rankingSize` each).
        var top: [RankingEntry]
        var bottom: [RankingEntry]
        /// When the ranking's order was read, for a region ranked from a snapshot (`RankingSnapshots`).
        var rankedAsOf: Timestamp? = nil
        var measure: RankingMeasure
        var period: DashboardPeriod
        var now: Timestamp
    }

    static func levelName(_ depth: Int) -> String {
        ["省 Province", "市 City", "区县 District", "街道 Street"].indices.contains(depth)
            ? ["省 Province", "市 City", "区县 District", "街道 Street"][depth] : "片区 Area"
    }

    static func measureLabel(_ m: RankingMeasure) -> String {
        switch m {
        case .visits: "到访 Visits"
        case .rejectedFull: "满员拒入 Turned away (full)"
        case .downtime: "故障时长 Downtime"
        case .rating: "满意度 Rating"
        case .visitsPerSeat: "每座到访 Visits per seat"
        }
    }

    static func format(_ m: RankingMeasure, _ v: Double?) -> String {
        guard let v else { return "–" }
        switch m {
        case .visits, .rejectedFull: return Figures.count(Int(v))
        case .downtime: return Figures.hours(Int64(v))
        case .rating, .visitsPerSeat: return Figures.decimal(v)
        }
    }

    /// The page's own address with these parameters (the period kept).
    static func link(region: RegionPath, period: DashboardPeriod, by: RankingMeasure?) -> String {
        DashboardQuery.link("/", [("region", region.description), ("from", period.fromDate), ("to", period.toDate),
                                  ("bucket", period.bucket.rawValue), ("by", by.flatMap { $0 == .visits ? nil : $0.rawValue })])
    }

    static func stationLink(_ id: String, period: DashboardPeriod) -> String {
        DashboardQuery.link("/stations/" + DashboardQuery.encode(id), [("from", period.fromDate), ("to", period.toDate), ("bucket", period.bucket.rawValue)])
    }

    /// May this user open the page of `region`? (An office user scoped to a region cannot
    /// go above it; a manager's pages cover only their stations anyway.)
    static func mayOpen(_ region: RegionPath, user: UserRecord) -> Bool {
        user.role != .office || (user.region ?? .nation).contains(region)
    }

    static func make(_ input: Input, session: OfficeSession, offset: UTCOffset) -> OfficeRegionPage {
        let region = input.region, period = input.period, by = input.measure

        let crumbs = region.selfAndAncestors.map { r in
            Crumb(name: r.isNation ? "全国 Nation" : r.name,
                  href: r == region || !mayOpen(r, user: input.user) ? nil : link(region: r, period: period, by: by), current: r == region)
        }

        let report = input.answer.report
        let headlines = Headline.make(input.answer)

        // Child regions: every station below the region counts in the child it is under;
        // stations placed at the region itself are listed as stations.
        struct Sum { var stations = 0, online = 0, occupancy = 0, capacity = 0, faults = 0 }
        // One lookup of the child's name per station (hashing a Chinese name is most of a
        // lookup's cost), the sums kept in an array.
        var childIndex: [String: Int] = [:]
        var childSums: [(name: String, sum: Sum)] = []
        var direct: [(station: StationRecord, live: Live)] = []
        // The loops over every station go by index: copying each record (a dozen references)
        // was a quarter of a national page's time.
        let stations = input.stations, live = input.live
        for i in stations.indices {
            let r = stations[i].region, v = live[i]
            guard r.depth > region.depth, region.contains(r) else { direct.append((stations[i], v)); continue }
            let child = r.segments[region.depth]
            let k: Int
            if let known = childIndex[child] { k = known } else {
                k = childSums.count
                childIndex[child] = k
                childSums.append((child, Sum()))
            }
            childSums[k].sum.stations += 1
            childSums[k].sum.online += v.online ? 1 : 0
            childSums[k].sum.occupancy += v.occupancy
            childSums[k].sum.capacity += v.capacity
            childSums[k].sum.faults += v.faults
        }
        let children = childSums.sorted { $0.name < $1.name }.map { name, s in
            let visits = input.visits.children[name] ?? Analytics.VisitsPair()
            return Child(name: name, href: link(region: RegionPath(segments: region.segments + [name]), period: period, by: by),
                         stations: s.stations, online: s.online, occupancy: s.occupancy, capacity: s.capacity, faults: s.faults,
                         visits: Figures.count(Int(visits.current)), change: Change.between(Double(visits.current), base: Double(visits.previous)))
        }
        func relative(_ r: RegionPath) -> String {
            r.depth > region.depth && region.contains(r) ? r.segments.dropFirst(region.depth).joined(separator: "/") : (r == region ? "" : r.description)
        }
        let stationRows = direct.sorted { ($0.station.name, $0.station.id) < ($1.station.name, $1.station.id) }.map { s, v in
            let visits = input.visits.stations[s.id]?.current ?? 0
            return StationRow(name: s.name, href: stationLink(s.id, period: period), region: relative(s.region), online: v.online,
                              occupancy: v.occupancy, capacity: v.capacity,
                              faults: v.faults == 0 ? "–" : v.faultNames.joined(separator: ", "),
                              visits: Figures.count(Int(visits)),
                              change: Change.between(Double(visits), base: Double(input.visits.stations[s.id]?.previous ?? 0)))
        }

        // The map and its legend.
        // In the stations' order by id: the markers' drawing order and the unplaced list's.
        // (Squares of many stations do not depend on it: only the points are sorted, not
        // the records, which a national page would copy 186,000 times over.)
        var points: [StationMap.Point] = []
        var unplaced: [(id: String, row: Unplaced)] = []
        points.reserveCapacity(input.stations.count)
        for i in stations.indices {
            let v = live[i]
            guard let lat = stations[i].latitude, let lon = stations[i].longitude, (-90...90).contains(lat), (-180...180).contains(lon) else {
                unplaced.append((stations[i].id, Unplaced(name: stations[i].name, href: stationLink(stations[i].id, period: period))))
                continue
            }
            points.append(StationMap.Point(id: stations[i].id, name: stations[i].name, latitude: lat, longitude: lon,
                                           status: .of(online: v.online, occupancy: v.occupancy, capacity: v.capacity, faults: v.faults)))
        }
        if points.count <= StationMap.mostMarkers { points.sort { $0.id < $1.id } }
        unplaced.sort { $0.id < $1.id }
        let placeName = region.isNation ? "全国 Nation" : region.description

        // Rankings: the top and the bottom.
        // The ranked stations' names and regions (20 of them, not a copy of every record).
        let rankedIDs = Set((input.top + input.bottom).map(\.station))
        var names: [String: StationRecord] = [:]
        for i in stations.indices where rankedIDs.contains(stations[i].id) && names[stations[i].id] == nil { names[stations[i].id] = stations[i] }
        func ranked(_ entries: [RankingEntry]) -> [Ranked] {
            entries.map { e in
                Ranked(rank: e.rank, name: names[e.station]?.name ?? e.station, href: stationLink(e.station, period: period),
                       region: names[e.station].map { relative($0.region) } ?? "", value: format(by, e.value),
                       vsPrevious: Change.between(e.value, base: e.previous), vsYear: Change.between(e.value, base: e.yearEarlier))
            }
        }
        let count = input.stations.count

        let regionParameter = region.isNation ? nil : region.description
        let exports = [
            Export(label: "用量 Usage (\(period.bucket.rawValue)) CSV",
                   href: DashboardQuery.link("/api/v1/usage", [("region", regionParameter), ("from", period.fromDate), ("to", period.toDate),
                                                               ("bucket", period.bucket.rawValue), ("format", "csv")])),
            Export(label: "排名 Rankings (\(by.rawValue)) CSV",
                   href: DashboardQuery.link("/api/v1/rankings", [("region", regionParameter), ("from", period.fromDate), ("to", period.toDate),
                                                                  ("by", by.rawValue), ("limit", "1000"), ("format", "csv")])),
        ]

        let versions = versionSpread(input.live)

        let heatDays = Int((input.hourOfWeek.buckets.count + 23) / 24)
        let capacity = input.live.reduce(0) { $0 + $1.capacity }
        return OfficeRegionPage(
            layout: OfficeLayout(title: region.isNation ? "全国 Nation" : region.name, session: session, refreshSeconds: refreshSeconds),
            crumbs: crumbs, regionName: placeName, periodText: "\(period.fromDate) – \(period.toDate)",
            picker: PeriodPicker.make(action: "/", keep: [("region", regionParameter), ("by", by == .visits ? nil : by.rawValue)],
                                      period: period, now: input.now),
            headlines: headlines, childLevel: levelName(region.depth), children: children, stations: stationRows,
            stationCount: count, onlineCount: input.live.reduce(0) { $0 + ($1.online ? 1 : 0) },
            charts: UsageCharts.make(report: report, bucket: period.bucket, hourOfWeek: input.hourOfWeek, hourOfWeekDays: heatDays,
                                     capacity: capacity, offset: offset),
            map: points.isEmpty ? nil : StationMap.draw(title: "站点地图 Map of the stations: \(placeName)", points: points),
            mapByCells: points.count > StationMap.mostMarkers,
            legend: StationMap.legend(points),
            unplaced: unplaced.prefix(unplacedShown).map(\.row), unplacedMore: unplaced.count > unplacedShown ? unplaced.count - unplacedShown : nil,
            measures: RankingMeasure.allCases.map { m in MeasureLink(label: measureLabel(m), href: link(region: region, period: period, by: m), current: m == by) },
            measureLabel: measureLabel(by),
            top: ranked(input.top), bottom: count > rankingSize ? ranked(input.bottom) : [],
            rankedAsOf: input.rankedAsOf.map { String(RFC3339.format($0, offset: offset).dropFirst(11).prefix(8)) },
            exports: exports, versions: versions)
    }

    /// Stations per version, newest first (versions compared number by number; stations
    /// never heard from last), each split into online, offline and with a backlog.
    static func versionSpread(_ views: [Live]) -> [VersionRow] {
        var index: [String: Int] = [:]
        var found: [VersionRow] = []
        for i in views.indices {
            let name = views[i].version ?? "–"
            let k: Int
            if let known = index[name] { k = known } else {
                k = found.count
                index[name] = k
                found.append(VersionRow(version: name, stations: 0, share: "", online: 0, offline: 0, withBacklog: 0))
            }
            found[k].stations += 1
            if views[i].online { found[k].online += 1 } else { found[k].offline += 1 }
            if views[i].backlog > 0 { found[k].withBacklog += 1 }
        }
        func parts(_ s: String) -> [Int] { s.split(whereSeparator: { !$0.isNumber }).map { Int($0) ?? 0 } }
        func newer(_ a: VersionRow, _ b: VersionRow) -> Bool {
            if (a.version == "–") != (b.version == "–") { return b.version == "–" }
            let (x, y) = (parts(a.version), parts(b.version))
            return x == y ? a.version > b.version : y.lexicographicallyPrecedes(x)
        }
        let total = max(views.count, 1)
        return found.sorted(by: newer).map { r in
            var r = r
            let tenths = (r.stations * 1000 + total / 2) / total
            r.share = "\(tenths / 10).\(tenths % 10) %"
            return r
        }
    }
}
