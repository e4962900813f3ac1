extension OfficeTemplates {
    /// The office login form (OfficeLoginPage).
    static let login = #"""
    {{< office-layout}}
    {{$main}}
    {{#message}}<p class="error" role="alert">{{message}}</p>{{/message}}
    <form method="post" action="/login" class="login">
    <label for="name">用户名 Name</label><input id="name" name="name" autocomplete="username" required>
    <label for="password">密码 Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    <button type="submit">登录 Log in</button></form>
    {{/main}}
    {{/office-layout}}
    """#
}
