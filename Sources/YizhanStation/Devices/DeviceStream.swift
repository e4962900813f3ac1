import CShims
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An open device file (tty, evdev node, FIFO) whose incoming bytes arrive as an async
/// sequence (or straight at a `deliver` callback).
///
/// Each open device has one reader thread blocked in `poll(2)` on the device and on an
/// eventfd: it wakes only when bytes arrive or `close()` is called, never to poll. (An
/// earlier version used dispatch read sources; libdispatch's epoll backend crashed when
/// two unplugged devices ended at the same moment.) The thread owns the fd and closes it
/// when it leaves; writes take the same lock, so a write can never reach an fd number
/// the kernel has reused. The sequence ends when the device hangs up, is unplugged
/// (EIO, ENODEV) or is closed; the last chunk says why.
public final class DeviceStream: Sendable {
    public enum Chunk: Sendable {
        case bytes([UInt8])
        case ended(String)
    }

    public let path: String
    public let fd: Int32
    public let chunks: AsyncStream<Chunk>
    private let state: FDState

    /// Takes ownership of `fd` (which must be O_NONBLOCK). With `deliver`, chunks go straight
    /// to it from the reader thread (one hop less to the reader's driver) and `chunks` stays
    /// empty; without it, they arrive on `chunks`.
    public init(path: String, fd: Int32, deliver: (@Sendable (Chunk) -> Void)? = nil) {
        self.path = path
        self.fd = fd
        let (stream, continuation) = AsyncStream<Chunk>.makeStream(bufferingPolicy: .unbounded)
        self.chunks = stream
        let state = FDState(wake: yz_eventfd())
        self.state = state
        let yield: @Sendable (Chunk) -> Void = deliver ?? { continuation.yield($0) }
        let thread = Thread {
            Self.readLoop(fd: fd, state: state, yield: yield)
            continuation.finish()
        }
        thread.name = "yizhan-device"
        thread.start()
    }

    private static func readLoop(fd: Int32, state: FDState, yield: (Chunk) -> Void) {
        defer { state.finish(fd: fd) }
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: state.wake, events: Int16(POLLIN), revents: 0)]
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                yield(.ended(String(cString: strerror(errno))))
                return
            }
            if fds[1].revents != 0 { return }  // close() was called
            guard fds[0].revents != 0 else { continue }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                yield(.bytes(Array(buffer[0..<n])))
            } else if n == 0 {
                yield(.ended("end of file (device closed or hung up)"))
                return
            } else if errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
                yield(.ended(String(cString: strerror(errno))))
                return
            }
        }
    }

    /// Writes all of `bytes`, waiting up to `timeout` for a device whose buffer is full.
    public func write(_ bytes: [UInt8], timeout: Duration = .seconds(1)) throws(DeviceError) {
        let deadline = ContinuousClock.now + timeout
        try state.lock.withLock { (s: inout FDState.Flags) throws(DeviceError) in
            guard !s.closing && !s.finished else {
                throw DeviceError(path: path, operation: "write", errno: EBADF, message: "device closed")
            }
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

    /// Stops reading and closes the device (the reader thread closes the fd as it leaves).
    /// Writes fail from now on. Idempotent.
    public func close() {
        state.lock.withLock { s in
            guard !s.closing else { return }
            s.closing = true
            if !s.finished { _ = yz_eventfd_signal(state.wake) }
        }
    }

    deinit { close() }
}

/// Shared between a stream and its reader thread.
final class FDState: Sendable {
    struct Flags {
        /// close() was called: writes fail, the reader thread is leaving.
        var closing = false
        /// The reader thread left and closed the fds.
        var finished = false
    }

    let lock = Mutex(Flags())
    let wake: Int32

    init(wake: Int32) { self.wake = wake }

    /// Called by the reader thread as it leaves: closes the device and the eventfd under
    /// the lock, so no write(2) and no eventfd_write is in flight on numbers being freed.
    func finish(fd: Int32) {
        lock.withLock { s in
            s.finished = true
            s.closing = true
            Glibc.close(fd)
            Glibc.close(wake)
        }
    }
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
