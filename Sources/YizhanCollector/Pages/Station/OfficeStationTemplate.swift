extension OfficeTemplates {
    /// A station's page (OfficeStationPage). The charts' SVG is the one value put in
    /// unescaped: `TrustedMarkup` drawn by SVGChart, which escapes every text inside it.
    static let station = #"""
    {{< office-layout}}
    {{$main}}
    <p><a href="/">← 全部站点 All stations</a></p>
    <p class="big">{{district}} · 在站 Inside <strong>{{occupancy}} / {{capacity}}</strong> · {{#online}}在线 online{{/online}}{{^online}}<span class="offline">离线 offline</span>{{/online}} · 开放 {{#open}}是 open{{/open}}{{^open}}否 closed{{/open}} · 故障 Faults: {{faults}}</p>
    <p>30 天 30 days: 到访 visits {{visits}} · 服务人数 unique workers {{uniqueWorkers}} · 平均停留 mean stay {{meanStay}} · 报修 fault reports {{faultReports}} · 评分 ratings {{ratings}}{{#meanRating}} ({{meanRating}}){{/meanRating}}
    · <a href="/api/v1/usage?station={{id}}&amp;bucket=day&amp;format=csv">CSV</a></p>
    <div class="charts">{{#charts}}<figure><figcaption>{{caption}}</figcaption>{{{svg}}}</figure>{{/charts}}</div>
    {{/main}}
    {{/office-layout}}
    """#
}
