import Foundation
import YizhanCore
import YizhanWeb

/// Logins for the manager pages: sessions in the station's SQLite (a daemon restart
/// keeps managers logged in) and the shared login guard.
final class ManagerSessions: Sendable {
    static let cookieName = "yizhan_session"
    let sessions: BrowserSessions
    /// Password checks for the login page.
    let logins = LoginGuard()

    init(store: EventStore) {
        sessions = BrowserSessions(records: store, cookie: Self.cookieName, path: "/manage")
    }
}

/// Query strings of the manager pages (`since=...&kind=...`).
enum FormData {
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                String(s).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s)
            }
            out[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return out
    }
}
