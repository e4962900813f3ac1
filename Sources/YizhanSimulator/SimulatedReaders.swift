import CShims
import Foundation
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

/// A simulated card reader: cards are presented and removed; the reader speaks its real
/// protocol to whoever opened its device.
public protocol SimulatedReader: AnyObject, Sendable {
    var devicePath: String { get }
    /// The shortest time `swipe` keeps a card on the reader.
    var swipeHold: Duration { get }
    /// Whether the card presented last has reached the host (polled readers answer the host's
    /// read; the others have sent it). `swipe` holds the card until then, so that a swipe on
    /// a loaded machine is a swipe, not a card taken away before the reader looked.
    var cardDelivered: Bool { get }
    /// Whether the host has looked at the empty reader since the card was taken away
    /// (polled readers). `swipe` waits for it, so the next card is a new card to the host
    /// and not, on a slow machine, the same card still held.
    var removalSeen: Bool { get }
    func present(number: String, name: String)
    func remove()
    /// Raw noise on the line (serial) or stray keys (HID).
    func garbage(_ bytes: [UInt8])
    /// The next frame goes out with a bad checksum.
    func corruptNext()
    func close()
}

extension SimulatedReader {
    /// Presents a card, holds it for `swipeHold` and until the host has it (at most
    /// `timeout`), then takes it away. Returns whether the host got the card.
    @discardableResult
    public func swipe(number: String, name: String, timeout: Duration = .seconds(10)) async -> Bool {
        present(number: number, name: name)
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        try? await Task.sleep(for: swipeHold)
        while !cardDelivered, clock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let delivered = cardDelivered
        remove()
        while !removalSeen, clock.now < deadline, !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(10))
        }
        return delivered
    }

    /// Readers that push their frames (serial lines, HID) need no look at an empty field.
    public var removalSeen: Bool { true }
}

/// GA 467 SAM reader on a pty: answers SAM status, find, select and read; after a read it
/// answers "no card" until the card is removed and presented again, like real readers.
public final class SimulatedIDCardReader: SimulatedReader, @unchecked Sendable {
    private struct State {
        var text: [UInt8]?
        var consumed = false
        var corruptNext = false
        var samStatus: IDCardStatus = .success
        var silent = false
        var requests = 0
        /// "find card" requests answered while no card lay on the reader, since `remove`.
        var emptyFinds = 0
    }

    private let pty: PseudoTerminal
    private let lock = NSLock()
    private var state = State()
    private var thread: Thread?
    private var running = true

    public var devicePath: String { pty.devicePath }
    public var swipeHold: Duration { .milliseconds(1200) }

    public init(link: String?) throws {
        pty = try PseudoTerminal(link: link)
        let t = Thread { [weak self] in self?.serve() }
        t.name = "simulated-idcard"
        thread = t
        t.start()
    }

    public func present(number: String, name: String) {
        let block = IDCardText.encodeResidentID(name: name, number: number)
        lock.withLock { state.text = block; state.consumed = false }
    }

    /// Presents a raw 256-byte text block (other card layouts, broken text).
    public func present(textBlock: [UInt8]) {
        lock.withLock { state.text = textBlock; state.consumed = false }
    }

    public func remove() { lock.withLock { state.text = nil; state.consumed = false; state.emptyFinds = 0 } }
    public var removalSeen: Bool { lock.withLock { state.emptyFinds > 0 } }
    public func garbage(_ bytes: [UInt8]) { pty.write(bytes) }
    public func corruptNext() { lock.withLock { state.corruptNext = true } }
    /// Makes the SAM answer a failure (e.g. `.samSelfTestFailed`).
    public func setSAMStatus(_ status: IDCardStatus) { lock.withLock { state.samStatus = status } }
    /// Stops answering (a hung reader).
    public func setSilent(_ silent: Bool) { lock.withLock { state.silent = silent } }
    public var requestCount: Int { lock.withLock { state.requests } }
    public var cardDelivered: Bool { lock.withLock { state.consumed } }

