extension StationTemplates {
    /// A message on the manager layout (ManagerMessagePage).
    static let managerMessage = #"""
    {{< manager-layout}}
    {{$main}}
    {{#loginLink}}<p>请先<a href="/manage/login">登录</a>。 Please <a href="/manage/login">log in</a>.</p>{{/loginLink}}
    {{#message}}<p>{{message}}</p>{{/message}}
    {{/main}}
    {{/manager-layout}}
    """#
}
