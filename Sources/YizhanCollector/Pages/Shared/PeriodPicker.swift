import YizhanCore

/// The period a dashboard page shows: dates as the office typed them (the last day
/// included) and the bucket, read from `from`, `to`, `bucket` in the query.
struct DashboardPeriod: Sendable, Hashable {
    /// `2026-11-01`: the first day shown.
    var fromDate: String
    /// `2026-11-30`: the last day shown (whole).
    var toDate: String
    var bucket: UsageBucket
    var period: UsagePeriod

    enum Problem: Error, Equatable { case badDate(String, String), badBucket(String), empty, tooManyBuckets(Int) }

    /// The default is the 30 days ending today, by day.
    static let defaultDays = 30

    static func parse(from: String?, to: String?, bucket: String?, now: Timestamp, offset: UTCOffset) throws(Problem) -> DashboardPeriod {
        let b: UsageBucket
        if let text = bucket, !text.isEmpty {
            guard let parsed = UsageBucket(rawValue: text) else { throw .badBucket(text) }
            b = parsed
        } else { b = .day }
        func day(_ text: String, _ name: String) throws(Problem) -> Timestamp {
            // A date alone (the form's input type=date); whole local days.
            guard text.count == 10, let t = RFC3339.parse(text, defaultOffset: offset),
                  CollectorHTTP.bounds(offset).contains(t) else { throw .badDate(name, text) }
            return t
        }
        let today = Self.startOfDay(now, offset)
        var end = today + .seconds(86_400)
        if let to, !to.isEmpty { end = try day(to, "to") + .seconds(86_400) }
        var start = end - .seconds(Int64(defaultDays) * 86_400)
        if let from, !from.isEmpty { start = try day(from, "from") }
        guard start < end else { throw .empty }
        let period: UsagePeriod
        do { period = try UsagePeriod(from: start, to: end, bucket: b, offset: offset) } catch {
            switch error { case .tooManyBuckets(let n): throw .tooManyBuckets(n) }
        }
        return DashboardPeriod(fromDate: Self.date(start, offset), toDate: Self.date(end - .seconds(86_400), offset), bucket: b, period: period)
    }

    static func startOfDay(_ t: Timestamp, _ offset: UTCOffset) -> Timestamp {
        Timestamp(millisecondsSinceEpoch: RollupBuilder.day(ofHour: RollupBuilder.hour(of: t.millisecondsSinceEpoch), offset: offset))
    }

    static func date(_ t: Timestamp, _ offset: UTCOffset) -> String { String(RFC3339.format(t, offset: offset).prefix(10)) }

    /// The same period by day (the rankings' and the child regions' totals).
    var days: UsagePeriod { (try? UsagePeriod(from: period.from, to: period.to, bucket: .day, offset: period.offset)) ?? period }

    /// The last four weeks of the period (at most), by hour: the hour-of-week heatmap.
    var lastFourWeeksByHour: UsagePeriod {
        let to = period.to
        let from = max(period.from, to - .seconds(28 * 86_400))
        return try! UsagePeriod(from: from, to: to, bucket: .hour, offset: period.offset)
    }

    var message: String {
        "\(fromDate) – \(toDate)"
    }
}

/// The period picker: a plain GET form (no script), the page's other parameters kept as
/// hidden fields, and a few ready-made periods as links.
struct PeriodPicker: Sendable {
    struct Hidden: Sendable { var name: String; var value: String }
    struct Option: Sendable { var value: String; var label: String; var selected: Bool }
    struct Preset: Sendable { var label: String; var href: String; var current: Bool }

    var action: String
    var hidden: [Hidden]
    var from: String
    var to: String
    var buckets: [Option]
    var presets: [Preset]

    static let bucketLabels: [(UsageBucket, String)] = [(.hour, "小时 hour"), (.day, "日 day"), (.week, "周 week"), (.month, "月 month")]

    /// `keep`: the page's parameters other than the period (region, by).
    static func make(action: String, keep: [(String, String?)], period: DashboardPeriod, now: Timestamp) -> PeriodPicker {
        let offset = period.period.offset
        let today = DashboardPeriod.startOfDay(now, offset)
        let todayText = DashboardPeriod.date(today, offset)
        func preset(_ label: String, days: Int, bucket: UsageBucket) -> Preset {
            let from = DashboardPeriod.date(today - .seconds(Int64(days - 1) * 86_400), offset)
            return Preset(label: label, href: DashboardQuery.link(action, keep + [("from", from), ("to", todayText), ("bucket", bucket.rawValue)]),
                          current: from == period.fromDate && todayText == period.toDate && bucket == period.bucket)
        }
        return PeriodPicker(
            action: action,
            hidden: keep.compactMap { k, v in v.flatMap { $0.isEmpty ? nil : Hidden(name: k, value: $0) } },
            from: period.fromDate, to: period.toDate,
            buckets: bucketLabels.map { Option(value: $0.0.rawValue, label: $0.1, selected: $0.0 == period.bucket) },
            presets: [preset("7 天 days", days: 7, bucket: .day), preset("30 天 days", days: 30, bucket: .day),
                      preset("90 天 days (周 weekly)", days: 90, bucket: .week), preset("一年 a year (月 monthly)", days: 365, bucket: .month)])
    }
}

extension OfficeTemplates {
    /// The period picker (PeriodPicker), put in a page as `{{#picker}}{{> office-period}}{{/picker}}`.
    static let period = #"""
    <form method="get" action="{{action}}" class="period">{{#hidden}}<input type="hidden" name="{{name}}" value="{{value}}">{{/hidden}}
    <label for="from">自 From</label><input type="date" id="from" name="from" value="{{from}}">
    <label for="to">至 To</label><input type="date" id="to" name="to" value="{{to}}">
    <label for="bucket">按 By</label><select id="bucket" name="bucket">{{#buckets}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/buckets}}</select>
    <button type="submit">查看 Show</button>
    <span class="presets">{{#presets}}{{#current}}<strong>{{label}}</strong>{{/current}}{{^current}}<a href="{{href}}">{{label}}</a>{{/current}} {{/presets}}</span></form>
    """#
}
