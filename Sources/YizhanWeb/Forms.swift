import Hummingbird

/// `application/x-www-form-urlencoded` bodies through Hummingbird's decoder, read with the
/// body limits of `RequestBody`.
public enum Forms {
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int = 16 * 1024,
                                            timeout: Duration = .seconds(30)) async throws -> T {
        let buffer = try await BodyReader.collect(request, limit: limit, timeout: timeout)
        return try decode(type, from: String(buffer: buffer))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        do {
            return try URLEncodedFormDecoder().decode(type, from: text)
        } catch {
            throw APIErrorResponse(.badRequest, "bad_form", "the form could not be read")
        }
    }
}

/// The login form of both servers' pages.
public struct LoginForm: Decodable, Sendable {
    public var name: String?
    public var password: String?
}
