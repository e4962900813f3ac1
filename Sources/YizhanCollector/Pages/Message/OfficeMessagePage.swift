import YizhanWeb

/// A page that only says something: an error (404, 413, ...) or a refused form.
struct OfficeMessagePage: PageModel, Sendable {
    static let template = "office-message"

    var layout: OfficeLayout
    var message: String

    static func make(title: String, message: String, session: OfficeSession?) -> OfficeMessagePage {
        OfficeMessagePage(layout: OfficeLayout(title: title, session: session), message: message)
    }
}
