import Foundation
import YizhanWeb

/// The region's stations drawn as SVG from their coordinates: an equirectangular
/// projection (longitude scaled by the cosine of the middle latitude) fitted to the
/// stations' bounding box. No tiles, nothing fetched. Each status has its own shape as
/// well as its colour (Okabe–Ito colours), and the legend says it in words with counts,
/// so the map reads without telling colours apart.
enum StationMap {
    enum Status: String, Sendable, CaseIterable {
        case ok, faults, full, offline

        var label: String {
            switch self {
            case .ok: "在线 online"
            case .faults: "设施故障 amenity fault"
            case .full: "满员 full"
            case .offline: "离线 offline"
            }
        }
        var colour: String {
            switch self {
            case .ok: "#009E73"
            case .faults: "#E69F00"
            case .full: "#0072B2"
            case .offline: "#D55E00"
            }
        }

        /// What the office looks for first, highest first: offline, full, amenity fault.
        var urgency: Int {
            switch self {
            case .ok: 0
            case .faults: 1
            case .full: 2
            case .offline: 3
            }
        }

        /// Offline wins (nothing else is known), then full, then faults.
        static func of(online: Bool, occupancy: Int, capacity: Int, faults: Int) -> Status {
            if !online { return .offline }
            if capacity > 0, occupancy >= capacity { return .full }
            return faults > 0 ? .faults : .ok
        }
    }

    struct Point: Sendable {
        var id: String
        var name: String
        var latitude: Double
        var longitude: Double
        var status: Status
    }

    struct Legend: Sendable { var label: String; var count: Int; var svg: TrustedMarkup }

    static let width = 720.0, height = 480.0, margin = 16.0

    /// Where each point lands in a `width` × `height` box (margins kept), north up.
    static func project(_ points: [(latitude: Double, longitude: Double)]) -> [(x: Double, y: Double)] {
        guard let first = points.first else { return [] }
        var minLat = first.latitude, maxLat = first.latitude, minLon = first.longitude, maxLon = first.longitude
        for p in points {
            minLat = min(minLat, p.latitude); maxLat = max(maxLat, p.latitude)
            minLon = min(minLon, p.longitude); maxLon = max(maxLon, p.longitude)
        }
        let k = cos((minLat + maxLat) / 2 * .pi / 180)
        let spanX = max((maxLon - minLon) * k, 1e-6), spanY = max(maxLat - minLat, 1e-6)
        let innerW = width - 2 * margin, innerH = height - 2 * margin
        let scale = min(innerW / spanX, innerH / spanY)
        // Centred: a region taller than wide keeps its shape.
        let offsetX = margin + (innerW - spanX * scale) / 2, offsetY = margin + (innerH - spanY * scale) / 2
        return points.map { p in
            (offsetX + (p.longitude - minLon) * k * scale, offsetY + (maxLat - p.latitude) * scale)
        }
    }

    static func marker(_ status: Status, x: Double, y: Double, size: Double = 5) -> String {
        let c = status.colour
        let xs = String(format: "%.1f", x), ys = String(format: "%.1f", y)
        switch status {
        case .ok: return ##"<circle cx="\##(xs)" cy="\##(ys)" r="\##(size)" fill="\##(c)"/>"##
        case .faults:
            return ##"<rect x="\##(String(format: "%.1f", x - size))" y="\##(String(format: "%.1f", y - size))" width="\##(2 * size)" height="\##(2 * size)" fill="\##(c)"/>"##
        case .full:
            return ##"<polygon points="\##(String(format: "%.1f,%.1f %.1f,%.1f %.1f,%.1f", x, y - size * 1.2, x + size * 1.1, y + size * 0.8, x - size * 1.1, y + size * 0.8))" fill="\##(c)"/>"##
        case .offline:
            return ##"<circle cx="\##(xs)" cy="\##(ys)" r="\##(size)" fill="#fff" stroke="\##(c)" stroke-width="2.5"/>"##
        }
    }

