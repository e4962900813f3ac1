extension OfficeTemplates {
    /// A station's page (OfficeStationPage). The charts' SVG is the one value put in
    /// unescaped: `TrustedMarkup` drawn by SVGChart, which escapes every text inside it.
    static let station = #"""
    {{< office-layout}}
    {{$main}}
    <nav class="crumbs" aria-label="地区 Regions"><ol>{{#crumbs}}<li>{{#href}}<a href="{{href}}">{{name}}</a>{{/href}}{{^href}}{{#current}}<span aria-current="page">{{name}}</span>{{/current}}{{^current}}{{name}}{{/current}}{{/href}}</li>{{/crumbs}}</ol></nav>
    {{#picker}}{{> office-period}}{{/picker}}
    <p class="big">{{#district}}{{district}} · {{/district}}在站 Inside <strong>{{occupancy}} / {{capacity}}</strong> · {{#online}}在线 online{{/online}}{{^online}}<span class="offline">离线 offline</span>{{/online}} · 开放 {{#open}}是 open{{/open}}{{^open}}否 closed{{/open}} · 故障 Faults: {{faults}}</p>
    {{#address}}<p>地址 Address: {{address}}</p>{{/address}}
    {{> office-station-sync}}
    <h2>{{periodText}}</h2>
    {{> office-headlines}}
    {{#alerts}}{{> office-alerts}}{{/alerts}}
    <p><a href="{{csv}}">导出用量 CSV usage export</a></p>
    <div class="charts">{{#charts}}<figure><figcaption>{{caption}}</figcaption>{{{svg}}}</figure>{{/charts}}</div>
    {{/main}}
    {{/office-layout}}
    """#
}