    public func close() {
        let wasRunning = lock.withLock { () -> Bool in defer { running = false }; return running }
        if wasRunning { stopped.wait() }  // the serve thread has left its loop: no I/O on a closed fd
        pty.close()
    }

    private let stopped = DispatchSemaphore(value: 0)

    private func serve() {
        defer { stopped.signal() }
        var decoder = GA467FrameDecoder()
        while lock.withLock({ running }) {
            guard pty.waitReadable(timeoutMilliseconds: 100) else { continue }
            decoder.append(pty.readAvailable())
            while let result = decoder.next() {
                guard case .success(let body) = result, let command = IDCardCommand(body: body) else { continue }
                if let frame = answer(command) { pty.write(frame) }
            }
        }
    }

    private func answer(_ command: IDCardCommand) -> [UInt8]? {
        lock.lock(); defer { lock.unlock() }
        state.requests += 1
        if state.silent { return nil }
        let response: IDCardResponse
        switch command {
        case .samStatus:
            response = IDCardResponse(status: state.samStatus)
        case .findCard:
            if state.text == nil { state.emptyFinds += 1 }
            response = state.text != nil && !state.consumed
                ? IDCardResponse(status: .cardPresent, data: [0, 0, 0, 0])
                : IDCardResponse(status: .noCard)
        case .selectCard:
            response = state.text != nil ? IDCardResponse(status: .success, data: Array(repeating: 0, count: 8))
                                         : IDCardResponse(status: .selectFailed)
        case .readText:
            if let text = state.text {
                state.consumed = true
                response = IDCardResponse(status: .success, data: IDCardReadData.encode(textBlock: text))
            } else {
                response = IDCardResponse(status: .readFailed)
            }
        }
        var frame = response.frame
        if state.corruptNext {
            state.corruptNext = false
            frame[frame.count - 1] ^= 0x5A
        }
        return frame
    }
}

/// RDM6300 reader on a pty: repeats the card's frame every 100 ms while it is present.
public final class SimulatedRDM6300Reader: SimulatedReader, @unchecked Sendable {
    private let pty: PseudoTerminal
    private let lock = NSLock()
    private var tag: UInt32?
    private var corrupt = false
    private var running = true
    private var framesSincePresent = 0

    public var devicePath: String { pty.devicePath }
    public var swipeHold: Duration { .milliseconds(400) }
    /// Two frames: a corrupted first one is followed by a good one.
    public var cardDelivered: Bool { lock.withLock { framesSincePresent >= 2 } }

    public init(link: String?) throws {
        pty = try PseudoTerminal(link: link)
        let t = Thread { [weak self] in self?.serve() }
        t.name = "simulated-rdm6300"
        t.start()
    }

    /// `number` is the decimal number printed on the card (up to 4294967295).
    public func present(number: String, name: String) {
        lock.withLock { tag = UInt32(number) ?? UInt32(truncatingIfNeeded: number.hashValue); framesSincePresent = 0 }
    }
    public func remove() { lock.withLock { tag = nil; framesSincePresent = 0 } }
    public func garbage(_ bytes: [UInt8]) { pty.write(bytes) }
    public func corruptNext() { lock.withLock { corrupt = true } }
    private let stopped = DispatchSemaphore(value: 0)

    public func close() {
        let wasRunning = lock.withLock { () -> Bool in defer { running = false }; return running }
        if wasRunning { stopped.wait() }
        pty.close()
    }

    private func serve() {
        defer { stopped.signal() }
        while lock.withLock({ running }) {
            let frame: [UInt8]? = lock.withLock {
                guard let tag else { return nil }
                var f = RDM6300Decoder.encode(tag: tag)
                if corrupt { corrupt = false; f[11] = f[11] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0") }
                return f
            }
            if let frame {
                pty.write(frame)
                lock.withLock { framesSincePresent += 1 }
            }
            usleep(100_000)
        }
    }
}

/// A reader that prints the card number as a line (CR LF).
public final class SimulatedLineReader: SimulatedReader, @unchecked Sendable {
    private let pty: PseudoTerminal
    private let lock = NSLock()
    private var corrupt = false
    public let terminator: [UInt8]

