import CShims
import Foundation
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

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
