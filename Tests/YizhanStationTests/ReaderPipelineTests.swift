import Foundation
import Testing
import YizhanCore
import YizhanSimulator
@testable import YizhanStation

/// Simulated readers on pseudo-terminals (and a FIFO for HID) → the real adapters →
/// decoders → visit state machine → SQLite, in one process.
@Suite(.serialized) struct ReaderPipelineTests {
    let dir = TemporaryDirectory()
    let keyer = try! CardKeyer(regionKey: testRegionKey)
    let zhang = "11010519491231002X"
    let li = "330903199003074570"

    @Test func idCardSwipesBecomeVisitsWithPrivateKeys() async throws {
        let sim = try SimulatedIDCardReader(link: dir.file("door"))
        defer { sim.close() }
        let config = writeConfig(in: dir, readers: reader("door", "idcard-sam", dir.file("door")))
        try await withStation(configPath: config) { station in
            try await eventually("reader up") { try station.kinds().contains(.readerUp) }
            try await sim.swipe(zhang)
            try await eventually("check-in") { try station.kinds(reader: "door").contains(.checkIn) }
            let checkIn = try #require(try station.allEvents().first { $0.event.kind == .checkIn }).event
            #expect(checkIn.cardKey == keyer.key(for: NormalizedCardNumber(zhang)))
            #expect(checkIn.cardHint == "1101**********002X")
            #expect(checkIn.occupancy == 1)
            #expect(station.recorder.snapshot.occupancy == 1)

            // Holding the card on the reader is one visit, however long.
            sim.present(number: li, name: "李四")
            try await eventually("second check-in") { try station.kinds().filter { $0 == .checkIn }.count == 2 }
            // The station keeps polling the card on the reader (counted, not timed).
            let polledWhileHeld = sim.requestCount
            try await eventually("ten more polls of the held card") { sim.requestCount >= polledWhileHeld + 10 }
            #expect(try station.kinds().filter { $0 == .checkIn }.count == 2)
            sim.remove()

            try await sim.swipe(zhang)  // debounce is 1 s in this config
            try await eventually("check-out") { try station.kinds().contains(.checkOut) }
            #expect(station.recorder.snapshot.occupancy == 1)
            let status = station.status()
            #expect(status.readers.first?.state == "up")
            #expect(status.readers.first?.reads == 3)
        }
    }

    @Test func badIDCardInputGivesEventsNotCrashes() async throws {
        let sim = try SimulatedIDCardReader(link: dir.file("door"))
        defer { sim.close() }
        let config = writeConfig(in: dir, readers: reader("door", "idcard-sam", dir.file("door")))
        try await withStation(configPath: config) { station in
            try await eventually("reader up") { try station.kinds().contains(.readerUp) }
            // Wrong check digit: a bad read, not a visit. The card stays on the reader until it
            // is read (a timed swipe can end mid-read on a loaded machine: "SW3 41").
            sim.present(number: "110105194912310021", name: "")
            try await eventually("bad read") { try station.kinds().contains(.badRead) }
            let polled = sim.requestCount
            sim.remove()
            // The reader must poll the empty field before the next card counts as new.
            try await eventually("the reader saw the card go") { sim.requestCount >= polled + 2 }
            let bad = try #require(try station.allEvents().first { $0.event.kind == .badRead }).event
            #expect(bad.detail == "ID number fails its check character (ISO 7064 MOD 11-2)")
            #expect(bad.cardKey == nil)
            // Text that is not UTF-16: a bad read.
            var broken = [UInt8](repeating: 0, count: 256)
            broken[1] = 0xD8
            sim.present(textBlock: broken)
            try await eventually("second bad read") { try station.kinds().filter { $0 == .badRead }.count == 2 }
            sim.remove()
            // Line noise and a corrupt frame: the reader carries on.
            sim.garbage([0x00, 0xAA, 0xAA, 0x13, 0x37])
            sim.corruptNext()
            let polledBeforeNoise = sim.requestCount
            try await eventually("the station polls on past the noise") { sim.requestCount >= polledBeforeNoise + 3 }
            // The card stays until it is read (a timed hold can be missed on a loaded machine).
            sim.present(number: zhang, name: "张三")
            try await eventually("check-in after noise") { try station.kinds().contains(.checkIn) }
            sim.remove()
            #expect(!(try station.kinds().contains(.readerDown)))
        }
    }

