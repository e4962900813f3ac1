extension StationTemplates {
    /// The visit log (VisitLogPage).
    static let visitLog = #"""
    {{< manager-layout}}
    {{$main}}
    <form method="get" action="/manage/log" class="filters">
    <label for="since">从 From</label><input id="since" name="since" type="date" value="{{filterSince}}">
    <label for="until">到 To</label><input id="until" name="until" type="date" value="{{filterUntil}}">
    <label for="kind">类型 Kind</label><select id="kind" name="kind">{{#kinds}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/kinds}}</select>
    <label for="reader">读卡器 Reader</label><input id="reader" name="reader" value="{{filterReader}}" size="8">
    <button type="submit">筛选 Filter</button> <a href="{{csvHref}}">导出 CSV</a></form>
    <table><thead><tr><th>#</th><th>时间 Time</th><th>类型 Kind</th><th>卡 Card</th><th>读卡器 Reader</th><th>在站 Inside</th><th>停留 Stay</th><th>详情 Detail</th></tr></thead>
    <tbody>
    {{#rows}}
    <tr><td>{{seq}}</td><td>{{time}}</td><td>{{kind}}</td><td>{{card}}</td><td>{{reader}}</td><td>{{occupancy}}</td><td>{{stay}}</td><td>{{detail}}</td></tr>
    {{/rows}}
    {{^rows}}
    <tr><td colspan="8">没有记录 No events</td></tr>
    {{/rows}}
    </tbody></table>
    <p class="pager">{{#nextHref}}<a href="{{nextHref}}" rel="next">更早 Older →</a>{{/nextHref}}</p>
    {{/main}}
    {{/manager-layout}}
    """#
}
