import Foundation
import YizhanCore

/// A change against a base period, as text first: an arrow and a percentage (↑ 12.5 %),
/// so it reads without colour; the class only tints it.
struct Change: Sendable, Hashable {
    var text: String
    /// `up`, `down`, `flat` or `none` (no base to compare with).
    var direction: String

    static let none = Change(text: "–", direction: "none")

    static func between(_ value: Double?, base: Double?) -> Change {
        guard let value, let base else { return .none }
        if base == 0 { return value == 0 ? Change(text: "→ 0 %", direction: "flat") : Change(text: "↑ 新 new", direction: "up") }
        let ratio = Rankings.change(value, from: base) ?? 0
        let percent = String(format: "%.1f", abs(ratio) * 100)
        if percent == "0.0" { return Change(text: "→ 0 %", direction: "flat") }
        return ratio > 0 ? Change(text: "↑ \(percent) %", direction: "up") : Change(text: "↓ \(percent) %", direction: "down")
    }

    static func between(_ value: Int, base: Int?) -> Change {
        between(Double(value), base: base.map(Double.init))
    }
}

/// Query strings for the dashboard's links: every value percent-encoded (ASCII
/// unreserved characters only), so a region's name cannot break out of its parameter.
enum DashboardQuery {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ value: String) -> String { value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? "" }

    /// `path?k=v&k=v`, leaving out empty values.
    static func link(_ path: String, _ items: [(String, String?)]) -> String {
        let q = items.compactMap { k, v in v.flatMap { $0.isEmpty ? nil : "\(k)=\(encode($0))" } }.joined(separator: "&")
        return q.isEmpty ? path : path + "?" + q
    }
}

/// Numbers as the pages show them.
enum Figures {
    static func hours(_ seconds: Int64) -> String { String(format: "%.1f h", Double(seconds) / 3600) }
    static func minutes(_ seconds: Int64?) -> String { seconds.map { "\($0 / 60) min" } ?? "–" }
    static func decimal(_ v: Double?) -> String { v.map { String(format: "%.2f", $0) } ?? "–" }
    /// 12,345 (grouped, as the office writes big numbers).
    static func count(_ v: Int) -> String {
        let digits = String(v.magnitude)
        var out = ""
        for (i, c) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (v < 0 ? "-" : "") + out
    }
}
