import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A bare TCP client for what HTTP libraries will not send: half a request, a body a byte
/// at a time, a connection from another loopback address (127.0.0.2), a connection held
/// open. Every read waits for the server with a deadline; nothing sleeps. Reads block, so
/// they run on threads of their own (the `async` forms), never on the cooperative pool the
/// in-process server needs.
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    /// - Parameter source: the local address to connect from (any 127.x.y.z works on Linux).
    public init(port: Int, source: String? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        if let source {
            var local = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: 0, sin_addr: in_addr(s_addr: inet_addr(source)), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
            let ok = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard ok == 0 else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        }
        var remote = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: in_port_t(UInt16(port).bigEndian),
                                 sin_addr: in_addr(s_addr: inet_addr("127.0.0.1")), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let ok = withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// A connection to a unix socket (the station's API).
    public init(unixSocket path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { close(fd); throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
        let ok = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        guard ok == 0 else { close(fd); throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit { close(fd) }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }
    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EPIPE) }
            sent += n
        }
    }

    public enum ReadResult: Equatable, Sendable { case data(String), closed, timedOut }

    public func readUntilClosed(within deadline: Duration) async -> (text: String, closed: Bool) {
        await Self.blocking { self.readUntilClosedNow(within: deadline) }
    }

    public func readResponse(within deadline: Duration) async -> String? {
        await Self.blocking { self.readResponseNow(within: deadline) }
    }

    public func read(within deadline: Duration) async -> ReadResult {
        await Self.blocking { self.readNow(within: deadline) }
    }

    static func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        // A thread of its own: Dispatch's global queues also run Swift's cooperative pool
        // on Linux, so a blocked read there could starve the server under test.
        await withCheckedContinuation { c in Thread { c.resume(returning: work()) }.start() }
    }

    /// Everything until the server closes the connection, or what came before `deadline`.
    private func readUntilClosedNow(within deadline: Duration) -> (text: String, closed: Bool) {
        var text = [UInt8]()
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            switch readNow(within: end - ContinuousClock.now) {
            case .data(let s): text += Array(s.utf8)
            case .closed: return (String(decoding: text, as: UTF8.self), true)
            case .timedOut: return (String(decoding: text, as: UTF8.self), false)
            }
        }
        return (String(decoding: text, as: UTF8.self), false)
    }

    /// One complete response (headers and a Content-Length body), or what came in time.
    private func readResponseNow(within deadline: Duration) -> String? {
        var text = ""
        let end = ContinuousClock.now + deadline
        while ContinuousClock.now < end {
            if let headerEnd = text.range(of: "\r\n\r\n") {
                let head = text[..<headerEnd.lowerBound].lowercased()
                let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if text[headerEnd.upperBound...].utf8.count >= length { return text }
            }
            guard case .data(let s) = readNow(within: end - ContinuousClock.now) else { return text.isEmpty ? nil : text }
            text += s
        }
        return nil
    }

    private func readNow(within deadline: Duration) -> ReadResult {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ms = Int32(max(1, deadline.components.seconds * 1000 + deadline.components.attoseconds / 1_000_000_000_000_000))
        guard poll(&p, 1, ms) > 0 else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &buffer, buffer.count, 0)
        if n <= 0 { return .closed }
        return .data(String(decoding: buffer[..<n], as: UTF8.self))
    }
}

/// The status code of a raw HTTP/1.1 response.
public func status(of response: String?) -> Int? {
    response.flatMap { $0.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) } }
}

/// A value handed out of a `@Sendable` test closure (a cookie from one server run to the next).
public final class Carried<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value
    public init(_ value: Value) { stored = value }
    public var value: Value {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
