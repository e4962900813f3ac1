import Foundation
import YizhanCore

/// An ingest body, after gzip, as the collector handles it (CollectorHTTP.ingestEvents):
/// Foundation's JSONDecoder into `EventBatch`, then `IngestValidation.validate` at a fixed
/// collector clock.
///
/// Checks: a batch that validates has at most `maximumEventsPerBatch` events with strictly
/// increasing seqs in range, known kinds, times that parse strictly and lie in the
/// plausible window, and every figure and text within `IngestLimits`; a rejection has a
/// short printable message; and the station's hand-written JSON encoder
/// (`EventRecord.jsonBytes`) gives back the same record through JSONDecoder.
enum IngestJSONTarget {
    /// The collector's clock for every input: 2026-11-23T12:00:00+08:00.
    static let now = RFC3339.parseStrict("2026-11-23T12:00:00+08:00")!

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        guard let batch = try? JSONDecoder().decode(EventBatch.self, from: Data(bytes)) else { return }
        for record in batch.events.prefix(64) {
            let again = try? JSONDecoder().decode(EventRecord.self, from: Data(record.jsonBytes))
            try require(again == record, .ingestJSON, "EventRecord.jsonBytes does not round-trip: \(String(decoding: record.jsonBytes, as: UTF8.self))")
        }
        let printable = IngestValidation.printable(batch.stationID)
        try require(printable.count <= 40 && !printable.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F },
                    .ingestJSON, "printable() let through \(printable.debugDescription)")
        let events: [IngestedEvent]
        do {
            events = try IngestValidation.validate(batch.events, now: now)
        } catch {
            try require(!error.code.isEmpty && error.message.utf8.count < 1024, .ingestJSON, "rejection \(error.code): \(error.message.utf8.count)-byte message")
            return
        }
        try require(!events.isEmpty && events.count == batch.events.count && events.count <= IngestLimits.maximumEventsPerBatch,
                    .ingestJSON, "\(events.count) events validated from \(batch.events.count)")
        var previous: Int64 = 0
        for e in events {
            try require(e.seq > previous && e.seq <= IngestLimits.maximumSeq, .ingestJSON, "seq \(e.seq) after \(previous)")
            previous = e.seq
            try require(EventKind(rawValue: e.kind) != nil, .ingestJSON, "unknown kind \(e.kind)")
            try require(e.time >= IngestLimits.earliestEvent && e.time <= now + IngestLimits.clockLead, .ingestJSON, "time \(e.time) out of the window")
            try require((0...IngestLimits.maximumOccupancy).contains(e.occupancy), .ingestJSON, "occupancy \(e.occupancy)")
            if let s = e.staySeconds { try require((0...IngestLimits.maximumStaySeconds).contains(s), .ingestJSON, "stay \(s)") }
            if let key = e.cardKey { try require(key.utf8.count == 64, .ingestJSON, "card key of \(key.utf8.count) bytes") }
            try require((e.reader?.count ?? 0) <= IngestLimits.maximumReaderLength && (e.detail?.count ?? 0) <= IngestLimits.maximumDetailLength,
                        .ingestJSON, "reader or detail too long")
            try require(e.reader != "" && e.detail != "", .ingestJSON, "empty text stored instead of absent")
            try require(!(e.reader ?? "").utf8.contains(0) && !(e.detail ?? "").utf8.contains(0), .ingestJSON, "NUL in stored text")
            // The stored time, printed and read back (as the office's exports do).
            let printed = RFC3339.format(e.time, offset: .china)
            try require(RFC3339.parseStrict(printed) == e.time, .ingestJSON, "\(printed) does not read back as \(e.time)")
        }
    }
}
