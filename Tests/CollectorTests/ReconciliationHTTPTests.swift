import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// Reconciliation over real HTTP: a heartbeat's day counts against what the store holds;
/// the answer asks for the missing range, the live state carries the gap until it closes.
@Suite struct ReconciliationHTTPTests {
    @Test func aMissingRangeIsAskedForUntilItArrives() async throws {
        try await withCollector(configuration: "[alerts]\nreconcile_recheck_seconds = 1\n") { url, store in
            let token = Tokens.generate(prefix: "yzs_")
            try await store.addStation(StationRecord(id: "r-1", name: "r", capacity: 5), tokenHash: Tokens.hash(token))
            #expect(try await post(url + "/api/v1/ingest/events", token: token, body: batch("r-1", 1...4)).status == 200)
            #expect(try await post(url + "/api/v1/ingest/events", token: token, body: batch("r-1", 9...20)).status == 200)
            func heartbeat(_ days: [DayCount]?) async throws -> HeartbeatAnswer {
                var hb = Heartbeat(stationID: "r-1", time: RFC3339.format(.now(), offset: .china), occupancy: 0, capacity: 5, open: true,
                                   readers: [], amenities: [:], backlog: 0, lastAck: 20, lastSeq: 20, version: "t")
                hb.dayCounts = days
                let r = try await post(url + "/api/v1/ingest/heartbeat", token: token, body: try JSONEncoder().encode(hb))
                #expect(r.status == 200, "\(r.body)")
                return try JSONDecoder().decode(HeartbeatAnswer.self, from: Data(r.body.utf8))
            }
            let office = Tokens.generate(prefix: "yzu_")
            try await store.addUser(UserRecord(name: "o", role: .office, stations: []), passwordHash: "x", tokenHash: Tokens.hash(office))
            func gaps() async throws -> [String: String]? {
                _ = try await get(url + "/api/v1/stations", token: office)  // flushes the buffered heartbeats
                return try await store.stations().first?.live?.sequenceGaps
            }
            let day = [DayCount(day: "2026-11-23", firstSeq: 1, lastSeq: 20, count: 20)]
            #expect(try await heartbeat(nil).resend == nil, "an older station reports no counts")
            #expect(try await heartbeat(day).resend == ResendRange(fromSeq: 5, toSeq: 8))
            #expect(try await gaps() == ["2026-11-23": "seq 5-8 missing (4 events)"])
            #expect(try await post(url + "/api/v1/ingest/events", token: token, body: batch("r-1", 5...8)).status == 200)
            #expect(try await heartbeat(day).resend == nil, "the counts agree")
            #expect(try await gaps() == [:])
        }
    }
}
