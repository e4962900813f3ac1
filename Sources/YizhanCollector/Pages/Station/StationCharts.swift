import YizhanCore
import YizhanWeb

/// The five charts of a station's page, drawn from its usage reports (pure: no store).
enum StationCharts {
    struct Chart: Sendable {
        var caption: String
        var svg: TrustedMarkup
    }

    static let weekdays = ["周一 Mon", "周二 Tue", "周三 Wed", "周四 Thu", "周五 Fri", "周六 Sat", "周日 Sun"]

    /// `days`: 30 days by day; `weeks`: 4 weeks by hour; `today`: today by hour.
    static func make(days: UsageReport, weeks: UsageReport, today: UsageReport, offset: UTCOffset) -> [Chart] {
        let dayLabels = days.buckets.map { String(RFC3339.format($0.start, offset: offset).dropFirst(5).prefix(5)) }
        return [
            Chart(caption: "每日到访 Visits per day (30 days)",
                  svg: SVGChart.bars(title: "Visits per day", labels: dayLabels, values: days.buckets.map { Double($0.visits) }, labelEvery: 5)),
            Chart(caption: "到访时段 Hour of week (4 weeks)",
                  svg: SVGChart.heatmap(title: "Visits by hour of week", cells: hourOfWeek(weeks, offset: offset), rowLabels: weekdays)),
            Chart(caption: "今日在站 Inside through today (peak per hour)",
                  svg: SVGChart.line(title: "Occupancy today", labels: (0..<24).map { "\($0)" }, values: today.buckets.map { Double($0.peakOccupancy) })),
            Chart(caption: "设施故障时长 Amenity downtime per day (hours)",
                  svg: SVGChart.bars(title: "Downtime per day", labels: dayLabels,
                                     values: days.buckets.map { Double($0.amenityDowntimeSeconds) / 3600 }, labelEvery: 5, unit: " h")),
            Chart(caption: "满意度 Satisfaction (mean 1–5 per day)",
                  svg: SVGChart.bars(title: "Satisfaction per day", labels: dayLabels, values: days.buckets.map { $0.meanRating ?? 0 }, labelEvery: 5)),
        ]
    }

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
