import CShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import YizhanCore

/// A protocol driver runs one open device until it fails or goes away, and returns why.
protocol ReaderDriver: Sendable {
    /// How often the driver wants a clock tick (timeouts, polling, liveness).
    var tickInterval: Duration { get }
    /// Runs until the device ends or fails. `heartbeat` is called on every tick the driver
    /// handles: the watchdog's proof that this loop is not stuck.
    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String
}

enum DriverInput: Sendable {
    case bytes([UInt8])
    case tick
    case ended(String)
}

/// Monotonic time since the driver started, for the pure session state machines.
struct DriverClock {
    let origin = ContinuousClock.now
    var now: Duration { ContinuousClock.now - origin }
}

/// GA 467 SAM resident-ID readers.
struct IDCardDriver: ReaderDriver {
    var timing: IDCardReaderSession.Timing
    var logger: Logger
    var tickInterval: Duration { .milliseconds(50) }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        let clock = DriverClock()
        var session = IDCardReaderSession(timing: timing)
        var decoder = GA467FrameDecoder()

        // Carries out the session's actions; returns a reason when the reader must be reopened.
        func perform(_ actions: [IDCardReaderSession.Action]) -> String? {
            for action in actions {
                switch action {
                case .send(let command):
                    decoder.reset()  // a late or half answer to an earlier request is stale now
                    do { try device.write(command.frame) } catch { return error.description }
                case .up:
                    emit(.up(device: device.path))
                case .cardRead(let block):
                    do {
                        let text = try IDCardText(block: block)
                        emit(.card(try text.validatedNumber(), displayName: maskedName(text.name)))
                    } catch {
                        emit(.badRead(error.description))
                    }
                case .badRead(let reason):
                    emit(.badRead(reason))
                case .failed(let reason):
                    return reason
                }
            }
            return nil
        }

        if let reason = perform(session.start(now: clock.now)) { return reason }
        for await input in inputs {
            var actions: [IDCardReaderSession.Action] = []
            switch input {
            case .bytes(let bytes):
                decoder.append(bytes)
                while let result = decoder.next() {
                    switch result {
                    case .success(let body):
                        if let response = IDCardResponse(body: body) { actions += session.receive(response, now: clock.now) }
                    case .failure(let error):
                        logger.debug("frame error", metadata: ["device": "\(device.path)", "error": "\(error)"])
                        actions += session.frameError(error, now: clock.now)
                    }
                }
            case .tick:
                heartbeat()
                actions = session.tick(now: clock.now)
            case .ended(let reason):
                return reason
            }
            if let reason = perform(actions) { return reason }
        }
        return "stopped"
    }
}

/// Serial readers whose bytes decode straight to card numbers (RDM6300, line readers):
/// one loop; only the decoder differs.
struct StreamingCardDriver: ReaderDriver {
    enum Decoded {
        case card(NormalizedCardNumber)
        case badRead(String)
        /// Line noise: logged, not an event (it is not a swipe).
        case noise(String)
    }

    typealias Decode = ([UInt8], Duration) -> [Decoded]
    /// Makes a fresh decoder for each opened device.
    let makeDecoder: @Sendable () -> Decode
    var logger: Logger
    var tickInterval: Duration { .seconds(1) }

    /// RDM6300-style 125 kHz readers (repeated frames within `repeatWindow` are one swipe).
    static func rdm6300(repeatWindow: Duration, logger: Logger) -> StreamingCardDriver {
        StreamingCardDriver(makeDecoder: {
            var decoder = RDM6300Decoder(repeatWindow: repeatWindow)
            return { bytes, now in
                decoder.feed(bytes, now: now).map {
                    switch $0 {
                    case .card(let number): return .card(number)
                    // Noise between frames, and the tail of a damaged frame.
                    case .error(.garbage(let n)): return .noise("skipped \(n) byte(s) outside a frame")
                    case .error(let error): return .badRead(error.description)
                    }
                }
            }
        }, logger: logger)
    }

    /// Readers that print a line per card.
    static func line(framing: LineDecoder.Framing, logger: Logger) -> StreamingCardDriver {
        StreamingCardDriver(makeDecoder: {
            var decoder = LineDecoder(framing: framing)
            return { bytes, _ in
                decoder.feed(bytes).map {
                    switch $0 {
                    case .card(let number): return .card(number)
                    case .error(let error): return .badRead(error.description)
                    }
                }
            }
        }, logger: logger)
    }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        let clock = DriverClock()
        let decode = makeDecoder()
        emit(.up(device: device.path))
        for await input in inputs {
            switch input {
            case .bytes(let bytes):
                for decoded in decode(bytes, clock.now) {
                    switch decoded {
                    case .card(let number): emit(.card(number, displayName: nil))
                    case .badRead(let reason): emit(.badRead(reason))
                    case .noise(let text): logger.debug("\(text)", metadata: ["device": "\(device.path)"])
                    }
                }
            case .tick: heartbeat()
            case .ended(let reason): return reason
            }
        }
        return "stopped"
    }
}

/// USB HID keyboard-wedge readers through evdev.
struct HIDDriver: ReaderDriver {
    var window: Duration
    var tickInterval: Duration { .milliseconds(100) }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        let clock = DriverClock()
        // A FIFO carries the 64-bit layout the simulator writes; a real node the platform's.
        // Decided on the opened file: the path may have been anything when the daemon started.
        var st = stat()
        let isFIFO = fstat(device.fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFIFO
        var records = InputEventRecordDecoder(recordSize: isFIFO ? InputEventRecord.size : Int(yz_input_event_size()))
        var assembler = HIDKeyAssembler(window: window)
        emit(.up(device: device.path))
        func deliver(_ outputs: [HIDKeyAssembler.Output]) {
            for output in outputs {
                switch output {
                case .card(let number): emit(.card(number, displayName: nil))
                case .error(let error): emit(.badRead(error.description))
                }
            }
        }
        for await input in inputs {
            switch input {
            case .bytes(let bytes):
                for r in records.feed(bytes) where r.type == InputEventRecord.evKey {
                    deliver(assembler.key(code: r.code, value: r.value, now: clock.now))
                }
            case .tick:
                heartbeat()
                deliver(assembler.tick(now: clock.now))
            case .ended(let reason):
                return reason
            }
        }
        return "stopped"
    }
}
