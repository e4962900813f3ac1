import Foundation
import Synchronization
import Testing
@testable import YizhanStation

@Suite struct WatchdogTests {
    let dir = TemporaryDirectory()

    @Test func pingsOnlyWhileEveryLoopMakesProgress() async throws {
        let path = dir.file("notify.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        func drain() -> [String] {
            var out: [String] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if n <= 0 { return out }
                out.append(String(decoding: buffer[0..<n], as: UTF8.self))
            }
        }

        // The loops' time is moved by hand, so a stall is a fact of the test, not of the
        // machine's load; the pinger reports each check, so the test counts checks, not time.
        let origin = ContinuousClock.now
        let elapsed = Mutex<Duration>(.zero)
        let liveness = Liveness(now: { origin + elapsed.withLock { $0 } })
        let actions = Mutex<[WatchdogDecision.Action]>([])
        let logs = LogRecorder()
        let pinger = WatchdogPinger(notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": path]), interval: .milliseconds(40),
                                    liveness: liveness, logger: logs.logger(), stallAfter: .seconds(3),
                                    checked: { action in actions.withLock { $0.append(action) } })
        liveness.beat("reader door")
        liveness.beat("recorder")
        let running = Task { await pinger.run() }
        defer { running.cancel() }

        // Generous waits: at the start of make test every suite starts at once on two cores,
        // and a condition met sooner ends the wait sooner.
        let wait = Duration.seconds(60)
        var pings = 0
        try await eventually("pings while every loop makes progress", timeout: wait) {
            pings += drain().filter { $0 == "WATCHDOG=1" }.count
            return pings >= 3
        }

        // The reader loop hangs: four seconds pass and only the recorder beats.
        elapsed.withLock { $0 += .seconds(4) }
        liveness.beat("recorder")
        try await eventually("the stall is noticed", timeout: wait) { actions.withLock { $0.contains(.warn(stalled: ["reader door"])) } }
        _ = drain()  // pings sent before the stall was seen
        let seen = actions.withLock { $0.count }
        try await eventually("three more checks", timeout: wait) { actions.withLock { $0.count } >= seen + 3 }
        #expect(drain().isEmpty, "no pings while a loop is stuck: systemd will restart us")
        #expect(actions.withLock { $0[seen...].allSatisfy { $0 == .stayQuiet } })
        #expect(logs.all.filter { $0.contains("watchdog: no progress from reader door") }.count == 1, "said once per stall")

        liveness.beat("reader door")
        try await eventually("pings again once it recovers", timeout: wait) { drain().contains("WATCHDOG=1") }
    }

    @Test func theDecisionPingsWarnsOnceAndRecovers() {
        var decision = WatchdogDecision()
        #expect(decision.check(stalled: []) == .ping)
        #expect(decision.check(stalled: ["reader door"]) == .warn(stalled: ["reader door"]))
        #expect(decision.check(stalled: ["reader door"]) == .stayQuiet)
        #expect(decision.check(stalled: ["reader door", "recorder"]) == .stayQuiet)
        #expect(decision.check(stalled: []) == .ping)
        #expect(decision.check(stalled: ["recorder"]) == .warn(stalled: ["recorder"]), "a new stall is said again")
    }

    @Test func livenessCountsAgeOnItsOwnClock() {
        let origin = ContinuousClock.now
        let elapsed = Mutex<Duration>(.zero)
        let liveness = Liveness(now: { origin + elapsed.withLock { $0 } })
        liveness.beat("a")
        liveness.beat("b")
        elapsed.withLock { $0 = .seconds(2) }
        liveness.beat("b")
        #expect(liveness.stalled(maxAge: .seconds(1)) == ["a"])
        liveness.forget("a")
        #expect(liveness.stalled(maxAge: .seconds(1)).isEmpty)
        elapsed.withLock { $0 = .seconds(10) }
        #expect(liveness.stalled(maxAge: .seconds(1)) == ["b"])
    }
}
