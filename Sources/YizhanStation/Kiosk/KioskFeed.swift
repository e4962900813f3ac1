import Foundation
import Synchronization
import YizhanCore
import YizhanWeb

/// What the kiosk shows: no visit log, no card keys; a masked name only in a swipe's
/// outcome, for a few seconds, and never stored.
public struct KioskState: Codable, Hashable, Sendable {
    public struct Amenity: Codable, Hashable, Sendable {
        public var id: String
        public var kind: String
        public var nameZh: String
        public var nameEn: String
        public var status: AmenityStatus
        enum CodingKeys: String, CodingKey { case id, kind, status; case nameZh = "name_zh", nameEn = "name_en" }
    }
    public var stationName: String
    public var occupancy: Int
    public var capacity: Int
    public var full: Bool
    public var open: Bool
    public var hours: String
    public var amenities: [Amenity]
    /// False while the collector cannot be reached (shown as a quiet sign; nothing is lost).
    public var uplinkOK: Bool
    public var time: String
    /// The office's notices running now (Chinese, optionally English).
    public var notices: [Notice] = []
    public struct Notice: Codable, Hashable, Sendable {
        public var id: Int64
        public var zh: String
        public var en: String?
        public var until: String
    }
    /// Stations to go on to, shown when this one is full or closes soon (OnwardList.swift).
    public var onward: [OnwardStation] = []
    public var closingSoon = false
    enum CodingKeys: String, CodingKey {
        case occupancy, capacity, full, open, hours, amenities, time, notices, onward
        case stationName = "station_name", uplinkOK = "uplink_ok", closingSoon = "closing_soon"
    }
}

/// A swipe's result as the kiosk announces it.
public struct KioskSwipe: Codable, Hashable, Sendable {
    /// check_in, check_out, auto_check_out, rejected_full, bad_read, outside_hours, duplicate.
    public var kind: String
    /// Masked (`张*`), when the reader gives a name.
    public var name: String?
    public var time: String
    /// Seconds the kiosk may offer a rating (check-outs only).
    public var ratingSeconds: Int?
    enum CodingKeys: String, CodingKey { case kind, name, time; case ratingSeconds = "rating_seconds" }
}

extension StationRuntime {
    public func kioskState(now: Timestamp = .now()) -> KioskState {
        let s = status(now: now)
        let uplinkOK = s.uplink.state.isHealthy
        var state = KioskState(stationName: s.name, occupancy: s.occupancy, capacity: s.capacity, full: s.full, open: s.open,
                               hours: recorder.policy.hours.description,
                               amenities: s.amenities.map { .init(id: $0.id, kind: $0.kind, nameZh: $0.nameZh, nameEn: $0.nameEn, status: $0.status) },
                               uplinkOK: uplinkOK, time: s.time,
                               notices: office.notices(at: now).map { .init(id: $0.id, zh: $0.zh, en: $0.en, until: $0.until) })
        state.pointOnward(uplink?.onward.current ?? [], hours: recorder.policy.hours, now: now)
        return state
    }
}

/// Server-Sent Events for the kiosk pages: every subscriber gets the state after each
/// commit (and every few seconds), and each swipe's outcome.
public final class KioskFeed: Sendable {
    private let subscribers = Mutex<[UInt64: AsyncStream<String>.Continuation]>([:])
    private let nextID = Atomic<UInt64>(0)

    /// Streams open at once. A station has one kiosk screen and a manager's tab or two;
    /// streams are never idle, so without a cap any local client could hold every
    /// connection the server allows (the kiosk, `/manage` and `/healthz` with them).
    public let maximumSubscribers: Int

    public init(maximumSubscribers: Int = 16) { self.maximumSubscribers = maximumSubscribers }

    public var count: Int { subscribers.withLock { $0.count } }

    /// A stream of SSE frames, starting with `first`; ends when the client goes away. Nil
    /// when `maximumSubscribers` streams are open.
    public func subscribe(first: String) -> AsyncStream<String>? {
        let id = nextID.add(1, ordering: .relaxed).newValue
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(32))
        let admitted = subscribers.withLock { s in
            guard s.count < maximumSubscribers else { return false }
            s[id] = continuation
            return true
        }
        guard admitted else { return nil }
        continuation.yield(first)
        continuation.onTermination = { [weak self] _ in _ = self?.subscribers.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    public func publish(_ frame: String) {
        let all = subscribers.withLock { Array($0.values) }
        for c in all { c.yield(frame) }
    }

    public func finishAll() {
        let all = subscribers.withLock { s in defer { s = [:] }; return Array(s.values) }
        for c in all { c.finish() }
    }

    static func frame(event: String, _ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return "event: \(event)\ndata: \(json)\n\n"
    }
}
