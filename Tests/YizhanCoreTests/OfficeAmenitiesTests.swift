import Testing
@testable import YizhanCore

/// The office's `amenities` setting: which values it accepts, how its kinds select
/// station.toml's amenities, and what a changed list does to the amenity board.
@Suite struct OfficeAmenitiesTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)
    /// station.toml: two toilets with their own names, a microwave, a custom kettle.
    let configured = [
        AmenityDefinition(id: "toilet-1", kind: "toilet", nameEn: "Toilet (1F)"),
        AmenityDefinition(id: "microwave", kind: "microwave"),
        AmenityDefinition(id: "toilet-2", kind: "toilet", nameEn: "Toilet (2F)"),
        AmenityDefinition(id: "kettle", kind: "kettle", nameZh: "电水壶", nameEn: "Kettle"),
    ]

    @Test func valuesAreKnownKindsOnceEachOrNone() throws {
        #expect(try OfficeSettingValues.normalize(.amenities, " microwave, water_dispenser ,toilet,phone_charging")
                == "microwave,water_dispenser,toilet,phone_charging")
        #expect(try OfficeSettingValues.normalize(.amenities, "none") == "none")
        #expect(try OfficeAmenities.kinds("none") == [])
        let unknown = #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.normalize(.amenities, "microwave,charging") }
        #expect(unknown?.description.hasPrefix("amenities=microwave,charging: \"charging\" is not an amenity kind (air_conditioner,") == true)
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.kinds("toilet,toilet") }
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.kinds("toilet,,microwave") }
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.kinds(" ") }
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.kinds("Toilet") }
        // A custom kind of station.toml cannot be listed: the office has no names for it.
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.kinds("kettle") }
    }

    @Test func kindsSelectStationTomlsAmenitiesInTheOfficesOrder() {
        let chosen = OfficeAmenities.select(["microwave", "water_dispenser", "toilet"], from: configured)
        #expect(chosen.map(\.id) == ["microwave", "water_dispenser", "toilet-1", "toilet-2"])
        #expect(chosen[1].nameZh == "饮水机" && chosen[1].kind == "water_dispenser")
        #expect(chosen[3].nameEn == "Toilet (2F)")
        #expect(OfficeAmenities.select([], from: configured).isEmpty)
        // station.toml gave the id "wifi" to another kind: the office's wifi gets its own id.
        let odd = [AmenityDefinition(id: "wifi", kind: "seating", nameEn: "Bench by the wifi")]
        #expect(OfficeAmenities.select(["wifi", "seating"], from: odd).map(\.id) == ["wifi-2", "wifi"])
    }

    @Test func applyingTheDocumentRespectsPinningAndRefusesBadValues() throws {
        let doc = OfficeSettingsDocument(revision: 3, settings: ["amenities": "wifi,toilet", "capacity": "20"])
        #expect(try OfficeAmenities.apply(doc, to: configured, pinned: []).map(\.id) == ["wifi", "toilet-1", "toilet-2"])
        #expect(try OfficeAmenities.apply(doc, to: configured, pinned: [.amenities]) == configured)
        #expect(try OfficeAmenities.apply(.empty, to: configured, pinned: []) == configured)
        #expect(try OfficeAmenities.apply(OfficeSettingsDocument(revision: 4, settings: ["amenities": "none"]), to: configured, pinned: []).isEmpty)
        let bad = OfficeSettingsDocument(revision: 5, settings: ["amenities": "sauna", "capacity": "20"])
        #expect(throws: OfficeSettingError.self) { try OfficeAmenities.apply(bad, to: configured, pinned: [.amenities]) }
        // The policy's side refuses the same document: one bad value refuses everything.
        #expect(throws: OfficeSettingError.self) { try OfficeSettingValues.apply(bad, to: VisitPolicy(capacity: 12), pinned: []) }
    }

    @Test func aChangedListKeepsWhatStaysAndStartsWhatIsNew() throws {
        var state = StationState(policy: VisitPolicy(capacity: 12), amenities: Array(configured.prefix(2)))
        let broken = try state.decide(.amenity(id: "microwave", status: .outOfOrder, by: "li", note: "no heat"), at: t0)
        let report = try state.decide(.faultReport(id: "toilet-1", note: nil), at: t0 + .seconds(1))
        // The log as the store keeps it: water_dispenser was offered once and left degraded.
        let old = StationEvent(time: t0 - .seconds(86_400), kind: .amenity, occupancy: 0,
                               detail: AmenityEventDetail.change(amenity: "water_dispenser", status: .degraded, by: "li", note: nil).detail)
        let log = [old, broken, report]

        let next = OfficeAmenities.select(["microwave", "water_dispenser", "wifi"], from: configured)
        state.replaceAmenities(next, log: log)
        #expect(state.board.entries.map(\.definition.id) == ["microwave", "water_dispenser", "wifi"])
        let microwave = try #require(state.board.entry("microwave"))
        #expect(microwave.status == .outOfOrder && microwave.since == t0 && microwave.note == "no heat")
        #expect(state.board.entry("water_dispenser")?.status == .degraded)
        #expect(state.board.entry("wifi")?.status == .ok && state.board.entry("wifi")?.since == nil)
        #expect(state.board.entry("toilet-1") == nil)
        // A removed amenity is refused like any unknown one.
        #expect(throws: StationState.Refusal.amenity(.unknownAmenity("toilet-1"))) {
            try state.decide(.amenity(id: "toilet-1", status: .ok, by: "li", note: nil), at: t0 + .seconds(2))
        }
        // Offered again: its open report comes back from the log, as after a restart.
        state.replaceAmenities(OfficeAmenities.select(["toilet"], from: configured), log: log)
        #expect(state.board.entries.map(\.definition.id) == ["toilet-1", "toilet-2"])
        #expect(state.board.entry("toilet-1")?.openReports == 1)
        #expect(state.board.entry("microwave") == nil)
    }
}
