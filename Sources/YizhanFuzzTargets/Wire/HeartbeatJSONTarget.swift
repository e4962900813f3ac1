import Foundation
import YizhanCore

/// A heartbeat body as the collector handles it: JSONDecoder into `Heartbeat`, then
/// `IngestValidation.validate`.
///
/// Checks: a heartbeat that validates has occupancy, capacity, backlog and seqs within
/// `IngestLimits`, at most 64 amenities with valid ids and known states, at most 32 readers
/// with short NUL-free texts, and a station time that parses strictly; the heartbeat
/// survives a JSONEncoder/JSONDecoder round trip unchanged.
enum HeartbeatJSONTarget {
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let hb = try? JSONDecoder().decode(Heartbeat.self, from: Data(bytes)) else { return }
        if let encoded = try? JSONEncoder().encode(hb) {
            let again = try? JSONDecoder().decode(Heartbeat.self, from: encoded)
            try require(again == hb, .heartbeatJSON, "a heartbeat does not survive JSONEncoder/JSONDecoder")
        }
        let checked: IngestValidation.CheckedHeartbeat
        do {
            checked = try IngestValidation.validate(hb)
        } catch {
            try require(!error.code.isEmpty && error.message.utf8.count < 1024, .heartbeatJSON, "rejection \(error.code): \(error.message.utf8.count)-byte message")
            return
        }
        let counts = 0...IngestLimits.maximumOccupancy, seqs = 0...IngestLimits.maximumSeq
        try require(counts.contains(hb.occupancy) && counts.contains(hb.capacity), .heartbeatJSON, "occupancy \(hb.occupancy) capacity \(hb.capacity)")
        try require(seqs.contains(hb.backlog) && seqs.contains(hb.lastAck) && seqs.contains(hb.lastSeq), .heartbeatJSON, "backlog or seqs out of range")
        try require(checked.amenities.count == hb.amenities.count && checked.amenities.count <= 64, .heartbeatJSON, "\(checked.amenities.count) amenities")
        try require(hb.readers.count <= 32 && hb.readers.allSatisfy { $0.name.count <= 64 && $0.state.count <= 32 && !$0.name.utf8.contains(0) },
                    .heartbeatJSON, "readers not bounded")
        try require(hb.version.count <= 64 && !hb.version.utf8.contains(0), .heartbeatJSON, "version not bounded")
        try require(RFC3339.parseStrict(hb.time) == checked.stationTime, .heartbeatJSON, "station time read twice differs")
        for id in checked.amenities.keys {
            try require(AmenityEventDetail.isValidAmenityID(Substring(id)), .heartbeatJSON, "amenity id \(id.debugDescription)")
        }
    }
}
