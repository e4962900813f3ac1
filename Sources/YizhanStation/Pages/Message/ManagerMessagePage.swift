import YizhanWeb

/// A page that only says something: an error (401, 403, 413, ...), a refused or
/// unsaved form. `loginLink` points to the login page.
struct ManagerMessagePage: PageModel, Sendable {
    static let template = "manager-message"

    var layout: ManagerLayout
    var message: String?
    var loginLink = false

    static func make(title: String, message: String, stationName: String, session: WebSession?) -> ManagerMessagePage {
        ManagerMessagePage(layout: ManagerLayout(title: title, stationName: stationName, session: session), message: message)
    }

    /// A form posted without a session.
    static func loginRequired(stationName: String) -> ManagerMessagePage {
        ManagerMessagePage(layout: ManagerLayout(title: "需要登录 Login required", stationName: stationName, session: nil), message: nil, loginLink: true)
    }
}
