import Foundation
import Logging
import YizhanCore
import Synchronization

/// Keeps one configured reader running: finds its device (fixed path or udev match),
/// opens it, runs the protocol driver, and after an error or an unplug reopens it with
/// backoff, woken early by udev hot-plug events. Never gives up, never crashes the daemon.
final class ReaderSupervisor: Sendable {
    let config: StationConfiguration.Reader
    let sink: any ReaderSignalSink
    let registry: ReaderRegistry
    let notifier: DeviceChangeNotifier
    let liveness: Liveness
    let logger: Logger

    static let minimumBackoff: Duration = .milliseconds(250)
    static let maximumBackoff: Duration = .seconds(5)

    init(config: StationConfiguration.Reader, sink: any ReaderSignalSink, registry: ReaderRegistry,
         notifier: DeviceChangeNotifier, liveness: Liveness, logger: Logger) {
        self.config = config; self.sink = sink; self.registry = registry
        self.notifier = notifier; self.liveness = liveness
        var l = logger
        l[metadataKey: "reader"] = "\(config.name)"
        self.logger = l
    }

    var livenessKey: String { "reader \(config.name)" }

    func makeDriver() -> any ReaderDriver {
        switch config.protocol {
        case .idcardSAM:
            var timing = IDCardReaderSession.Timing()
            timing.pollInterval = config.pollInterval
            return IDCardDriver(timing: timing, logger: logger)
        case .rdm6300: return StreamingCardDriver.rdm6300(repeatWindow: config.repeatWindow, logger: logger)
        case .line: return StreamingCardDriver.line(framing: config.lineFraming, logger: logger)
        case .hid: return HIDDriver(window: config.burstWindow)
        }
    }

    func open(_ path: String, deliver: @escaping @Sendable (DeviceStream.Chunk) -> Void) throws(DeviceError) -> DeviceStream {
        switch config.protocol {
        case .hid:
            let opened = try EvdevDevice.open(path: path, deliver: deliver)
            if !opened.grabbed {
                logger.notice("\(path) is a FIFO of input events, not an evdev device: reading it without a grab")
            }
            return opened.stream
        default:
            return try SerialPort.open(path: path, baud: config.baud, deliver: deliver)
        }
    }

    func run() async {
        let driver = makeDriver()
        var backoff = Self.minimumBackoff
        var lastProblem: String?
        var generation = notifier.generation
        defer { liveness.forget(livenessKey) }

        func problem(_ text: String) {
            registry.update(config.name) { $0.state = "down"; $0.detail = text }
            if text != lastProblem { logger.warning("reader \(config.name): \(text); retrying") }
            lastProblem = text
        }

        while !Task.isCancelled {
            liveness.beat(livenessKey)
            generation = notifier.generation
            guard let path = UdevDirectory.resolve(config.match, hid: config.protocol == .hid) else {
                problem("no device matches \(config.match)")
                await waitForChange(&backoff, since: generation)
                continue
            }
            // The device's read handler feeds the driver's input directly; ticks join it.
            let (inputs, inputContinuation) = AsyncStream<DriverInput>.makeStream(bufferingPolicy: .unbounded)
            let device: DeviceStream
            do {
                device = try open(path) { chunk in
                    switch chunk {
                    case .bytes(let b): inputContinuation.yield(.bytes(b))
                    case .ended(let reason): inputContinuation.yield(.ended(reason))
                    }
                }
            } catch {
                problem(error.description)
                await waitForChange(&backoff, since: generation)
                continue
            }
            lastProblem = nil
            logger.info("reader \(config.name): opened \(path) (\(config.protocol.rawValue)\(config.protocol == .hid ? "" : ", \(config.baud) 8N1 raw"))")
            registry.update(config.name) { $0.device = path; $0.detail = nil }

            let started = ContinuousClock.now
            let wentUp = UpFlag()
            let reason = await runDriver(driver, on: device, inputs: inputs, continuation: inputContinuation, wentUp: wentUp)
            device.close()
            if Task.isCancelled { break }
            if wentUp.value {
                sink.reader(config.name, signalled: .down("\(path): \(reason)"), at: .now())
            }
            problem("\(path): \(reason)")
            if ContinuousClock.now - started > .seconds(30) { backoff = Self.minimumBackoff }
            await waitForChange(&backoff, since: nil)
        }
    }

    private func waitForChange(_ backoff: inout Duration, since generation: UInt64?) async {
        liveness.beat(livenessKey)
        await notifier.wait(timeout: backoff, since: generation)
        backoff = min(backoff * 2, Self.maximumBackoff)
    }

    /// Runs the driver on its input (the device's bytes) with clock ticks merged in.
    private func runDriver(_ driver: any ReaderDriver, on device: DeviceStream, inputs: AsyncStream<DriverInput>,
                           continuation: AsyncStream<DriverInput>.Continuation, wentUp: UpFlag) async -> String {
        let name = config.name
        let sink = self.sink
        let registry = self.registry
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: driver.tickInterval)
                    continuation.yield(.tick)
                }
                return nil
            }
            group.addTask { [liveness, livenessKey] in
                let reason = await driver.run(device, inputs: inputs, heartbeat: { liveness.beat(livenessKey) }) { signal in
                    if case .up = signal {
                        wentUp.set()
                        registry.update(name) { $0.state = "up"; $0.since = .now(); $0.detail = nil }
                    }
                    sink.reader(name, signalled: signal, at: .now())
                }
                return reason
            }
            var reason = "stopped"
            while let result = await group.next() {
                if let r = result { reason = r; break }
            }
            continuation.finish()
            device.close()
            group.cancelAll()
            return reason
        }
    }
}

final class UpFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var value: Bool { flag.load(ordering: .relaxed) }
}
