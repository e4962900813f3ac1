import YizhanCore
import YizhanWeb

/// The five charts of a period, drawn from its usage reports (pure: no store): visits per
/// bucket, the hour-of-week heatmap, peak occupancy against capacity, downtime, ratings.
/// The region page and the station page both show them.
enum UsageCharts {
    typealias Chart = StationCharts.Chart

    static func bucketName(_ b: UsageBucket) -> String {
        switch b {
        case .hour: "每小时 per hour"
        case .day: "每日 per day"
        case .week: "每周 per week"
        case .month: "每月 per month"
        }
    }

    /// A bucket's start as its label: `11-23 08` by hour, `11-23` by day or week, `2026-11` by month.
    static func label(_ t: Timestamp, _ bucket: UsageBucket, _ offset: UTCOffset) -> String {
        let text = RFC3339.format(t, offset: offset)  // 2026-11-23T08:00:00+08:00
        switch bucket {
        case .hour: return String(text.dropFirst(5).prefix(8)).replacingOccurrences(of: "T", with: " ")
        case .day, .week: return String(text.dropFirst(5).prefix(5))
        case .month: return String(text.prefix(7))
        }
    }

    /// - Parameters:
    ///   - report: the period in its buckets;
    ///   - hourOfWeek: (at most) its last four weeks by hour;
    ///   - capacity: the seats of the scope's stations, drawn against the peak;
    ///   - peakIsSummed: the peak of several stations is the sum of theirs (an upper bound).
    static func make(report: UsageReport, bucket: UsageBucket, hourOfWeek: UsageReport, hourOfWeekDays: Int, capacity: Int,
                     offset: UTCOffset) -> [Chart] {
        let labels = report.buckets.map { label($0.start, bucket, offset) }
        let every = SVGChart.labelEvery(labels.count)
        let per = bucketName(bucket)
        let peakNote = report.peakIsUpperBound ? "，各站峰值之和 sum of the stations' peaks" : ""
        return [
            Chart(caption: "到访 Visits \(per)",
                  svg: SVGChart.bars(title: "Visits \(per)", labels: labels, values: report.buckets.map { Double($0.visits) }, labelEvery: every)),
            Chart(caption: "到访时段 Hour of week (\(hourOfWeekDays) 天 days)",
                  svg: SVGChart.heatmap(title: "Visits by hour of week", cells: StationCharts.hourOfWeek(hourOfWeek, offset: offset),
                                        rowLabels: StationCharts.weekdays)),
            Chart(caption: "最高在站与座位 Peak inside against seats (\(capacity))\(peakNote)",
                  svg: SVGChart.bars(title: "Peak occupancy \(per) against capacity", labels: labels,
                                     values: report.buckets.map { Double($0.peakOccupancy) }, labelEvery: every,
                                     reference: (Double(capacity), "座位 seats \(capacity)"))),
            Chart(caption: "设施故障时长 Amenity downtime \(per) (hours)",
                  svg: SVGChart.bars(title: "Downtime \(per)", labels: labels,
                                     values: report.buckets.map { Double($0.amenityDowntimeSeconds) / 3600 }, labelEvery: every, unit: " h")),
            Chart(caption: "满意度 Satisfaction (mean 1–5 \(per))",
                  svg: SVGChart.bars(title: "Satisfaction \(per)", labels: labels, values: report.buckets.map { $0.meanRating ?? 0 },
                                     labelEvery: every, maximum: 5)),
        ]
    }
}
