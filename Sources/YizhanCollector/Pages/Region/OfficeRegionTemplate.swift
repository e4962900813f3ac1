extension OfficeTemplates {
    /// The region page (OfficeRegionPage). The charts' and the map's SVG are the values
    /// put in unescaped: `TrustedMarkup` drawn by SVGChart and StationMap, which escape
    /// every text inside them.
    static let region = #"""
    {{< office-layout}}
    {{$main}}
    <nav class="crumbs" aria-label="地区 Regions"><ol>{{#crumbs}}<li>{{#href}}<a href="{{href}}">{{name}}</a>{{/href}}{{^href}}{{#current}}<span aria-current="page">{{name}}</span>{{/current}}{{^current}}{{name}}{{/current}}{{/href}}</li>{{/crumbs}}</ol></nav>
    {{#picker}}{{> office-period}}{{/picker}}
    <p class="big"><strong>{{regionName}}</strong> · {{periodText}} · {{stationCount}} 个站点 stations · 在线 online {{onlineCount}}</p>
    <h2>概况 Headline figures</h2>
    {{> office-headlines}}
    {{#alerts}}{{> office-alerts}}{{/alerts}}
    {{^empty(children)}}
    <h2>下级地区 {{childLevel}}</h2>
    <table class="children"><thead><tr><th>地区 Region</th><th>站点 Stations</th><th>在线 Online</th><th>在站 Inside</th><th>故障 Faults</th><th>到访 Visits</th><th>较上期 Change</th></tr></thead><tbody>
    {{/empty(children)}}
    {{#children}}
    <tr><td><a href="{{href}}">{{name}}</a></td><td>{{stations}}</td><td>{{online}}</td><td>{{occupancy}} / {{capacity}}</td><td>{{faults}}</td><td>{{visits}}</td><td class="chg-{{change.direction}}">{{change.text}}</td></tr>
    {{/children}}
    {{^empty(children)}}
    </tbody></table>
    {{/empty(children)}}
    {{^empty(stations)}}
    <h2>站点 Stations</h2>
    <table class="stations"><thead><tr><th>站点 Station</th><th>地区 Region</th><th>状态 State</th><th>在站 Inside</th><th>故障 Faults</th><th>到访 Visits</th><th>较上期 Change</th></tr></thead><tbody>
    {{/empty(stations)}}
    {{#stations}}
    <tr><td><a href="{{href}}">{{name}}</a></td><td>{{region}}</td>{{#online}}<td class="online">在线 online</td>{{/online}}{{^online}}<td class="offline">离线 offline</td>{{/online}}<td>{{occupancy}} / {{capacity}}</td><td>{{faults}}</td><td>{{visits}}</td><td class="chg-{{change.direction}}">{{change.text}}</td></tr>
    {{/stations}}
    {{^empty(stations)}}
    </tbody></table>
    {{/empty(stations)}}
    {{^children}}{{^stations}}<p class="empty">此地区没有站点 No stations in this region.</p>{{/stations}}{{/children}}
    <h2>图表 Charts</h2>
    <div class="charts">{{#charts}}<figure><figcaption>{{caption}}</figcaption>{{{svg}}}</figure>{{/charts}}</div>
    <h2>排名 Rankings</h2>
    <p class="measures">按 By: {{#measures}}{{#current}}<strong>{{label}}</strong>{{/current}}{{^current}}<a href="{{href}}">{{label}}</a>{{/current}} · {{/measures}}</p>
    {{#rankedAsOf}}<p class="as-of">排名按 {{.}} 的数据，每分钟更新 Ranked on the figures as of {{.}}, read again each minute at this scale.</p>{{/rankedAsOf}}
    <div class="rankings">
    <table class="ranking"><caption>前 10 Top 10 · {{measureLabel}}</caption><thead><tr><th>#</th><th>站点 Station</th><th>地区 Region</th><th>本期 Value</th><th>较上期 vs previous</th><th>较去年 vs a year earlier</th></tr></thead><tbody>
    {{#top}}<tr><td>{{rank}}</td><td><a href="{{href}}">{{name}}</a></td><td>{{region}}</td><td>{{value}}</td><td class="chg-{{vsPrevious.direction}}">{{vsPrevious.text}}</td><td class="chg-{{vsYear.direction}}">{{vsYear.text}}</td></tr>{{/top}}
    {{^top}}<tr><td colspan="6">没有站点 No stations</td></tr>{{/top}}
    </tbody></table>
    {{^empty(bottom)}}
    <table class="ranking"><caption>后 10 Bottom 10 · {{measureLabel}}</caption><thead><tr><th>#</th><th>站点 Station</th><th>地区 Region</th><th>本期 Value</th><th>较上期 vs previous</th><th>较去年 vs a year earlier</th></tr></thead><tbody>
    {{/empty(bottom)}}
    {{#bottom}}<tr><td>{{rank}}</td><td><a href="{{href}}">{{name}}</a></td><td>{{region}}</td><td>{{value}}</td><td class="chg-{{vsPrevious.direction}}">{{vsPrevious.text}}</td><td class="chg-{{vsYear.direction}}">{{vsYear.text}}</td></tr>{{/bottom}}
    {{^empty(bottom)}}
    </tbody></table>
    {{/empty(bottom)}}
    </div>
    <h2>地图 Map</h2>
    {{#map}}<figure class="map">{{{map}}}{{#mapByCells}}<figcaption>站点太多，按格显示：每个标记是地图上的一格，显示格中最紧急的状态，越大站点越多。 Too many stations to draw one by one: each mark is a square of the map in the most urgent status of its stations, larger the more it holds.</figcaption>{{/mapByCells}}</figure>{{/map}}{{^map}}<p class="empty">没有可画的坐标 No coordinates to draw.</p>{{/map}}
    <ul class="legend">{{#legend}}<li>{{{svg}}} {{label}}: {{count}}</li>{{/legend}}</ul>
    {{^empty(unplaced)}}<p>无坐标 Without coordinates: {{/empty(unplaced)}}{{#unplaced}}<a href="{{href}}">{{name}}</a> {{/unplaced}}{{#unplacedMore}}… +{{unplacedMore}}{{/unplacedMore}}{{^empty(unplaced)}}</p>{{/empty(unplaced)}}
    <h2>软件版本 Software versions</h2>
    <table class="versions"><thead><tr><th>版本 Version</th><th>站点 Stations</th><th>占比 Share</th><th>在线 Online</th><th>离线 Offline</th><th>有积压 With a backlog</th></tr></thead><tbody>
    {{#versions}}<tr><td>{{version}}</td><td>{{stations}}</td><td>{{share}}</td><td>{{online}}</td><td>{{offline}}</td><td>{{withBacklog}}</td></tr>{{/versions}}
    </tbody></table>
    {{> office-out-of-sync}}
    <h2>导出 Exports</h2>
    <ul class="exports">{{#exports}}<li><a href="{{href}}">{{label}}</a></li>{{/exports}}</ul>
    <p class="muted">每 60 秒刷新 Refreshes every 60 s.</p>
    {{/main}}
    {{/office-layout}}
    """#
}
