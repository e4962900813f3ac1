import YizhanWeb

/// `/login`: the form, and why the last attempt failed (wrong password, throttled...).
struct OfficeLoginPage: PageModel, Sendable {
    static let template = "office-login"

    var layout: OfficeLayout
    var message: String?

    static func make(message: String?) -> OfficeLoginPage {
        OfficeLoginPage(layout: OfficeLayout(title: "登录 Log in", session: nil), message: message)
    }
}
