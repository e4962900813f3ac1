extension StationTemplates {
    /// The manager's login form (ManagerLoginPage).
    static let managerLogin = #"""
    {{< manager-layout}}
    {{$main}}
    {{#message}}<p class="error" role="alert">{{message}}</p>{{/message}}
    <form method="post" action="/manage/login" class="login">
      <label for="name">用户名 Name</label><input id="name" name="name" autocomplete="username" required>
      <label for="password">密码 Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">登录 Log in</button>
    </form>
    <p class="muted">密码由 <code>yizhanctl manager add --name NAME</code> 设置。 Passwords are set with yizhanctl on the station box.</p>
    {{/main}}
    {{/manager-layout}}
    """#
}