    public var devicePath: String { pty.devicePath }
    public var swipeHold: Duration { .milliseconds(200) }
    public var cardDelivered: Bool { true }  // written to the line by `present`

    public init(link: String?, terminator: [UInt8] = [0x0D, 0x0A]) throws {
        pty = try PseudoTerminal(link: link)
        self.terminator = terminator
    }

    public func present(number: String, name: String) {
        let broken = lock.withLock { () -> Bool in defer { corrupt = false }; return corrupt }
        pty.write(Array(number.utf8) + (broken ? [0x01] : []) + terminator)
    }
    public func remove() {}
    public func garbage(_ bytes: [UInt8]) { pty.write(bytes) }
    public func corruptNext() { lock.withLock { corrupt = true } }
    public func close() { pty.close() }
}

/// A keyboard-wedge reader: a uinput keyboard where /dev/uinput exists, otherwise a FIFO
/// of `input_event` records at `link` that the daemon reads like an evdev node.
public final class SimulatedHIDReader: SimulatedReader, @unchecked Sendable {
    private let fd: Int32
    private let uinput: Bool
    public let devicePath: String
    private let lock = NSLock()
    private var corrupt = false
    private var closed = false
    public var swipeHold: Duration { .milliseconds(100) }
    public var cardDelivered: Bool { true }  // typed by `present`
    public var usesUinput: Bool { uinput }

    public static var uinputAvailable: Bool { access("/dev/uinput", W_OK) == 0 }

    /// `link` is the FIFO path (used when uinput is not available).
    public init(link: String, preferUinput: Bool = true) throws {
        if preferUinput && Self.uinputAvailable {
            let fd = yz_uinput_create_keyboard("Yizhan simulated HID reader", 0xFFFF, 0x0035)
            guard fd >= 0 else { throw SimulatorError.system("uinput", errno) }
            self.fd = fd
            uinput = true
            devicePath = "(uinput: match_usb = \"ffff:0035\")"
        } else {
            try removeStaleLink(link)
            guard mkfifo(link, 0o660) == 0 else { throw SimulatorError.system("mkfifo \(link)", errno) }
            // O_RDWR never blocks on a FIFO and keeps it open while the daemon reconnects.
            let fd = open(link, O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw SimulatorError.system("open \(link)", errno) }
            self.fd = fd
            uinput = false
            devicePath = link
        }
    }

    public func present(number: String, name: String) {
        let broken = lock.withLock { () -> Bool in defer { corrupt = false }; return corrupt }
        var codes = HIDKeyAssembler.keyCodes(for: number)
        if broken { codes.insert(30, at: codes.count / 2) }  // KEY_A in the middle
        for code in codes { key(code) }
    }

    public func remove() {}
    public func garbage(_ bytes: [UInt8]) { for b in bytes { key(UInt16(16 + b % 10)) } }  // letter keys, no Enter
    public func corruptNext() { lock.withLock { corrupt = true } }

    private func key(_ code: UInt16) {
        if uinput {
            _ = yz_uinput_key(fd, code, 1)
            _ = yz_uinput_key(fd, code, 0)
        } else {
            let bytes = InputEventRecord(type: 1, code: code, value: 1).bytes + InputEventRecord(type: 1, code: code, value: 0).bytes
                + InputEventRecord(type: 0, code: 0, value: 0).bytes
            _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        }
    }

    public func close() {
        let wasClosed = lock.withLock { () -> Bool in defer { closed = true }; return closed }
        guard !wasClosed else { return }
        if uinput { yz_uinput_destroy(fd) } else { unlink(devicePath); Glibc.close(fd) }
    }
}
