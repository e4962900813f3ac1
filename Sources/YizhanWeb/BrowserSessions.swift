import Crypto
import Foundation
import Hummingbird
import HummingbirdAuth
import YizhanCore

/// Where browser sessions are kept: the server's own database (the collector's SQLite or
/// PostgreSQL, the station's SQLite), so a restart keeps people logged in and several
/// collectors behind a load balancer share them without sticky routing.
public protocol SessionRecords: Sendable {
    /// `key` is already a digest of the session id; `value` is opaque JSON.
    func putSession(key: String, value: [UInt8], expires: Timestamp) async throws
    func session(key: String) async throws -> (value: [UInt8], expires: Timestamp)?
    func removeSession(key: String) async throws
    /// Drops every session that expired before `now`.
    func purgeSessions(expiredBefore now: Timestamp) async throws
}

/// hummingbird-auth's storage contract over `SessionRecords`. Keys are stored as SHA-256
/// digests: a copy of the database does not give anyone a live session.
public struct DatabaseSessionDriver: PersistDriver {
    let records: any SessionRecords
    let clock: @Sendable () -> Timestamp

    public init(_ records: any SessionRecords, clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        self.records = records; self.clock = clock
    }

    static func digest(_ key: String) -> String { Hex.encode(SHA256.hash(data: Array(key.utf8))) }

    public func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await set(key: key, value: value, expires: expires)
    }

    public func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let until = clock() + (expires ?? .seconds(86_400))
        try await records.putSession(key: Self.digest(key), value: Array(try JSONEncoder().encode(value)), expires: until)
    }

    public func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    public func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        guard let (value, expires) = try await records.session(key: Self.digest(key)) else { return nil }
        let now = clock()
        guard expires > now else { return nil }
        guard let object = try? JSONDecoder().decode(type, from: Data(value)) else { throw PersistError.invalidConversion }
        return (object, expires - now)
    }

    public func remove(key: String) async throws { try await records.removeSession(key: Self.digest(key)) }
}

/// A logged-in browser: who, and the token every form of theirs carries back (CSRF).
public struct WebSession: Codable, Sendable, Hashable {
    public var name: String
    public var csrf: String
}

/// Browser logins for the pages of both servers: a random session id in an `HttpOnly`,
/// `SameSite=Strict`, `Secure` cookie (hummingbird-auth's `SessionStorage`), the session
/// in the database, ended after `idleTimeout` without a request.
public struct BrowserSessions: Sendable {
    public let storage: SessionStorage<WebSession>
    public let idleTimeout: Duration
    let records: any SessionRecords
    let clock: @Sendable () -> Timestamp

    public init(records: any SessionRecords, cookie: String, path: String, idleTimeout: Duration = .seconds(8 * 3600),
                clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        self.records = records
        self.clock = clock
        self.idleTimeout = idleTimeout
        storage = SessionStorage(DatabaseSessionDriver(records, clock: clock), configuration: .init(
            sessionCookieParameters: .init(name: cookie, path: path, secure: true, sameSite: .strict), keyPrefix: "yz."))
    }

    /// A new session for `name`; the cookie to set.
    public func create(name: String) async throws -> (cookie: Cookie, session: WebSession) {
        try? await records.purgeSessions(expiredBefore: clock())
        let session = WebSession(name: name, csrf: Hex.random(bytes: 32))
        return (try await storage.save(session: session, expiresIn: idleTimeout), session)
    }

    /// The request's session if it is still valid; each use pushes the idle timeout back
    /// (written at most once a minute).
    public func session(_ request: Request) async throws -> WebSession? {
        guard let (session, ttl) = try await storage.loadWithTTL(request: request) else { return nil }
        if let ttl, idleTimeout - ttl > .seconds(60) {
            try await storage.update(session: session, expiresIn: idleTimeout, request: request)
        }
        return session
    }

    /// Ends the request's session; the cookie that clears it in the browser.
    public func end(_ request: Request) async throws -> Cookie? {
        guard storage.getId(request: request) != nil else { return nil }
        return try await storage.delete(request: request)
    }
}

extension Hex {
    /// `bytes` random bytes from the system's generator, as hex (session ids, CSRF tokens,
    /// API tokens).
    public static func random(bytes: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return encode((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &rng) })
    }
}
