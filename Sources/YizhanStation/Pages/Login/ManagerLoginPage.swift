import YizhanWeb

/// `/manage/login`: the form, and why the last attempt failed (wrong password, throttled...).
struct ManagerLoginPage: PageModel, Sendable {
    static let template = "manager-login"

    var layout: ManagerLayout
    var message: String?

    static func make(stationName: String, message: String?) -> ManagerLoginPage {
        ManagerLoginPage(layout: ManagerLayout(title: "站长登录 Manager login", stationName: stationName, session: nil), message: message)
    }
}
