import YizhanCore

/// The open alerts of a region or a station, as the dashboard lists them (the same
/// AlertView the API and `alerts list` show), with deliveries that need attention.
struct OfficeAlertList: Sendable {
    struct Row: Sendable {
        var kind: String
        var station: String
        var href: String
        var subject: String
        var since: String
        var detail: String
        var message: String
        /// "2 pending" / "1 FAILED: …", nil when delivered.
        var delivery: String?
        var failed: Bool
    }
    var rows: [Row]
    var more: Int?

    static let shown = 50
    static let empty = OfficeAlertList(rows: [], more: nil)

    static func make(_ alerts: [AlertView], stationLink: (String) -> String) -> OfficeAlertList {
        let rows = alerts.prefix(shown).map { a in
            var delivery: [String] = []
            if a.deliveries.pending > 0 { delivery.append("\(a.deliveries.pending) 待发送 pending") }
            if a.deliveries.failed > 0 { delivery.append("\(a.deliveries.failed) 发送失败 FAILED") }
            if let e = a.deliveries.lastError, !delivery.isEmpty { delivery.append(e) }
            return Row(kind: a.alert.rawValue, station: a.stationName.isEmpty ? a.station : a.stationName, href: stationLink(a.station),
                       subject: a.subject, since: a.since, detail: a.detail, message: a.messageZh,
                       delivery: delivery.isEmpty ? nil : delivery.joined(separator: " · "), failed: a.deliveries.failed > 0)
        }
        return OfficeAlertList(rows: Array(rows), more: alerts.count > shown ? alerts.count - shown : nil)
    }
}

extension OfficeTemplates {
    /// The open alerts, put in a page as `{{#alerts}}{{> office-alerts}}{{/alerts}}`.
    static let alerts = #"""
    <h2>告警 Open alerts</h2>
    {{#empty(rows)}}<p class="empty">没有未解决的告警 No open alerts.</p>{{/empty(rows)}}
    {{^empty(rows)}}
    <table class="alerts"><thead><tr><th>类型 Kind</th><th>站点 Station</th><th>对象 Subject</th><th>始于 Since</th><th>说明 Detail</th><th>通知 Delivery</th></tr></thead><tbody>
    {{#rows}}<tr><td>{{kind}}</td><td><a href="{{href}}">{{station}}</a></td><td>{{subject}}</td><td>{{since}}</td><td>{{detail}}</td><td{{#failed}} class="offline"{{/failed}}>{{#delivery}}{{delivery}}{{/delivery}}{{^delivery}}已送达 delivered{{/delivery}}</td></tr>{{/rows}}
    </tbody></table>
    {{#more}}<p>… +{{more}}</p>{{/more}}
    {{/empty(rows)}}
    """#
}
