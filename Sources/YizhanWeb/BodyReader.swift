import Foundation
import Hummingbird
import NIOCore

/// Reading a request's body: never more than a limit (413, before a byte is read when
/// `Content-Length` already says so) and never slower than a deadline (408): a client that
/// trickles its body holds a connection and a task, so it gets a fixed time to finish.
public enum BodyReader {
    public static func collect(_ request: Request, limit: Int, timeout: Duration) async throws -> ByteBuffer {
        if let declared = request.headers[.contentLength], let length = Int(declared), length > limit {
            throw tooLarge(limit)
        }
        let body = request.body
        return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: limit)
                } catch is NIOTooManyBytesError {
                    throw tooLarge(limit)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw APIErrorResponse(.requestTimeout, "body_timeout", "the request body did not arrive within \(timeout)",
                                       headers: [.connection: "close"])
            }
            return buffer
        }
    }

    static func tooLarge(_ limit: Int) -> APIErrorResponse {
        APIErrorResponse(.contentTooLarge, "too_large", "the body is over \(limit) bytes", headers: [.connection: "close"])
    }

    /// A JSON body: `Content-Type` must say JSON (415 otherwise).
    public static func requireJSON(_ request: Request) throws {
        let type = (request.headers[.contentType] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard type == "application/json" else {
            throw APIErrorResponse(.unsupportedMediaType, "json_required", "send Content-Type: application/json")
        }
    }
}
