import YizhanCore
import YizhanWeb

/// `/audit`: every office action (settings set, notices added and ended), newest first,
/// with a link to the same as CSV. Office users only; one with a region sees its entries.
struct OfficeAuditPage: PageModel, Sendable {
    static let template = "office-audit"
    /// The page shows this many; the CSV has up to the API's limit.
    static let shown = 500

    struct Row: Sendable { var at: String; var actor: String; var action: String; var scope: String; var detail: String }

    var layout: OfficeLayout
    var rows: [Row]
    var csv: String

    static func make(_ entries: [AuditEntry], offset: UTCOffset, session: OfficeSession) -> OfficeAuditPage {
        OfficeAuditPage(
            layout: OfficeLayout(title: "操作记录 Audit log", session: session),
            rows: entries.prefix(shown).map { e in
                Row(at: RFC3339.format(e.at, offset: offset), actor: e.actor, action: e.action,
                    scope: e.scope == "region" && e.target.isEmpty ? "全国 nation" : "\(e.scope) \(e.target)", detail: e.detail)
            },
            csv: "/api/v1/audit?format=csv&limit=100000")
    }
}

/// A station's office settings state, for its page and the region page's out-of-sync list.
struct SettingsSyncRow: Sendable {
    var name: String
    var href: String
    var desired: Int64
    var applied: String
    var inSync: Bool
    var error: String?
    var pinned: String?

    init(_ sync: SettingsSync, name: String) {
        self.name = name
        href = "/stations/" + DashboardQuery.encode(sync.station)
        desired = sync.desiredRevision
        applied = sync.appliedRevision.map(String.init) ?? "–"
        inSync = sync.inSync
        error = sync.settingsError
        pinned = sync.pinned.isEmpty ? nil : sync.pinned.joined(separator: ", ")
    }
}

extension OfficeTemplates {
    static let audit = #"""
    {{< office-layout}}
    {{$main}}
    <p><a href="{{csv}}">导出 CSV export</a></p>
    <table class="audit"><thead><tr><th>时间 Time</th><th>操作人 Who</th><th>操作 Action</th><th>范围 Scope</th><th>内容 What</th></tr></thead><tbody>
    {{#rows}}<tr><td>{{at}}</td><td>{{actor}}</td><td>{{action}}</td><td>{{scope}}</td><td>{{detail}}</td></tr>{{/rows}}
    {{^rows}}<tr><td colspan="5">没有记录 Nothing recorded yet</td></tr>{{/rows}}
    </tbody></table>
    {{/main}}
    {{/office-layout}}
    """#

    /// The region page's list of stations not applying what the office set.
    static let outOfSync = #"""
    <h2>设置未同步 Settings out of sync</h2>
    {{^outOfSync}}<p class="muted">所有站点已应用 Every station applies the office settings.</p>{{/outOfSync}}
    {{^empty(outOfSync)}}<table class="sync"><thead><tr><th>站点 Station</th><th>期望 Desired</th><th>已应用 Applied</th><th>原因 Reason</th></tr></thead><tbody>{{/empty(outOfSync)}}
    {{#outOfSync}}<tr><td><a href="{{href}}">{{name}}</a></td><td>{{desired}}</td><td>{{applied}}</td><td>{{#error}}拒绝 refused: {{error}}{{/error}}{{^error}}等待 waiting{{/error}}</td></tr>{{/outOfSync}}
    {{^empty(outOfSync)}}</tbody></table>{{/empty(outOfSync)}}
    """#

    /// The station page's line about its office settings.
    static let stationSync = #"""
    {{#settingsSync}}<p class="sync">设置 Settings: 期望 desired {{desired}} · 已应用 applied {{applied}} · {{#inSync}}已同步 in sync{{/inSync}}{{^inSync}}<span class="offline">未同步 out of sync</span>{{/inSync}}{{#error}} · 拒绝 refused: {{error}}{{/error}}{{#pinned}} · 本地固定 pinned: {{pinned}}{{/pinned}}</p>{{/settingsSync}}
    """#
}
