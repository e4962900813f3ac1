import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// sd_notify(3) without libsystemd: a datagram to `$NOTIFY_SOCKET` (a leading `@` means
/// the abstract namespace). Does nothing when not started by systemd.
public struct SystemdNotifier: Sendable {
    public let socketPath: String?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Sends e.g. `READY=1`, `STOPPING=1`, `WATCHDOG=1`, `STATUS=...`. Returns false on failure.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard let path = socketPath else { return false }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        let sent = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                sendto(fd, message, message.count, Int32(MSG_NOSIGNAL), sa, length)
            }
        }
        return sent == message.count
    }

    /// The watchdog interval systemd expects pings within (`WatchdogSec=`), if enabled for us.
    public static func watchdogInterval(environment: [String: String] = ProcessInfo.processInfo.environment) -> Duration? {
        guard let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 else { return nil }
        if let pid = environment["WATCHDOG_PID"].flatMap(Int32.init), pid != getpid() { return nil }
        return .microseconds(usec)
    }
}

/// What the watchdog does at one check, decided from which loops have stalled: ping
/// while every loop makes progress; otherwise stay quiet (so systemd restarts us), saying
/// why once per stall rather than at every check.
public struct WatchdogDecision: Sendable, Hashable {
    public enum Action: Sendable, Hashable {
        case ping
        case warn(stalled: [String])
        case stayQuiet
    }

    private var warned = false
    public init() {}

    public mutating func check(stalled: [String]) -> Action {
        if stalled.isEmpty {
            warned = false
            return .ping
        }
        if warned { return .stayQuiet }
        warned = true
        return .warn(stalled: stalled)
    }
}

/// Pings the systemd watchdog at half its interval, but only while every long-running
/// loop (each reader, the recorder and its store) has made progress recently. A hung
/// loop stops the pings and systemd restarts the daemon. The decision is
/// `WatchdogDecision`'s; this only sleeps, asks `Liveness` and sends.
public struct WatchdogPinger<C: Clock>: Sendable where C.Duration == Duration {
    let notifier: SystemdNotifier
    let interval: Duration
    let liveness: Liveness
    let logger: Logger
    /// A loop that has not reported progress for this long counts as stalled.
    let stallAfter: Duration
    let clock: C
    /// Told every check's action after it is carried out (tests await checks with it).
    let checked: @Sendable (WatchdogDecision.Action) -> Void

    public init(notifier: SystemdNotifier, interval: Duration, liveness: Liveness, logger: Logger, stallAfter: Duration? = nil,
                clock: C = ContinuousClock(), checked: @escaping @Sendable (WatchdogDecision.Action) -> Void = { _ in }) {
        self.notifier = notifier; self.interval = interval; self.liveness = liveness; self.logger = logger
        self.stallAfter = stallAfter ?? max(interval / 2, .seconds(3))
        self.clock = clock; self.checked = checked
    }

    public func run() async {
        var decision = WatchdogDecision()
        while !Task.isCancelled {
            try? await clock.sleep(for: interval / 2)
            let action = decision.check(stalled: liveness.stalled(maxAge: stallAfter))
            switch action {
            case .ping: notifier.notify("WATCHDOG=1")
            case .warn(let stalled): logger.error("watchdog: no progress from \(stalled.joined(separator: ", ")); not pinging systemd")
            case .stayQuiet: break
            }
            checked(action)
        }
    }
}
