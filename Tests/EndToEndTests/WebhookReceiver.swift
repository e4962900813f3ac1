import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization
import YizhanCore

/// A webhook receiver on 127.0.0.1, port 0: records every POST body, answers from a script
/// of statuses (then 200).
final class WebhookReceiver: Sendable {
    private final class State: Sendable {
        let log: Mutex<(bodies: [(body: String, status: Int)], script: [Int])>
        let port = Atomic<Int>(0)
        init(script: [Int]) { log = Mutex(([], script)) }
    }
    private let shared: State
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    init(script: [Int] = []) async {
        let shared = State(script: script)
        self.shared = shared
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            let status = shared.log.withLock { s -> Int in
                let status = s.script.isEmpty ? 200 : s.script.removeFirst()
                s.bodies.append((String(buffer: buffer), status))
                return status
            }
            return Response(status: .init(code: status), body: .init(byteBuffer: ByteBuffer(string: status == 200 ? "ok" : "scripted failure")))
        }
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let quiet = Logger(label: "webhook-receiver", factory: { _ in SwiftLogNoOpLogHandler() })
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in shared.port.store(channel.localAddress?.port ?? 0, ordering: .sequentiallyConsistent); readyContinuation.yield() },
                              logger: quiet)
        group = ServiceGroup(configuration: .init(services: [app], logger: quiet))
        let g = group
        task = Task { try await g.run() }
        for await _ in ready { break }
    }

    var url: String { "http://127.0.0.1:\(shared.port.load(ordering: .sequentiallyConsistent))/hook" }
    /// Every body received with the status it was answered, in order (retries included).
    var received: [(body: String, status: Int)] { shared.log.withLock { $0.bodies } }
    /// The notices answered 200 (delivered), decoded as generic notices.
    var delivered: [AlertNotice] {
        received.filter { $0.status == 200 }.compactMap { try? JSONDecoder().decode(AlertNotice.self, from: Data($0.body.utf8)) }
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
