import Foundation
import Testing
import YizhanCore
import YizhanWeb
@testable import YizhanStation

@Suite(.serialized) struct AmenityTests {
    let dir = TemporaryDirectory()
    let amenities = """
        [[amenities]]
        kind = "microwave"
        [[amenities]]
        kind = "toilet"
        id = "toilet-2f"
        name_en = "Toilet (2F)"
        [[amenities]]
        kind = "kettle"
        name_zh = "电水壶"
        name_en = "Kettle"
        """

    @Test func statusChangesReportsAndRatingsAreEventsAndSurviveARestart() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            #expect(station.status().amenities.map(\.id) == ["microwave", "toilet-2f", "kettle"])
            #expect(station.status().amenities[1].nameZh == "卫生间" && station.status().amenities[1].nameEn == "Toilet (2F)")
            // A worker reports, twice (a minute apart: within one it is the same report); the
            // manager marks it broken, which answers the reports.
            let reported = Timestamp.now()
            _ = try await station.recorder.record(.faultReport(id: "microwave", note: "不热 no heat"), at: reported)
            await #expect(throws: StationState.Refusal.alreadyReported) {
                try await station.recorder.record(.faultReport(id: "microwave", note: nil), at: reported + .seconds(30))
            }
            _ = try await station.recorder.record(.faultReport(id: "microwave", note: nil), at: reported + .seconds(61))
            #expect(station.status().amenities[0].openReports == 2)
            let change = try await station.recorder.record(.amenity(id: "microwave", status: .outOfOrder, by: "li", note: "维修已预约"))
            #expect(change.event.kind == .amenity && change.event.detail == "amenity=microwave status=out_of_order by=li note=维修已预约")
            let m = station.status().amenities[0]
            #expect(m.status == .outOfOrder && m.by == "li" && m.openReports == 0 && m.since != nil)
            // Refused requests write nothing.
            let before = try station.allEvents().count
            await #expect(throws: VisitRecorder.RequestError.self) { try await station.recorder.record(.amenity(id: "sauna", status: .ok, by: "li", note: nil)) }
            await #expect(throws: VisitRecorder.RequestError.self) { try await station.recorder.record(.rating(score: 5)) }
            #expect(try station.allEvents().count == before)
            // A rating follows a check-out, once.
            let card = NormalizedCardNumber("1000001")
            station.recorder.reader("door", signalled: .card(card, displayName: nil), at: .now())
            station.recorder.reader("door", signalled: .card(card, displayName: nil), at: .now())
            try await eventually("checked out") { try station.kinds().contains(.checkOut) }
            await #expect(throws: VisitRecorder.RequestError.self) { try await station.recorder.record(.rating(score: 0)) }
            let rating = try await station.recorder.record(.rating(score: 4))
            #expect(rating.event.kind == .rating && rating.event.detail == "score=4")
            await #expect(throws: VisitRecorder.RequestError.self) { try await station.recorder.record(.rating(score: 5)) }
        }
        try await withStation(configPath: config) { station in
            let m = station.status().amenities[0]
            #expect(m.status == .outOfOrder && m.by == "li" && m.note == "维修已预约", "rebuilt from the log")
        }
    }

    @Test func theLatestStatusOfEachAmenitySurvivesRetentionPurges() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        let old = Timestamp.now() - .seconds(90 * 86_400)
        try await withStation(configPath: config) { station in
            _ = try await station.recorder.record(.amenity(id: "microwave", status: .degraded, by: "li", note: nil), at: old)
            _ = try await station.recorder.record(.amenity(id: "microwave", status: .outOfOrder, by: "li", note: nil), at: old + .seconds(60))
            _ = try await station.recorder.record(.amenity(id: "kettle", status: .closed, by: "li", note: nil), at: old + .seconds(120))
            _ = try await station.recorder.record(.faultReport(id: "kettle", note: "old report"), at: old + .seconds(30))
            try station.store.setAcknowledged(try station.store.lastSeq())
            let purged = try station.store.purgeAcknowledged(before: .now() - .seconds(30 * 86_400))
            #expect(purged == 2, "the older microwave change and the report answered by the kettle's change")
        }
        try await withStation(configPath: config) { station in
            let byID = Dictionary(uniqueKeysWithValues: station.status().amenities.map { ($0.id, $0) })
            #expect(byID["microwave"]?.status == .outOfOrder && byID["kettle"]?.status == .closed && byID["toilet-2f"]?.status == .ok)
        }
    }

    @Test func amenityConfigErrorsNameTheLine() throws {
        for (text, message) in [
            ("[[amenities]]\nkind = \"sauna\"\n", "\"sauna\" is not a known kind"),
            ("[[amenities]]\nkind = \"microwave\"\n[[amenities]]\nkind = \"microwave\"\n", "\"microwave\" is used by another amenity"),
            ("[[amenities]]\nkind = \"Microwave\"\n", "expected lower-case letters"),
            ("[[amenities]]\nkind = \"microwave\"\ncolour = \"red\"\n", "unknown key \"colour\""),
        ] {
            let config = writeConfig(in: dir, readers: text)
            do {
                _ = try StationConfiguration.load(path: config)
                Issue.record("accepted \(text)")
            } catch {
                #expect("\(error)".contains(message), "\(error)")
                #expect("\(error)".contains("station.toml:"), "names the file and line: \(error)")
            }
        }
    }
}
