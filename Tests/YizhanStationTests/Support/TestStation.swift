import Foundation
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Synchronization
import Testing
import YizhanCore
import YizhanSimulator
@testable import YizhanStation

/// A temporary directory removed at the end of the test.
final class TemporaryDirectory: Sendable {
    let path: String
    init() {
        let template = FileManager.default.temporaryDirectory.path + "/yizhan-test-XXXXXX"
        var bytes = Array(template.utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Collects log lines (to check that no raw number or name is ever logged).
final class LogRecorder: Sendable {
    let lines = Mutex<[String]>([])
    func logger(level: Logger.Level = .trace) -> Logger {
        var l = Logger(label: "test") { _ in RecordingHandler(recorder: self) }
        l.logLevel = level
        return l
    }
    var all: [String] { lines.withLock { $0 } }

    struct RecordingHandler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] } set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            recorder.lines.withLock { $0.append("\(event.level) \(event.message) \(merged)") }
        }
    }
}

let testRegionKey = Array("test-region-key-0123456789abcdef".utf8)

/// Writes a station config into `dir` with the given reader tables.
func writeConfig(in dir: TemporaryDirectory, readers: String, visits: String = "debounce_seconds = 1", capacity: Int = 10) -> String {
    FileManager.default.createFile(atPath: dir.file("region.key"), contents: Data(testRegionKey))
    let text = """
        [station]
        id = "pt-test-01"
        name = "测试站"
        capacity = \(capacity)
        data_dir = "\(dir.file("data"))"
        [http]
        listen = "127.0.0.1:0"
        [privacy]
        region_key_file = "\(dir.file("region.key"))"
        [visits]
        \(visits)
        \(readers)
        """
    let path = dir.file("station.toml")
    FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
    return path
}

func reader(_ name: String, _ proto: String, _ device: String) -> String {
    "[[readers]]\nname = \"\(name)\"\nprotocol = \"\(proto)\"\ndevice = \"\(device)\"\n"
}

/// Metrics can be bootstrapped once per process; every in-process station shares this registry.
let sharedPrometheus: PrometheusCollectorRegistry = {
    let registry = PrometheusCollectorRegistry()
    MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
    return registry
}()

/// Runs a StationRuntime in process until `body` returns.
func withStation<T: Sendable>(
    configPath: String, logs: LogRecorder = LogRecorder(),
    _ body: @Sendable (StationRuntime) async throws -> T
) async throws -> T {
    let configuration = try StationConfiguration.load(path: configPath)
    let ready = AsyncStream<Void>.makeStream()
    let runtime = try StationRuntime(configuration: configuration, prometheus: sharedPrometheus,
                                     logger: logs.logger(level: .debug), systemd: SystemdNotifier(environment: [:]),
                                     onReady: { ready.continuation.yield() })
    let group = ServiceGroup(configuration: .init(services: runtime.services().map { .init(service: $0) },
                                                  logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })))
    let running = Task { try await group.run() }
    for await _ in ready.stream { break }
    do {
        let result = try await body(runtime)
        await group.triggerGracefulShutdown()
        try await running.value
        return result
    } catch {
        await group.triggerGracefulShutdown()
        _ = try? await running.value
        throw error
    }
}

/// Polls `condition` until it holds (or fails after `timeout`): for real I/O, never timing.
func eventually(_ what: String, timeout: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

extension StationRuntime {
    func allEvents() throws -> [RecordedEvent] {
        var q = EventStore.Query()
        q.limit = 100_000
        return try store.events(q)
    }

    func kinds(reader: String? = nil) throws -> [EventKind] {
        try allEvents().filter { reader == nil || $0.event.reader == reader }.map(\.event.kind)
    }
}

extension SimulatedReader {
    /// Holds the card until the station's reader has it (polled readers may be slow to look
    /// on a loaded machine), then takes it away.
    func swipe(_ number: String, name: String = "张三", sourceLocation: SourceLocation = #_sourceLocation) async throws {
        guard await swipe(number: number, name: name) else {
            Issue.record("the station's reader never read the card", sourceLocation: sourceLocation)
            throw CancellationError()
        }
    }
}
