@preconcurrency import Dispatch
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An open device file (tty, evdev node, FIFO) whose incoming bytes arrive as an async
/// sequence. A dispatch read source (epoll underneath) wakes us only when bytes are there:
/// no busy polling. The sequence ends when the device hangs up, is unplugged (EIO, ENODEV)
/// or is closed; `endReason` says which.
// Dispatch sources are thread-safe; Dispatch has not annotated them Sendable.
public final class DeviceStream: @unchecked Sendable {
    public enum Chunk: Sendable {
        case bytes([UInt8])
        case ended(String)
    }

    public let path: String
    public let fd: Int32
    public let chunks: AsyncStream<Chunk>
    private let source: any DispatchSourceRead
    private let closed = Mutex(false)

    /// Takes ownership of `fd` (which must be O_NONBLOCK).
    public init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
        let (stream, continuation) = AsyncStream<Chunk>.makeStream(bufferingPolicy: .unbounded)
        self.chunks = stream
        let queue = DispatchQueue(label: "yizhan.device.\(path)")
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        self.source = source
        source.setEventHandler {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    continuation.yield(.bytes(Array(buffer[0..<n])))
                    if n < buffer.count { return }
                    continue
                }
                if n == 0 {
                    continuation.yield(.ended("end of file (device closed or hung up)"))
                } else {
                    let e = errno
                    if e == EAGAIN || e == EWOULDBLOCK || e == EINTR { return }
                    continuation.yield(.ended(String(cString: strerror(e))))
                }
                continuation.finish()
                source.cancel()
                return
            }
        }
        source.setCancelHandler {
            continuation.finish()
            Glibc.close(fd)
        }
        continuation.onTermination = { _ in source.cancel() }
        source.activate()
    }

    /// Writes all of `bytes`, waiting for the device while its buffer is full.
    public func write(_ bytes: [UInt8]) throws(DeviceError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n >= 0 { offset += n; continue }
            let e = errno
            if e == EINTR { continue }
            if e == EAGAIN {
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 200)
                continue
            }
            throw DeviceError(path: path, operation: "write", errno: e)
        }
    }

    public func close() {
        let wasClosed = closed.withLock { c in defer { c = true }; return c }
        if !wasClosed { source.cancel() }
    }

    deinit { close() }
}

public struct DeviceError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var operation: String
    public var errno: Int32
    public var message: String?

    public init(path: String, operation: String, errno: Int32, message: String? = nil) {
        self.path = path; self.operation = operation; self.errno = errno; self.message = message
    }

    public var description: String {
        "\(path): \(operation) failed: \(message ?? String(cString: strerror(errno)))"
    }
}