    /// Up to this many stations, each is drawn; above it, squares of `cellSize` are. A marker
    /// is about 10 px across in a 720 px map, so thousands overlap anyway, and a national
    /// map of 186,000 stations drawn one by one would be some 35 MB of HTML.
    static let mostMarkers = 2_000
    static let cellSize = 12.0

    /// The map; each station a link to its page with its name in a <title>, or, for more
    /// than `mostMarkers` stations, one marker per `cellSize` square holding any: the most
    /// urgent status in it (offline, then full, then amenity fault), larger the more
    /// stations it holds, its counts by status in a <title>.
    static func draw(title: String, points: [Point]) -> TrustedMarkup {
        var out = ##"<svg viewBox="0 0 \##(Int(width)) \##(Int(height))" role="img" aria-label="\##(HTML.escape(title))" class="chart map"><title>\##(HTML.escape(title))</title>"##
        out += ##"<rect x="0" y="0" width="\##(Int(width))" height="\##(Int(height))" fill="#f4f7f9"/>"##
        let xy = project(points.map { ($0.latitude, $0.longitude) })
        guard points.count > mostMarkers else {
            // Offline ones last, on top: they are what the office looks for.
            let order = points.indices.sorted { (points[$0].status == .offline ? 1 : 0, $0) < (points[$1].status == .offline ? 1 : 0, $1) }
            for i in order {
                let p = points[i]
                out += ##"<a href="/stations/\##(HTML.escape(DashboardQuery.encode(p.id)))"><title>\##(HTML.escape(p.name)) · \##(HTML.escape(p.status.label))</title>\##(marker(p.status, x: xy[i].x, y: xy[i].y))</a>"##
            }
            return TrustedMarkup(drawnByServer: out + "</svg>")
        }
        for cell in cells(points.map(\.status), at: xy) {
            let counts = Status.allCases.compactMap { s in cell.counts[s].map { "\(s.label) \($0)" } }.joined(separator: ", ")
            let size = min(cellSize / 2 + 2, 3 + log2(Double(cell.total)))
            out += ##"<g><title>\##(cell.total) 个站点 stations: \##(HTML.escape(counts))</title>\##(marker(cell.status, x: cell.x, y: cell.y, size: size))</g>"##
        }
        return TrustedMarkup(drawnByServer: out + "</svg>")
    }

    struct Cell: Equatable {
        var x: Double, y: Double
        var counts: [Status: Int]
        var total: Int { counts.values.reduce(0, +) }
        /// The most urgent status among its stations.
        var status: Status { counts.keys.max { $0.urgency < $1.urgency } ?? .ok }
    }

    /// The occupied `cellSize` squares, each at its centre, in drawing order: by status
    /// urgency (the most urgent on top), then top to bottom and left to right.
    static func cells(_ statuses: [Status], at xy: [(x: Double, y: Double)]) -> [Cell] {
        var byCell: [Int: [Status: Int]] = [:]
        let columns = Int(width / cellSize) + 1
        for (status, p) in zip(statuses, xy) {
            byCell[Int(p.y / cellSize) * columns + Int(p.x / cellSize), default: [:]][status, default: 0] += 1
        }
        return byCell.map { key, counts in
            Cell(x: (Double(key % columns) + 0.5) * cellSize, y: (Double(key / columns) + 0.5) * cellSize, counts: counts)
        }.sorted { ($0.status.urgency, $0.y, $0.x) < ($1.status.urgency, $1.y, $1.x) }
    }

    static func legend(_ points: [Point]) -> [Legend] {
        Status.allCases.map { s in
            Legend(label: s.label, count: points.filter { $0.status == s }.count,
                   svg: TrustedMarkup(drawnByServer: ##"<svg viewBox="0 0 16 16" width="16" height="16" aria-hidden="true">\##(marker(s, x: 8, y: 8))</svg>"##))
        }
    }
}
