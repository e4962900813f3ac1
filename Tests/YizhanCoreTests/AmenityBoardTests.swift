import Testing
@testable import YizhanCore

@Suite struct AmenityBoardTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_795_000_000)
    let defs = [AmenityDefinition(id: "microwave", kind: "microwave"), AmenityDefinition(id: "toilet-2", kind: "toilet", nameEn: "Toilet (2F)"),
                AmenityDefinition(id: "kettle", kind: "kettle", nameZh: "电水壶", nameEn: "Kettle")]

    @Test func namesComeFromTheCatalogueUnlessGiven() {
        #expect(defs[0].nameZh == "微波炉" && defs[0].nameEn == "Microwave")
        #expect(defs[1].nameZh == "卫生间" && defs[1].nameEn == "Toilet (2F)")
        #expect(defs[2].nameZh == "电水壶")
    }

    @Test func changesAndReportsRebuildFromTheLog() throws {
        var board = AmenityBoard(defs)
        #expect(board.statuses == ["microwave": .ok, "toilet-2": .ok, "kettle": .ok])
        let r1 = try board.report("microwave", note: "不热了\nno heat", at: t0, occupancy: 2)
        #expect(r1.kind == .faultReport && r1.detail == "amenity=microwave note=不热了 no heat")
        board.apply(r1)
        board.apply(try board.report("microwave", note: "  ", at: t0 + .seconds(60), occupancy: 2))
        #expect(board.entry("microwave")?.openReports == 2 && board.entry("microwave")?.lastReportNote == nil)
        let fix = try board.change("microwave", to: .outOfOrder, by: "li", note: "repair booked", at: t0 + .seconds(120), occupancy: 2)
        board.apply(fix)
        let e = try #require(board.entry("microwave"))
        #expect(e.status == .outOfOrder && e.openReports == 0 && e.by == "li" && e.note == "repair booked" && e.since == t0 + .seconds(120))

        // The same events, replayed into a fresh board, give the same board.
        var rebuilt = AmenityBoard(defs)
        for ev in [r1, fix] { rebuilt.apply(ev) }
        #expect(rebuilt.entry("microwave")?.status == .outOfOrder)
        // Unknown amenities and bad input are refused before anything is written.
        #expect(throws: AmenityBoard.ChangeError.unknownAmenity("sauna")) { try board.change("sauna", to: .ok, by: "li", note: nil, at: t0, occupancy: 0) }
        #expect(throws: AmenityBoard.ChangeError.invalidActor("李 明")) { try board.change("kettle", to: .ok, by: "李 明", note: nil, at: t0, occupancy: 0) }
        #expect(throws: AmenityBoard.ChangeError.noteTooLong) { try board.report("kettle", note: String(repeating: "x", count: 201), at: t0, occupancy: 0) }
        // An event about an amenity since removed from the config is history only.
        board.apply(StationEvent(time: t0, kind: .amenity, occupancy: 0, detail: "amenity=sauna status=closed"))
        #expect(board.entries.count == 3)
    }
}
