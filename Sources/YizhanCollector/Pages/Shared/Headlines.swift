import YizhanCore

/// The headline figures of a period with their change against the previous period and a
/// year earlier: the region page and the station page show the same table.
struct Headline: Sendable {
    var label: String
    var value: String
    var note: String?
    var vsPrevious: Change
    var vsYear: Change

    static func make(_ answer: Analytics.Answer) -> [Headline] {
        let report = answer.report
        let t = report.totals
        let prev = answer.previous?.totals, year = answer.yearEarlier?.totals
        func headline(_ label: String, _ value: String, note: String? = nil, _ f: (UsageFigures) -> Double?) -> Headline {
            Headline(label: label, value: value, note: note,
                     vsPrevious: Change.between(f(t), base: prev.flatMap(f)), vsYear: Change.between(f(t), base: year.flatMap(f)))
        }
        return [
            headline("到访 Visits", Figures.count(t.visits)) { Double($0.visits) },
            headline("服务人数 Unique workers", (report.uniqueWorkersEstimated ? "≈ " : "") + Figures.count(t.uniqueWorkers),
                     note: report.uniqueWorkersEstimated ? "估计 estimated" : nil) { Double($0.uniqueWorkers) },
            headline("最高在站 Peak inside", Figures.count(t.peakOccupancy),
                     note: report.peakIsUpperBound ? "各站峰值之和 sum of the stations' peaks" : nil) { Double($0.peakOccupancy) },
            headline("平均停留 Mean stay", Figures.minutes(t.meanStaySeconds)) { $0.meanStaySeconds.map(Double.init) },
            headline("满员拒入 Turned away (full)", Figures.count(t.rejectedFull)) { Double($0.rejectedFull) },
            headline("报修 Fault reports", Figures.count(t.faultReports)) { Double($0.faultReports) },
            headline("设施故障 Amenity downtime", Figures.hours(t.amenityDowntimeSeconds)) { Double($0.amenityDowntimeSeconds) },
            headline("满意度 Rating", Figures.decimal(t.meanRating), note: "\(t.ratings) 次评分 ratings") { $0.meanRating },
        ]
    }
}

extension OfficeTemplates {
    /// The headline table (`{{> office-headlines}}` where `headlines: [Headline]` is in scope).
    static let headlines = #"""
    <table class="headlines"><thead><tr><th>指标 Figure</th><th>本期 This period</th><th>较上期 vs previous period</th><th>较去年同期 vs a year earlier</th></tr></thead><tbody>
    {{#headlines}}
    <tr><th scope="row">{{label}}</th><td class="figure">{{value}}{{#note}} <small>({{note}})</small>{{/note}}</td><td class="chg-{{vsPrevious.direction}}">{{vsPrevious.text}}</td><td class="chg-{{vsYear.direction}}">{{vsYear.text}}</td></tr>
    {{/headlines}}
    </tbody></table>
    """#
}
