extension StationTemplates {
    /// The manager pages' layout: a page's template fills `{{$main}}` (`{{< manager-layout}}`)
    /// and has a `layout: ManagerLayout`.
    static let managerLayout = #"""
    <!DOCTYPE html>
    <html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    {{#layout}}
    <title>{{title}} · {{stationName}}</title>
    {{/layout}}
    <style>
    {{> manager-stylesheet}}
    </style></head>
    <body>{{#layout}}<header><h1>{{stationName}} · {{title}}</h1></header>{{#nav}}
    <nav><a href="/manage">概览 Overview</a><a href="/manage/log">访问记录 Visit log</a><a href="/manage/amenities">设施记录 Amenities</a>
    <form method="post" action="/manage/logout" class="inline"><input type="hidden" name="csrf" value="{{csrf}}">
    <button type="submit">退出 {{name}} · Log out</button></form></nav>
    {{/nav}}{{/layout}}<main>
    {{$main}}{{/main}}
    </main></body></html>
    """#
}
