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

        let liveness = Liveness()
        let logs = LogRecorder()
        let pinger = WatchdogPinger(notifier: SystemdNotifier(environment: ["NOTIFY_SOCKET": path]), interval: .milliseconds(100),
                                    liveness: liveness, logger: logs.logger(), stallAfter: .milliseconds(400))
        let keepBeating = Atomic<Bool>(true)
        let beater = Task {
            while !Task.isCancelled {
                if keepBeating.load(ordering: .relaxed) { liveness.beat("reader door") }
                liveness.beat("recorder")
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        let running = Task { await pinger.run() }
        defer { running.cancel(); beater.cancel() }

        var pings = 0
        try await eventually("pings while everything makes progress") {
            pings += drain().filter { $0 == "WATCHDOG=1" }.count
            return pings >= 3
        }

        keepBeating.store(false, ordering: .relaxed)   // the reader loop hangs
        try await Task.sleep(for: .milliseconds(600))  // past the stall threshold
        _ = drain()
        try await Task.sleep(for: .milliseconds(400))
        #expect(drain().isEmpty, "no pings while a loop is stuck: systemd will restart us")
        #expect(logs.all.contains { $0.contains("watchdog: no progress from reader door") })

        keepBeating.store(true, ordering: .relaxed)
        try await eventually("pings again once it recovers") { drain().contains("WATCHDOG=1") }
    }
}
