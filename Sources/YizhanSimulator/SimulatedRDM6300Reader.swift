import CShims
import Foundation
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

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
