/// What the dashboard's layout puts around every page: the title, a refresh for live
/// pages, and for a logged-in user the navigation with the logout form (and its CSRF token).
struct OfficeLayout: Sendable {
    struct Nav: Sendable {
        var name: String
        var role: String
        var csrf: String
    }

    var title: String
    var refreshSeconds: Int?
    var nav: Nav?

    init(title: String, session: OfficeSession?, refreshSeconds: Int? = nil) {
        self.title = title
        self.refreshSeconds = refreshSeconds
        nav = session.map { Nav(name: $0.user.name, role: $0.user.role.rawValue, csrf: $0.csrf) }
    }
}
