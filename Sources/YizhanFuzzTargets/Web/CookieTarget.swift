import Foundation
import Hummingbird

/// `Cookie` request headers as both servers read them (`request.cookies[name]`, through
/// Hummingbird's `Cookies`). The input is the header text; each line is one `Cookie` header
/// (a request may carry several).
///
/// Checks: a cookie found for a name has that name; the session cookies the servers look
/// up (`yizhan_session`, `yizhan_office`) and the first name in the header are looked up,
/// and every attribute accessor of what is found (dates included) runs without trapping.
enum CookieTarget {
    static let sessionCookies = ["yizhan_session", "yizhan_office"]

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let headers = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let cookies = Cookies(from: headers)
        var names = sessionCookies
        // (Not the empty name: Hummingbird's `cookies[""]` can return another cookie, since
        // `Cookie(from:)` skips a leading "=" that the lookup does not; no server asks for "".)
        if let first = headers.first, let eq = first.firstIndex(of: "="), case let name = first[..<eq].drop(while: { $0.isWhitespace }), !name.isEmpty {
            names.append(String(name))
        }
        for name in names {
            guard let cookie = cookies[name] else { continue }
            try require(cookie.name == name, .cookie, "asked for \(name.debugDescription), got \(cookie.name.debugDescription)")
            _ = (cookie.value, cookie.expires, cookie.maxAge, cookie.domain, cookie.path, cookie.secure, cookie.httpOnly, cookie.sameSite)
            _ = cookie.description
        }
    }
}