    @Test func brokenSAMAndUnpluggedReaderGoDownAndComeBack() async throws {
        let link = dir.file("door")
        var sim = try SimulatedIDCardReader(link: link)
        let config = writeConfig(in: dir, readers: reader("door", "idcard-sam", link))
        try await withStation(configPath: config) { [sim] station in
            try await eventually("reader up") { try station.kinds() == [.readerUp, .stationStarted] || station.kinds() == [.stationStarted, .readerUp] }
            sim.setSAMStatus(.samSelfTestFailed)
            try await eventually("reader down") { try station.kinds().contains(.readerDown) }
            let down = try #require(try station.allEvents().first { $0.event.kind == .readerDown }).event
            #expect(down.detail?.contains("SAM self-test failed") == true)
            #expect(station.status().readers[0].state == "down")
            sim.setSAMStatus(.success)
            try await eventually("reader up again") { try station.kinds().filter { $0 == .readerUp }.count == 2 }
        }
        // Unplugged mid-frame, then a new reader on the same path.
        try await withStation(configPath: config) { [sim] station in
            try await eventually("up") { try station.kinds().filter { $0 == .readerUp }.count == 3 }
            sim.garbage(Array(IDCardResponse(status: .success).frame.prefix(6)))
            sim.close()
            try await eventually("down after unplug") { try station.kinds().filter { $0 == .readerDown }.count == 2 }
            let replugged = try SimulatedIDCardReader(link: link)
            defer { replugged.close() }
            try await eventually("up after replug") { try station.kinds().filter { $0 == .readerUp }.count == 4 }
            try await replugged.swipe(zhang)
            try await eventually("reads after replug") { try station.kinds().contains(.checkIn) }
        }
        sim = try SimulatedIDCardReader(link: nil)
        sim.close()
    }

    @Test func aSilentReaderIsMarkedDown() async throws {
        let sim = try SimulatedIDCardReader(link: dir.file("door"))
        defer { sim.close() }
        let config = writeConfig(in: dir, readers: reader("door", "idcard-sam", dir.file("door")))
        try await withStation(configPath: config) { station in
            try await eventually("reader up") { try station.kinds().contains(.readerUp) }
            sim.setSilent(true)
            try await eventually("down after 5 s of silence", timeout: .seconds(20)) { try station.kinds().contains(.readerDown) }
            let down = try #require(try station.allEvents().first { $0.event.kind == .readerDown }).event
            #expect(down.detail?.contains("no valid answer for 5 s") == true)
        }
    }

    @Test func rdm6300LineAndHIDReaders() async throws {
        let rfid = try SimulatedRDM6300Reader(link: dir.file("rfid"))
        let line = try SimulatedLineReader(link: dir.file("line"))
        let hid = try SimulatedHIDReader(link: dir.file("hid"), preferUinput: false)
        defer { rfid.close(); line.close(); hid.close() }
        let config = writeConfig(in: dir, readers: reader("rfid", "rdm6300", dir.file("rfid")) + reader("line", "line", dir.file("line"))
                                 + reader("hid", "hid", dir.file("hid")))
        try await withStation(configPath: config) { station in
            try await eventually("three readers up") { try station.kinds().filter { $0 == .readerUp }.count == 3 }
            // The same EM4100 card at the RFID reader and typed by the HID reader: one card key.
            try await rfid.swipe("6480805")
            try await eventually("rfid check-in") { try station.kinds(reader: "rfid") .contains(.checkIn) }
            // Reads are stamped with the real clock, so the 1 s debounce must really pass.
            let checkIn = try #require(try station.allEvents().first { $0.event.kind == .checkIn }).event.time
            try await eventually("past the 1 s debounce") { Timestamp.now() > checkIn + .milliseconds(1100) }
            try await hid.swipe("0006480805")
            try await eventually("hid check-out of the same card") { try station.kinds(reader: "hid").contains(.checkOut) }
            try await line.swipe("12345678")
            try await eventually("line check-in") { try station.kinds(reader: "line").contains(.checkIn) }

            rfid.corruptNext()
            try await rfid.swipe("42")
            hid.corruptNext()
            try await hid.swipe("0000000042")
            line.garbage(Array(String(repeating: "9", count: 100).utf8) + [0x0A])
            try await eventually("three bad reads") {
                Set(try station.allEvents().filter { $0.event.kind == .badRead }.compactMap(\.event.reader)) == ["rfid", "hid", "line"]
            }
            let details = try station.allEvents().filter { $0.event.kind == .badRead }.compactMap(\.event.detail)
            #expect(details.contains { $0.hasPrefix("bad checksum") })
            #expect(details.contains("burst with 1 key(s) that are not digits or X"))
            #expect(details.contains("line longer than 64 bytes"))
        }
    }
}
