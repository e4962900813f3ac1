extension StationTemplates {
    /// The manager's overview (ManagerOverviewPage).
    static let managerOverview = #"""
    {{< manager-layout}}
    {{$main}}
    <section><h2>{{name}}</h2>
    <p class="big">在站 Inside: <strong>{{occupancy}} / {{capacity}}</strong>{{#full}} · <span class="bad">已满员 Full</span>{{/full}} · {{#open}}开放中 Open{{/open}}{{^open}}未开放 Closed{{/open}} · {{hours}}</p></section>
    <section><h2>设施 Amenities</h2>
    <table><thead><tr><th>设施 Amenity</th><th>状态 Status</th><th>自 Since</th><th>由 By</th><th>备注 Note</th><th>待处理报修 Open reports</th><th>更改 Change</th></tr></thead><tbody>
    {{#amenities}}
    <tr><td>{{name}}</td><td class="amenity-{{status}}">{{statusLabel}}</td>
    <td>{{since}}</td><td>{{by}}</td><td>{{note}}</td><td>{{#hasOpenReports}}<strong>{{openReports}}</strong>{{#lastReportNote}}：{{lastReportNote}}{{/lastReportNote}}{{/hasOpenReports}}{{^hasOpenReports}}0{{/hasOpenReports}}</td>
    <td><form method="post" action="/manage/amenity" class="inline">
    <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="amenity" value="{{id}}">
    <label class="sr" for="status-{{id}}">状态 Status</label><select id="status-{{id}}" name="status">{{#options}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/options}}</select>
    <label class="sr" for="note-{{id}}">备注 Note</label><input id="note-{{id}}" name="note" maxlength="200" placeholder="备注 note">
    <button type="submit">保存 Save</button></form></td></tr>
    {{/amenities}}
    </tbody></table>
    <p><a href="/manage/amenities">设施记录 Amenity history</a></p></section>
    <section><h2>读卡器 Readers</h2>
    <table><thead><tr><th>名称 Name</th><th>协议 Protocol</th><th>设备 Device</th><th>状态 State</th><th>自 Since</th><th>读卡 Reads</th><th>失败 Bad</th></tr></thead><tbody>
    {{#readers}}
    <tr><td>{{name}}</td><td>{{protocolName}}</td><td>{{device}}</td><td class="state-{{state}}">{{state}}</td><td>{{since}}</td><td>{{reads}}</td><td>{{badReads}}</td></tr>
    {{/readers}}
    </tbody></table></section>
    <section><h2>上报 Uplink</h2>
    {{#uplink}}
    <p>状态 State: <strong>{{state}}</strong> · 待上报 Backlog: {{backlog}} · 已确认 Last ack: {{lastAck}} · 心跳 Heartbeat: {{lastHeartbeat}}{{#detail}} · {{detail}}{{/detail}}</p></section>
    {{/uplink}}
    <section><h2>日结 Close the day</h2>
    <form method="post" action="/manage/close-day"><input type="hidden" name="csrf" value="{{csrf}}">
    <p>为仍在站内的 {{occupancy}} 人签退并结束今天。 Check out the {{occupancy}} still inside and close the day.</p>
    <button type="submit" class="danger">日结 Close the day</button></form></section>
    {{/main}}
    {{/manager-layout}}
    """#
}
