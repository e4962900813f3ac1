import CShims
import Foundation
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

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
