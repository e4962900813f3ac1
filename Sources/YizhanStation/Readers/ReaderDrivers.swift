import CShims
import Foundation
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

/// RDM6300-style 125 kHz readers.
struct RDM6300Driver: ReaderDriver {
    var repeatWindow: Duration
    var logger: Logger
    var tickInterval: Duration { .seconds(1) }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        let clock = DriverClock()
        var decoder = RDM6300Decoder(repeatWindow: repeatWindow)
        emit(.up(device: device.path))
        for await input in inputs {
            switch input {
            case .bytes(let bytes):
                for output in decoder.feed(bytes, now: clock.now) {
                    switch output {
                    case .card(let number): emit(.card(number, displayName: nil))
                    case .error(.garbage(let n)):
                        // Noise between frames (and the tail of a damaged frame): not a swipe.
                        logger.debug("skipped \(n) byte(s) outside a frame", metadata: ["device": "\(device.path)"])
                    case .error(let error): emit(.badRead(error.description))
                    }
                }
            case .tick: heartbeat()
            case .ended(let reason): return reason
            }
        }
        return "stopped"
    }
}

/// Serial readers that print a line per card.
struct LineDriver: ReaderDriver {
    var framing: LineDecoder.Framing
    var tickInterval: Duration { .seconds(1) }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        var decoder = LineDecoder(framing: framing)
        emit(.up(device: device.path))
        for await input in inputs {
            switch input {
            case .bytes(let bytes):
                for output in decoder.feed(bytes) {
                    switch output {
                    case .card(let number): emit(.card(number, displayName: nil))
                    case .error(let error): emit(.badRead(error.description))
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
    var isFIFO: Bool
    var tickInterval: Duration { .milliseconds(100) }

    func run(_ device: DeviceStream, inputs: AsyncStream<DriverInput>, heartbeat: @escaping @Sendable () -> Void,
             emit: @escaping @Sendable (ReaderSignal) -> Void) async -> String {
        let clock = DriverClock()
        // A FIFO carries the 64-bit layout the simulator writes; a real node the platform's.
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
