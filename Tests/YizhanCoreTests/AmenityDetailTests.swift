import Foundation
import Testing
@testable import YizhanCore

@Suite struct AmenityDetailTests {
    @Test func amenityDetailsRoundTripAndRejectGarbage() throws {
        for d in [AmenityEventDetail.change(amenity: "air_con", status: .outOfOrder, note: "漏水 = leaking"),
                  .change(amenity: "wifi", status: .ok, by: "li.ming@office", note: nil), .faultReport(amenity: "toilet-2", note: "no water"), .rating(score: 3)] {
            #expect(try AmenityEventDetail.parse(kind: d.kind, detail: d.detail) == d)
        }
        #expect(throws: AmenityEventDetail.ParseError.missing("status")) { try AmenityEventDetail.parse(kind: "amenity", detail: "amenity=ac") }
        #expect(throws: AmenityEventDetail.ParseError.invalid("status", "broken")) {
            try AmenityEventDetail.parse(kind: "amenity", detail: "amenity=ac status=broken")
        }
        #expect(throws: AmenityEventDetail.ParseError.invalid("amenity", "AC!")) { try AmenityEventDetail.parse(kind: "fault_report", detail: "amenity=AC!") }
        #expect(throws: AmenityEventDetail.ParseError.invalid("by", "李")) { try AmenityEventDetail.parse(kind: "amenity", detail: "amenity=ac status=ok by=李") }
        #expect(throws: AmenityEventDetail.ParseError.invalid("score", "6")) { try AmenityEventDetail.parse(kind: "rating", detail: "score=6") }
        #expect(throws: AmenityEventDetail.ParseError.unknownKey("x")) { try AmenityEventDetail.parse(kind: "rating", detail: "score=2 x=1") }
        #expect(throws: (any Error).self) { try AmenityEventDetail.parse(kind: "rating", detail: nil) }
    }
}

@Suite struct EventJSONTests {
    @Test func theHandWrittenEncodingDecodesToTheSameRecord() throws {
        let t = Timestamp(secondsSinceEpoch: 1_795_000_000)
        let tricky = "引号\" 反斜杠\\ 换行\n tab\t bell\u{07} del\u{7F} / é 😀"
        let events = [
            StationEvent(time: t, kind: .checkIn, cardKey: CardKey(hex: String(repeating: "ab", count: 32)), cardHint: "3301**********123X",
                         reader: "door", occupancy: 3),
            StationEvent(time: t, kind: .checkOut, reader: tricky, occupancy: 0, staySeconds: 3600, detail: tricky),
            StationEvent(time: t, kind: .dayClosed, occupancy: 12, detail: "by \(tricky)"),
        ]
        for (i, e) in events.enumerated() {
            let record = EventRecord(RecordedEvent(seq: Int64(i + 1), event: e), offset: .china)
            let decoded = try JSONDecoder().decode(EventRecord.self, from: Data(record.jsonBytes))
            #expect(decoded == record)
            // Key for key what Codable writes (every key, explicit nulls).
            let mine = try JSONSerialization.jsonObject(with: Data(record.jsonBytes)) as! NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(record)) as! NSDictionary
            #expect(mine == theirs)
        }
    }
}
