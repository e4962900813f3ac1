import Foundation
import Testing
import YizhanCore
@testable import YizhanStation

/// The office's amenity list on a running station: applied together with the other
/// settings, amenities appear and disappear on the kiosk, the heartbeat and the status;
/// one that stays keeps its status; nothing leaves the event log; a restart keeps the list.
@Suite(.serialized) struct StationOfficeAmenitiesTests {
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

    func heartbeatAmenities(_ station: StationRuntime) -> [String: String] {
        HeartbeatService<ContinuousClock>.heartbeat(stationID: "pt-test-01", offset: .china, recorder: station.recorder, registry: station.registry,
                                   status: UplinkStatus.Snapshot(), now: .now()).amenities
    }

    @Test func theOfficesListAddsAndRemovesAmenitiesOnARunningStationAndARestartKeepsIt() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            #expect(station.kioskState().amenities.map(\.id) == ["microwave", "toilet-2f", "kettle"])
            _ = try await station.recorder.record(.amenity(id: "microwave", status: .outOfOrder, by: "li", note: "维修已预约"))
            _ = try await station.recorder.record(.faultReport(id: "kettle", note: "漏水"))
            let eventsBefore = try station.allEvents()

            // The office: wifi and water dispenser (new), microwave and toilet (kept, in its
            // order), no kettle; and a capacity, in the same document.
            let applied = try await station.office.apply(OfficeSettingsDocument(revision: 4, settings: [
                "amenities": "wifi,microwave,water_dispenser,toilet", "capacity": "25"]), to: station.recorder)
            #expect(applied.amenities.map(\.id) == ["wifi", "microwave", "water_dispenser", "toilet-2f"])
            let kiosk = station.kioskState()
            #expect(kiosk.amenities.map(\.id) == ["wifi", "microwave", "water_dispenser", "toilet-2f"])
            #expect(kiosk.capacity == 25)
            #expect(kiosk.amenities[1].status == .outOfOrder, "a kept amenity keeps its status")
            #expect(kiosk.amenities[0].status == .ok && kiosk.amenities[0].nameZh == "无线网络")
            #expect(kiosk.amenities[3].nameEn == "Toilet (2F)", "station.toml's details for a kind the office lists")
            #expect(heartbeatAmenities(station) == ["wifi": "ok", "microwave": "out_of_order", "water_dispenser": "ok", "toilet-2f": "ok"])
            #expect(station.status().amenities.map(\.id) == kiosk.amenities.map(\.id))
            // The kettle is gone: the kiosk cannot report it and the manager cannot set it.
            await #expect(throws: VisitRecorder.RequestError.self) {
                try await station.recorder.record(.faultReport(id: "kettle", note: nil), at: .now() + .seconds(120))
            }
            // The new ones take reports and changes at once; nothing of the log was lost.
            _ = try await station.recorder.record(.amenity(id: "wifi", status: .degraded, by: "li", note: nil))
            let eventsAfter = try station.allEvents()
            #expect(Array(eventsAfter.prefix(eventsBefore.count)).map(\.seq) == eventsBefore.map(\.seq))
            #expect(eventsAfter.contains { $0.event.detail?.hasPrefix("amenity=kettle") == true })
        }
        // Restarted (no collector): the kept document gives the same list and statuses.
        try await withStation(configPath: config) { station in
            #expect(station.office.snapshot.revision == 4)
            let kiosk = station.kioskState()
            #expect(kiosk.amenities.map(\.id) == ["wifi", "microwave", "water_dispenser", "toilet-2f"])
            #expect(kiosk.amenities.map(\.status) == [.degraded, .outOfOrder, .ok, .ok])
            #expect(kiosk.capacity == 25)

            // `none` empties the list; removing the key (a document without it) brings back
            // station.toml's, the kettle with its open report.
            _ = try await station.office.apply(OfficeSettingsDocument(revision: 5, settings: ["amenities": "none"]), to: station.recorder)
            #expect(station.kioskState().amenities.isEmpty && heartbeatAmenities(station).isEmpty)
            _ = try await station.office.apply(OfficeSettingsDocument(revision: 6, settings: [:]), to: station.recorder)
            #expect(station.kioskState().amenities.map(\.id) == ["microwave", "toilet-2f", "kettle"])
            #expect(station.status().amenities[2].openReports == 1)
            #expect(station.status().amenities[0].status == .outOfOrder)

            // A bad value refuses the whole document: the capacity does not change either.
            await #expect(throws: OfficeSettingError.self) {
                try await station.office.apply(OfficeSettingsDocument(revision: 7, settings: ["amenities": "sauna", "capacity": "5"]), to: station.recorder)
            }
            #expect(station.kioskState().capacity == 10 && station.kioskState().amenities.count == 3)
        }
    }

    @Test func pinningKeepsStationTomlsList() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        // pinned_settings belongs in [station]: right after the table's header.
        let text = try String(contentsOfFile: config, encoding: .utf8)
        try text.replacingOccurrences(of: "[station]\n", with: "[station]\npinned_settings = [\"amenities\"]\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        try await withStation(configPath: config) { station in
            let applied = try await station.office.apply(OfficeSettingsDocument(revision: 2, settings: ["amenities": "wifi", "capacity": "30"]),
                                                         to: station.recorder)
            #expect(applied.amenities.map(\.id) == ["microwave", "toilet-2f", "kettle"])
            #expect(station.kioskState().amenities.map(\.id) == ["microwave", "toilet-2f", "kettle"])
            #expect(station.kioskState().capacity == 30)
            #expect(station.office.pinned == [.amenities])
        }
    }
}
