import Foundation
import Logging
import Synchronization
import YizhanCore

/// The nearest open stations with room, as the collector last named them in a heartbeat
/// answer, kept in the data directory (`onward.json`) so that a station restarted while
/// the link is down still points workers on. Station names and addresses only: nothing
/// about people.
public final class OnwardList: Sendable {
    private let stations: Mutex<[OnwardStation]>
    let path: String

    public init(directory: String) {
        path = directory + "/onward.json"
        let saved = FileManager.default.contents(atPath: path).flatMap { try? JSONDecoder().decode([OnwardStation].self, from: $0) }
        stations = Mutex(saved ?? [])
    }

    public var current: [OnwardStation] { stations.withLock { $0 } }

    /// Keeps `list` (and writes it when it changed); a write that fails keeps the list in
    /// memory and is tried again with the next answer.
    public func update(_ list: [OnwardStation], logger: Logger) {
        let changed = stations.withLock { s in
            guard s != list else { return false }
            s = list
            return true
        }
        guard changed || !FileManager.default.fileExists(atPath: path) else { return }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            // Written aside and renamed over the old file: a crash leaves one or the other.
            try encoder.encode(list).write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            logger.warning("could not keep the onward stations in \(path): \(error)")
        }
    }
}

extension KioskState {
    /// Minutes before closing from which the kiosk points workers on.
    static let closingSoonMinutes = 30

    /// Shows the onward list when the station is full or closes within 30 minutes.
    mutating func pointOnward(_ list: [OnwardStation], hours: OpeningHours, now: Timestamp) {
        let closingSoon = hours.isOpen(at: now) && !hours.isAlwaysOpen
            && (1...Self.closingSoonMinutes).contains { !hours.isOpen(at: now + .seconds(Int64($0) * 60)) }
        self.closingSoon = closingSoon
        onward = (full || closingSoon) ? Array(list.prefix(OnwardStation.count)) : []
    }
}
