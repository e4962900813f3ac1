import Testing
@testable import YizhanCore

@Suite struct UsageAggregatorTests {
    // 2026-11-23 00:00 in China (UTC+8).
    let day = RFC3339.parse("2026-11-23T00:00:00+08:00", defaultOffset: .utc)!
    func at(_ hour: Int, _ minute: Int = 0) -> Timestamp { day + .seconds(hour * 3600 + minute * 60) }
    func key(_ c: Character) -> String { String(repeating: c, count: 64) }
    func ev(_ station: String, _ seq: Int64, _ t: Timestamp, _ kind: String, card: Character? = nil, occ: Int,
            stay: Int64? = nil, detail: String? = nil) -> UsageEvent {
        UsageEvent(station: station, seq: seq, time: t, kind: kind, cardKey: card.map(key), occupancy: occ, staySeconds: stay, detail: detail)
    }

    @Test func bucketsAlignToLocalHoursAndDays() {
        let q = UsageQuery(from: at(9, 30), to: at(11, 10), bucket: .hour)
        #expect(q.from == at(9) && q.to == at(12) && q.bucketCount == 3)
        let d = UsageQuery(from: at(9, 30), to: at(9, 31), bucket: .day)
        #expect(d.from == day && d.to == day + .seconds(86_400))
        #expect(RFC3339.format(d.from, offset: .utc) == "2026-11-22T16:00:00.000Z")
    }

    @Test func visitsWorkersStaysAndCarriedOccupancy() {
        let q = UsageQuery(from: at(9), to: at(12), bucket: .hour)
        let events = [
            ev("a", 1, at(9, 5), "check_in", card: "1", occ: 1),
            ev("a", 2, at(9, 10), "check_in", card: "2", occ: 2),
            ev("a", 3, at(9, 20), "check_out", card: "1", occ: 1, stay: 900),
            ev("a", 4, at(9, 30), "check_in", card: "1", occ: 2),
            // Station b shares the hour: the district peak is the sum at one moment.
            ev("b", 1, at(9, 25), "check_in", card: "3", occ: 1),
            ev("a", 5, at(11, 0), "check_out", card: "2", occ: 1, stay: 6600),
            ev("a", 6, at(11, 1), "rejected_full", occ: 1),
            ev("a", 7, at(11, 2), "bad_read", occ: 1),
        ]
        let r = UsageAggregator.aggregate(q, starts: ["a": UsageStart(), "b": UsageStart()], events: events.shuffled(), now: at(23))
        #expect(r.buckets.map(\.visits) == [4, 0, 0])
        #expect(r.buckets.map(\.uniqueWorkers) == [3, 0, 0])
        // 9:25 a=1 b=1 → 2; 9:30 a=2 → 3. Hour 10 has no event but three are still inside.
        #expect(r.buckets.map(\.peakOccupancy) == [3, 3, 3])
        #expect(r.buckets.map(\.meanStaySeconds) == [900, nil, 6600])
        #expect(r.buckets[2].rejectedFull == 1 && r.buckets[2].badReads == 1)
        #expect(r.totals.visits == 4 && r.totals.uniqueWorkers == 3 && r.totals.meanStaySeconds == 3750 && r.totals.peakOccupancy == 3)
    }

    @Test func occupancyFromBeforeThePeriodAndNothingProjectedPastNow() {
        let q = UsageQuery(from: at(9), to: at(13), bucket: .hour)
        let r = UsageAggregator.aggregate(q, starts: ["a": UsageStart(occupancy: 4)],
                                          events: [ev("a", 9, at(10, 30), "check_out", occ: 3, stay: 60)], now: at(11, 30))
        #expect(r.buckets.map(\.peakOccupancy) == [4, 4, 3, 0])
    }

    @Test func downtimeSplitsAcrossBucketsAndCountsOnlyOutOfOrder() {
        let q = UsageQuery(from: at(9), to: at(12), bucket: .hour)
        let events = [
            ev("a", 1, at(9, 30), "amenity", occ: 0, detail: "amenity=microwave status=out_of_order note=no heat"),
            ev("a", 2, at(10, 15), "amenity", occ: 0, detail: "amenity=microwave status=ok"),
            ev("a", 3, at(10, 0), "amenity", occ: 0, detail: "amenity=fridge status=degraded"),
            ev("a", 4, at(10, 20), "fault_report", occ: 0, detail: "amenity=fridge note=warm"),
            ev("a", 5, at(11, 0), "rating", occ: 0, detail: "score=4"),
            ev("a", 6, at(11, 5), "rating", occ: 0, detail: "score=5"),
        ]
        // The water dispenser was already broken when the period began, and still is at 11:30.
        let start = UsageStart(amenities: ["water": .outOfOrder])
        let r = UsageAggregator.aggregate(q, starts: ["a": start], events: events, now: at(11, 30))
        #expect(r.buckets.map(\.amenityDowntimeSeconds) == [1800 + 3600, 900 + 3600, 1800])
        #expect(r.buckets.map(\.faultReports) == [0, 1, 0])
        #expect(r.buckets[2].ratings == 2 && r.buckets[2].meanRating == 4.5)
        #expect(r.totals.amenityDowntimeSeconds == 11_700)
    }

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

import Foundation

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
