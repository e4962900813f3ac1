extension OfficeTemplates {
    /// The dashboard's layout: a page's template fills `{{$main}}` (`{{< office-layout}}`)
    /// and has a `layout: OfficeLayout`.
    static let layout = #"""
    <!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
    {{#layout}}
    {{#refreshSeconds}}<meta http-equiv="refresh" content="{{refreshSeconds}}">{{/refreshSeconds}}
    <title>{{title}} · 驿站 Yizhan</title>
    {{/layout}}
    <style>
    {{> office-stylesheet}}
    </style></head><body>{{#layout}}<header><h1>驿站 · {{title}}</h1></header>{{#nav}}
    <nav><a href="/">总览 Overview</a><a href="/audit">操作记录 Audit log</a><span>{{name}} ({{role}})</span>
    <form method="post" action="/logout"><input type="hidden" name="csrf" value="{{csrf}}"><button type="submit">退出 Log out</button></form></nav>
    {{/nav}}{{/layout}}<main>
    {{$main}}{{/main}}
    </main></body></html>
    """#
}
