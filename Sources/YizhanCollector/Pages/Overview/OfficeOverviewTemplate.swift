extension OfficeTemplates {
    /// The station table and the district roll-up (OfficeOverviewPage).
    static let overview = #"""
    {{< office-layout}}
    {{$main}}
    <p>{{stationCount}} 个站点 stations · 在线 online {{onlineCount}} · <a href="/api/v1/usage?format=csv">导出用量 CSV usage export</a></p>
    <h2>区县 Districts</h2>
    <table><thead><tr><th>区县 District</th><th>站点 Stations</th><th>在线 Online</th><th>在站 Inside</th><th>故障 Faults</th></tr></thead><tbody>
    {{#districts}}
    <tr><td>{{name}}</td><td>{{stations}}</td><td>{{online}}</td><td>{{occupancy}} / {{capacity}}</td><td>{{faults}}</td></tr>
    {{/districts}}
    </tbody></table>
    <h2>站点 Stations</h2>
    <table><thead><tr><th>站点 Station</th><th>区县 District</th><th>在站 Inside</th><th>状态 State</th><th>故障 Faults</th><th>最后心跳 Last seen</th></tr></thead>
    <tbody>
    {{#stations}}
    <tr><td><a href="/stations/{{id}}">{{name}}</a><br><small>{{id}}</small></td><td>{{district}}</td>
    <td>{{occupancy}} / {{capacity}}</td>{{#online}}<td class="online">在线 online</td>{{/online}}{{^online}}<td class="offline">离线 offline</td>{{/online}}
    <td>{{faults}}</td><td>{{lastSeen}}</td></tr>
    {{/stations}}
    {{^stations}}
    <tr><td colspan="6">没有站点 No stations</td></tr>
    {{/stations}}
    </tbody></table>
    <p class="muted">每 30 秒刷新 Refreshes every 30 s.</p>
    {{/main}}
    {{/office-layout}}
    """#
}
