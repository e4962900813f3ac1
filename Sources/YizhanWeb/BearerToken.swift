import Foundation
import Hummingbird

/// `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 §11.1).
public enum BearerToken {
    public static func from(_ request: Request) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        return parse(header)
    }

    public static func parse(_ header: String) -> String? {
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.utf8.count <= 512 else { return nil }
        return token
    }
}
