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
