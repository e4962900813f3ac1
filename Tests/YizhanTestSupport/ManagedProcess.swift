import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One of our executables started as an operator would start it, for the end-to-end tests
/// and the benchmarks alike: its output goes to a log file that conditions are read from,
/// ports are read back from what it logs (never bound by us and released), and it is
/// always stopped — SIGTERM on `terminate()`, SIGKILL if it is still running at `deinit`.
public final class ManagedProcess: @unchecked Sendable {
    public let process = Process()
    public let logPath: String
    public let name: String

    /// Starts `executable` (a path) with `arguments`; stdout and stderr are appended to
    /// `logPath` (`/dev/null` for none), stdin is empty.
    public init(executable: String, arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        self.logPath = logPath
        name = URL(fileURLWithPath: executable).lastPathComponent
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if logPath != "/dev/null" { FileManager.default.createFile(atPath: logPath, contents: nil) }
        let log = FileHandle(forWritingAtPath: logPath)!
        log.seekToEndOfFile()
        process.standardError = log
        process.standardOutput = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Waits until `condition` holds, polling; fails early (with the log's tail) if the
    /// process exits first, and after `timeout`.
    public func await(_ what: String, timeout: Duration = .seconds(30), _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? condition()) == true { return }
            guard process.isRunning else {
                throw ProcessFailure("\(name) exited (\(process.terminationStatus)) before \(what)\n\(log.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ProcessFailure("\(name): timed out after \(timeout) waiting for \(what)\n\(log.suffix(2000))")
    }

    /// The port from the first log line containing `marker` followed by `host:port`
    /// (e.g. "collector listening on http://127.0.0.1:41234"), once it is logged.
    public func listeningPort(after marker: String, timeout: Duration = .seconds(30)) async throws -> Int {
        var port: Int?
        try await self.await("\"\(marker)\" in its log", timeout: timeout) {
            guard let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
                  let found = line.split(separator: ":").last.flatMap({ Int($0.prefix { $0.isNumber }) }) else { return false }
            port = found
            return true
        }
        return port!
    }

    /// SIGTERM, then waits for the exit; the exit status.
    @discardableResult
    public func terminate() -> Int32 {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// SIGKILL (a power cut, as far as the process can tell), then waits for the exit.
    public func kill9() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() } }
}

public struct ProcessFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A free loopback port, bound and released (another process may take it in between).
/// Only for a server that must come back on the same address after a restart; otherwise
/// listen on port 0 and read the port back (`ManagedProcess.listeningPort(after:)`).
public func reservedLoopbackPort() -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// A datagram socket standing in for systemd's NOTIFY_SOCKET.
public final class NotifySocket: @unchecked Sendable {
    public let path: String
    let fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard rc == 0 else { throw ProcessFailure("bind \(path): errno \(errno)") }
    }

    /// The next message, or nil after `timeoutMilliseconds`.
    public func receive(timeoutMilliseconds: Int32) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, timeoutMilliseconds) > 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    deinit { close(fd); unlink(path) }
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator, so generated test
/// data and benchmark worlds are the same on every run.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SplitMix64 {
    /// A uniform double in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}
