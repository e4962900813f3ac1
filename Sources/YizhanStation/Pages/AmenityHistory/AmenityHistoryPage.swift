import Foundation
import YizhanCore
import YizhanWeb

/// `/manage/amenities`: every amenity status change and every worker's fault report,
/// newest first.
struct AmenityHistoryPage: PageModel, Sendable {
    static let template = "manager-amenity-history"

    struct Row: Sendable {
        var time: String
        var amenity: String
        var status: String
        var by: String
        var note: String
    }

    var layout: ManagerLayout
    var rows: [Row]

    /// `names` maps an amenity id to its name (Chinese and English); an unknown id shows as it is.
    static func make(events: [RecordedEvent], names: [String: String], offset: UTCOffset, stationName: String,
                     session: WebSession) -> AmenityHistoryPage {
        let rows = events.compactMap { r -> Row? in
            let time = String(RFC3339.format(r.event.time, offset: offset).prefix(16)).replacingOccurrences(of: "T", with: " ")
            switch try? AmenityEventDetail.parse(kind: r.event.kind.rawValue, detail: r.event.detail) {
            case .change(let id, let status, let by, let note)?:
                return Row(time: time, amenity: names[id] ?? id, status: status.managerLabel, by: by ?? "", note: note ?? "")
            case .faultReport(let id, let note)?:
                return Row(time: time, amenity: names[id] ?? id, status: "报修 Reported", by: "kiosk", note: note ?? "")
            default:
                return nil
            }
        }
        return AmenityHistoryPage(layout: ManagerLayout(title: "设施记录 Amenity history", stationName: stationName, session: session), rows: rows)
    }
}
