extension StationTemplates {
    /// The amenity history (AmenityHistoryPage).
    static let amenityHistory = #"""
    {{< manager-layout}}
    {{$main}}
    <table><thead><tr><th>时间 Time</th><th>设施 Amenity</th><th>状态 Status</th><th>由 By</th><th>备注 Note</th></tr></thead>
    <tbody>
    {{#rows}}
    <tr><td>{{time}}</td><td>{{amenity}}</td><td>{{status}}</td><td>{{by}}</td><td>{{note}}</td></tr>
    {{/rows}}
    {{^rows}}
    <tr><td colspan="5">没有记录 Nothing yet</td></tr>
    {{/rows}}
    </tbody></table>
    {{/main}}
    {{/manager-layout}}
    """#
}
