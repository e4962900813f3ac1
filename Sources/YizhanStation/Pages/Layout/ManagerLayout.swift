import YizhanWeb

/// What the manager pages' layout puts around every page: the title, the station's name,
/// and for a logged-in manager the navigation with the logout form (and its CSRF token).
struct ManagerLayout: Sendable {
    struct Nav: Sendable {
        var name: String
        var csrf: String
    }

    var title: String
    var stationName: String
    var nav: Nav?

    init(title: String, stationName: String, session: WebSession?) {
        self.title = title
        self.stationName = stationName
        nav = session.map { Nav(name: $0.name, csrf: $0.csrf) }
    }
}
