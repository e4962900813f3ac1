import Foundation
import Synchronization
import YizhanCore
#if canImport(Glibc)
import Glibc
#endif

/// What a reader driver reports. A card's number lives only in memory, on its way to
/// the recorder that turns it into a card key.
public enum ReaderSignal: Sendable {
    case up(device: String)
    case card(NormalizedCardNumber, displayName: String?)
    case badRead(String)
    case down(String)
}

/// Where reader signals go (the visit recorder).
public protocol ReaderSignalSink: Sendable {
    func reader(_ name: String, signalled signal: ReaderSignal, at time: Timestamp)
}


/// Live reader states for `status` (not the log: the log gets reader_up/reader_down).
public final class ReaderRegistry: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var `protocol`: String
        public var device: String
        public var state: String
        public var since: Timestamp?
        public var detail: String?
        public var reads = 0
        public var badReads = 0
    }

    private let entries: Mutex<[String: Entry]>
    private let order: [String]

    public init(readers: [StationConfiguration.Reader]) {
        var e: [String: Entry] = [:]
        for r in readers {
            e[r.name] = Entry(name: r.name, protocol: r.protocol.rawValue, device: r.match.description, state: "starting")
        }
        entries = Mutex(e)
        order = readers.map(\.name)
    }

    public func update(_ name: String, _ change: (inout Entry) -> Void) {
        entries.withLock { all in
            if var e = all[name] { change(&e); all[name] = e }
        }
    }

    public func snapshot() -> [Entry] {
        entries.withLock { all in order.compactMap { all[$0] } }
    }
}

/// Tracks that each long-running loop still makes progress; the systemd watchdog is
/// pinged only while all of them do.
public final class Liveness: Sendable {
    private let beats = Mutex<[String: ContinuousClock.Instant]>([:])
    /// Where "now" comes from: the continuous clock, or a test's hand-moved time.
    private let now: @Sendable () -> ContinuousClock.Instant

    public init(now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) { self.now = now }

    public func beat(_ component: String) {
        let now = now()
        beats.withLock { $0[component] = now }
    }

    public func forget(_ component: String) { beats.withLock { $0[component] = nil } }

    /// The components that have not beaten within `maxAge`.
    public func stalled(maxAge: Duration) -> [String] {
        let now = now()
        return beats.withLock { all in all.filter { now - $0.value > maxAge }.map(\.key).sorted() }
    }
}
