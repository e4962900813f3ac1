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
    /// True once the fd is closed. Writers hold this lock for their write(2), and the close
    /// happens under it, so a write can never reach an fd number the kernel has reused.
    private let state: FDState

    /// Takes ownership of `fd` (which must be O_NONBLOCK). With `deliver`, chunks go straight
    /// to it from the read handler (one thread hop less to the reader's driver) and `chunks`
    /// stays empty; without it, they arrive on `chunks`.
    public init(path: String, fd: Int32, deliver: (@Sendable (Chunk) -> Void)? = nil) {
        self.path = path
        self.fd = fd
        let (stream, streamContinuation) = AsyncStream<Chunk>.makeStream(bufferingPolicy: .unbounded)
        self.chunks = stream
        let yield: @Sendable (Chunk) -> Void = deliver ?? { streamContinuation.yield($0) }
        let continuation = ChunkSink(yield: yield, finish: { streamContinuation.finish() })
        let state = FDState()
        self.state = state
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
            // Runs once. Under the lock, so no write(2) is in flight on the number we free.
            state.closed.withLock { isClosed in
                isClosed = true
                Glibc.close(fd)
            }
        }
        streamContinuation.onTermination = { _ in source.cancel() }
        source.activate()
    }

    /// Writes all of `bytes`, waiting up to `timeout` for a device whose buffer is full.
    public func write(_ bytes: [UInt8], timeout: Duration = .seconds(1)) throws(DeviceError) {
        let deadline = ContinuousClock.now + timeout
        try state.closed.withLock { (isClosed: inout Bool) throws(DeviceError) in
            guard !isClosed else { throw DeviceError(path: path, operation: "write", errno: EBADF, message: "device closed") }
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n >= 0 { offset += n; continue }
                let e = errno
                if e == EINTR { continue }
                guard e == EAGAIN, ContinuousClock.now < deadline else {
                    throw DeviceError(path: path, operation: "write", errno: e, message: e == EAGAIN ? "timed out (device not draining)" : nil)
                }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                _ = poll(&p, 1, 50)
            }
        }
    }

    public func close() {
        state.closed.withLock { $0 = true }  // writes fail from now on
        source.cancel()  // idempotent; the cancel handler closes the fd (Dispatch requires it be there)
    }

    deinit { close() }
}

/// Where the read handler puts chunks: the stream, or a driver's input.
struct ChunkSink: Sendable {
    let yield: @Sendable (DeviceStream.Chunk) -> Void
    let finish: @Sendable () -> Void
}

/// Shared between the stream and its dispatch handlers.
final class FDState: Sendable {
    let closed = Mutex(false)
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
