import Foundation
import Synchronization
import YizhanCore
import YizhanWeb

/// Logged-in managers: a random session id in an HttpOnly, SameSite=Strict cookie, and a
/// per-session CSRF token every form carries back. Sessions live in memory: a daemon
/// restart logs everyone out, which is fine for a station's back office.
final class ManagerSessions: Sendable {
    struct Session: Sendable {
        var name: String
        var csrf: String
        var lastUsed: ContinuousClock.Instant
    }

    static let cookieName = "yizhan_session"
    /// Idle time after which a session ends.
    static let idleTimeout: Duration = .seconds(8 * 3600)

    private let sessions = Mutex<[String: Session]>([:])
    /// Password checks for the login page.
    let logins = LoginGuard()

    static func randomToken() -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for _ in 0..<32 { let b = UInt8.random(in: 0...255, using: &rng); out += [digits[Int(b >> 4)], digits[Int(b & 15)]] }
        return String(decoding: out, as: UTF8.self)
    }

    func create(name: String) -> (id: String, session: Session) {
        let id = Self.randomToken()
        let session = Session(name: name, csrf: Self.randomToken(), lastUsed: .now)
        sessions.withLock { s in
            let now = ContinuousClock.now
            s = s.filter { now - $0.value.lastUsed < Self.idleTimeout }
            s[id] = session
        }
        return (id, session)
    }

    func session(_ id: String?) -> Session? {
        guard let id else { return nil }
        return sessions.withLock { s in
            guard var found = s[id] else { return nil }
            guard ContinuousClock.now - found.lastUsed < Self.idleTimeout else { s[id] = nil; return nil }
            found.lastUsed = .now
            s[id] = found
            return found
        }
    }

    func end(_ id: String?) { if let id { _ = sessions.withLock { $0.removeValue(forKey: id) } } }

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
