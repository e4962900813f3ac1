import CompressNIO
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import YizhanCore

/// A stand-in for the collector's ingest endpoints, on a real socket (port 0): checks the
/// bearer token, inflates gzip, stores events by seq (duplicates ignored), acknowledges the
/// highest contiguous seq, and answers scripted faults first. The real collector arrives
/// with its own contract tests; this double lets the station's uplink be tested now.
final class CollectorDouble: Sendable {
    struct State {
        var token = "station-secret"
        var events: [Int64: EventRecord] = [:]
        var batches: [[Int64]] = []
        var heartbeats: [Heartbeat] = []
        var faults: [Int] = []  // status codes to answer next, in order
        var retryAfter: String?
        var rejectSeq: Int64?  // a batch containing it gets 422
        var maxEvents: Int?    // batches larger than this get 413
        var requestTimes: [ContinuousClock.Instant] = []
        var gzipped = true
        var sawHints = false
    }

    let state = Shared()
    private let port = PortBox()

    final class Shared: Sendable {
        private let mutex = Mutex(State())
        func withLock<T>(_ body: (inout State) -> T) -> T { mutex.withLock { body(&$0) } }
    }

    final class PortBox: Sendable {
        private let value = Atomic<Int>(0)
        func store(_ v: Int) { value.store(v, ordering: .relaxed) }
        func load() -> Int { value.load(ordering: .relaxed) }
    }
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    init(port requested: Int = 0) async throws {
        let router = Router()
        let state = self.state
        router.post("/api/v1/ingest/events") { request, _ -> Response in
            var request = request
            var buffer = try await request.collectBody(upTo: 16 << 20)
            let fault = state.withLock { s -> Int? in
                s.requestTimes.append(.now)
                if request.headers[.authorization] != "Bearer \(s.token)" { return 401 }
                return s.faults.isEmpty ? nil : s.faults.removeFirst()
            }
            if let fault {
                var headers = HTTPFields()
                if let ra = state.withLock({ $0.retryAfter }) { headers[.retryAfter] = ra }
                return Response(status: .init(code: fault), headers: headers,
                                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"scripted","message":"fault \#(fault)"}"#)))
            }
            if request.headers[.contentEncoding] == "gzip" {
                buffer = try buffer.decompress(with: .gzip(), maxSize: 64 << 20)
            } else {
                state.withLock { $0.gzipped = false }
            }
            let batch = try JSONDecoder().decode(EventBatch.self, from: Data(buffer: buffer))
            let seqs = batch.events.map(\.seq)
            let answer = state.withLock { s -> Int? in
                if let max = s.maxEvents, seqs.count > max { return 413 }
                if let bad = s.rejectSeq, seqs.contains(bad) { return 422 }
                s.batches.append(seqs)
                for e in batch.events where s.events[e.seq] == nil {
                    s.events[e.seq] = e
                    if e.cardHint != nil { s.sawHints = true }
                }
                return nil
            }
            if let answer {
                return Response(status: .init(code: answer),
                                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"rejected","message":"status \#(answer)"}"#)))
            }
            let ack = state.withLock { s -> Int64 in
                // Highest seq the station may forget: everything received so far (the
                // quarantined ones were never sent, so they are not required here).
                s.events.keys.max() ?? 0
            }
            let data = try JSONEncoder().encode(IngestAcknowledgement(acknowledgedSeq: ack))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.post("/api/v1/ingest/heartbeat") { request, _ -> Response in
            var request = request
            let buffer = try await request.collectBody(upTo: 1 << 20)
            let ok = state.withLock { s in request.headers[.authorization] == "Bearer \(s.token)" }
            guard ok else { return Response(status: .unauthorized) }
            let hb = try JSONDecoder().decode(Heartbeat.self, from: Data(buffer: buffer))
            state.withLock { $0.heartbeats.append(hb) }
            return Response(status: .noContent)
        }
        let portBox = port
        let (ready, readyContinuation) = AsyncStream<Void>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: requested)),
                              onServerRunning: { channel in
                                  portBox.store(channel.localAddress?.port ?? 0)
                                  readyContinuation.yield()
                              },
                              logger: Logger(label: "collector-double", factory: { _ in SwiftLogNoOpLogHandler() }))
        group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "x", factory: { _ in SwiftLogNoOpLogHandler() })))
        let g = group
        task = Task { try await g.run() }
        for await _ in ready { break }
    }

    var url: String { "http://127.0.0.1:\(port.load())" }
    var receivedSeqs: [Int64] { state.withLock { $0.events.keys.sorted() } }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }
}
