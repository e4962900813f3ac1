import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A pseudo-terminal pair standing in for a USB-serial reader. The daemon opens the slave
/// side (through `link`, a stable symlink) exactly as it opens /dev/ttyUSB0, with real
/// termios; the simulator speaks the protocol on the master side.
public final class PseudoTerminal: @unchecked Sendable {
    public let master: Int32
    /// Kept open so the master never sees a hang-up while the daemon reconnects.
    private let slave: Int32
    public let slavePath: String
    public let link: String?
    private let lock = NSLock()
    private var closed = false

    public init(link: String?) throws {
        var m: Int32 = -1, s: Int32 = -1
        var name = [CChar](repeating: 0, count: 128)
        guard yz_openpty(&m, &s, &name, name.count) == 0 else { throw SimulatorError.system("openpty", errno) }
        _ = fcntl(m, F_SETFL, fcntl(m, F_GETFL) | O_NONBLOCK)
        let path = String(cString: name)
        // The link is made before any stored property is set: a throw after that would run
        // deinit, which closes the fds a second time (numbers another pty may own by then).
        if let link {
            do { try removeStaleLink(link) } catch { Glibc.close(m); Glibc.close(s); throw error }
            guard symlink(path, link) == 0 else {
                let e = errno
                Glibc.close(m); Glibc.close(s)
                throw SimulatorError.system("symlink \(link) -> \(path)", e)
            }
        }
        master = m
        slave = s
        slavePath = path
        self.link = link
    }

    /// The path to put in the station's `device =`.
    public var devicePath: String { link ?? slavePath }

    public func write(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) { usleep(1000); continue }
            return  // closed
        }
    }

    /// Reads what is available now (non-blocking).
    public func readAvailable() -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
        return n > 0 ? Array(buffer[0..<n]) : []
    }

    /// Waits up to `timeoutMilliseconds` for bytes from the daemon.
    public func waitReadable(timeoutMilliseconds: Int32) -> Bool {
        var p = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, timeoutMilliseconds) > 0 && (p.revents & Int16(POLLIN)) != 0
    }

    /// Unplugs: the link disappears and the daemon's side hangs up.
    public func close() {
        lock.lock(); defer { lock.unlock() }
        guard !closed else { return }
        closed = true
        // Only our own symlink: a failed init (or a replaced link) must never delete anything else.
        if let link, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: link), target == slavePath {
            unlink(link)
        }
        Glibc.close(slave)
        Glibc.close(master)
    }

    deinit { close() }
}

/// Removes what an earlier simulator left at `path` (a symlink or a FIFO); refuses to touch
/// anything else, so a mistyped --link can never delete a real device node or a file.
func removeStaleLink(_ path: String) throws {
    var st = stat()
    guard lstat(path, &st) == 0 else { return }
    let type = st.st_mode & S_IFMT
    guard type == S_IFLNK || type == S_IFIFO else {
        throw SimulatorError.usage("\(path) exists and is not a simulator's link or FIFO; not replacing it")
    }
    unlink(path)
}

public enum SimulatorError: Error, CustomStringConvertible {
    case system(String, Int32)
    case usage(String)
    public var description: String {
        switch self {
        case .system(let what, let e): return "\(what): \(String(cString: strerror(e)))"
        case .usage(let text): return text
        }
    }
}
