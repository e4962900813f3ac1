import YizhanCore
import YizhanWeb

/// What the dashboard's charts share: a chart with its caption, the hour-of-week fold.
enum StationCharts {
    struct Chart: Sendable {
        var caption: String
        var svg: TrustedMarkup
    }

    static let weekdays = ["周一 Mon", "周二 Tue", "周三 Wed", "周四 Thu", "周五 Fri", "周六 Sat", "周日 Sun"]

    /// Visits by hour of week, Monday first, in the office's time: 7 rows of 24.
    static func hourOfWeek(_ report: UsageReport, offset: UTCOffset) -> [[Double]] {
        var cells = Array(repeating: Array(repeating: 0.0, count: 24), count: 7)
        for b in report.buckets {
            let c = CivilTime(b.start, offset: offset)
            cells[(c.weekday + 6) % 7][c.hour] += Double(b.visits)
        }
        return cells
    }
}
