import Foundation
import Testing
import YizhanCore
import YizhanSimulator
#if canImport(Glibc)
import Glibc
#endif

@Suite(.serialized) struct StationProcessTests {
    let s = Scratch()

    @Test func readyWatchdogAndStoppingReachSystemd() async throws {
        let notify = try NotifySocket(path: s.file("notify.sock"))
        let sim = try SimulatedIDCardReader(link: s.file("door"))
        defer { sim.close() }
        let config = writeStationConfig(s, readers: [("door", "idcard-sam", s.file("door"))])
        let started = ContinuousClock.now
        let station = try StationProcess(config: config, logPath: s.file("station.log"),
                                         environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "1000000"])
        var messages: [String] = []
        while let m = notify.receive(timeoutMilliseconds: 15_000) {
            messages.append(m)
            if m.contains("READY=1") { break }
        }
        #expect(messages.last?.hasPrefix("READY=1") == true, "READY=1 after the store is open and readers are watched")
        print("start to READY (debug build, under test load): \(ContinuousClock.now - started)")
        // The watchdog is pinged while the loops make progress (every 0.5 s for WATCHDOG_USEC=1 s).
        var pings = 0
        while pings < 2, let m = notify.receive(timeoutMilliseconds: 5000) { if m == "WATCHDOG=1" { pings += 1 } }
        #expect(pings == 2)
        #expect(station.terminate() == 0)
        var rest: [String] = []
        while let m = notify.receive(timeoutMilliseconds: 500) { rest.append(m) }
        #expect(rest.contains("STOPPING=1"))
    }

    @Test func visitsThroughTheRealBinariesAndTheCLIContracts() async throws {
        let door = try SimulatedIDCardReader(link: s.file("door"))
        let rfid = try SimulatedRDM6300Reader(link: s.file("rfid"))
        defer { door.close(); rfid.close() }
        let config = writeStationConfig(s, readers: [("door", "idcard-sam", s.file("door")), ("rfid", "rdm6300", s.file("rfid"))],
                                        tables: "[[amenities]]\nkind = \"microwave\"\n[[amenities]]\nkind = \"toilet\"\n")
        let station = try StationProcess(config: config, logPath: s.file("station.log"))
        try await station.waitUntilServing()
        try await eventually("readers up") { try logLines(config).filter { $0["kind"] as? String == "reader_up" }.count == 2 }

        door.present(number: "11010519491231002X", name: "张三丰")
        try await Task.sleep(for: .milliseconds(1200))
        door.remove()
        rfid.present(number: "6480805", name: "")
        try await Task.sleep(for: .milliseconds(400))
        rfid.remove()
        try await eventually("two check-ins") { try logLines(config, ["--kind", "check_in"]).count == 2 }

        let lines = try logLines(config)
        for line in lines {
            for key in ["seq", "time", "kind", "card_key", "card_hint", "reader", "occupancy"] {
                #expect(line.keys.contains(key), "\(key) missing in \(line)")
            }
            let time = try #require(line["time"] as? String)
            #expect(RFC3339.parse(time, defaultOffset: .utc) != nil, "RFC 3339: \(time)")
        }
        #expect(lines.map { $0["seq"] as! Int } == Array(1...lines.count))
        let checkIn = try #require(lines.first { $0["kind"] as? String == "check_in" && $0["reader"] as? String == "door" })
        #expect(checkIn["card_hint"] as? String == "1101**********002X")
        #expect((checkIn["card_key"] as? String)?.count == 64)
        // --card takes the raw number and finds the same card key.
        let mine = try logLines(config, ["--card", "11010519491231002x"])
        #expect(mine.count == 1 && mine[0]["card_key"] as? String == checkIn["card_key"] as? String)

        let status = try ctl(config, ["status", "--format", "json"])
        #expect(status.status == 0, "\(status.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        #expect(json["station_id"] as? String == "pt-e2e-01")
        #expect(json["occupancy"] as? Int == 2)
        #expect(json["capacity"] as? Int == 500)
        let readers = try #require(json["readers"] as? [[String: Any]])
        #expect(readers.map { $0["name"] as? String } == ["door", "rfid"])
        #expect(readers.allSatisfy { $0["state"] as? String == "up" && ($0["device"] as? String)?.hasPrefix(s.path) == true })
        let uplink = try #require(json["uplink"] as? [String: Any])
        #expect(uplink["backlog"] != nil && uplink["last_ack"] != nil)

        let csv = try run("yizhanctl", ["log", "--format", "csv", "--config", config])
        #expect(csv.stdout.hasPrefix("seq,time,kind,card_key,card_hint,reader,occupancy,stay_seconds,detail\n"))
        let table = try ctl(config, ["log"])
        #expect(table.stdout.contains("1101**********002X"))

        // Amenities: the board, a change with a note, refusals with a clear message.
        let broken = try ctl(config, ["amenity", "microwave", "out_of_order", "--note", "门关不上"])
        #expect(broken.status == 0 && broken.stdout.contains("microwave: out_of_order"), "\(broken.stderr)")
        let board = try ctl(config, ["amenity"])
        #expect(board.stdout.contains("微波炉 Microwave") && board.stdout.contains("out_of_order") && board.stdout.contains("门关不上"))
        let unknown = try ctl(config, ["amenity", "sauna", "ok"])
        #expect(unknown.status == 1 && unknown.stderr.contains("no amenity \"sauna\" is configured"), "\(unknown.stderr)")
        let badStatus = try ctl(config, ["amenity", "toilet", "broken"])
        #expect(badStatus.status == 1 && badStatus.stderr.contains("status must be ok, degraded, out_of_order or closed"))
        let detail = try logLines(config, ["--kind", "amenity"]).first?["detail"] as? String ?? ""
        #expect(detail.hasPrefix("amenity=microwave status=out_of_order by=") && detail.hasSuffix(" note=门关不上"), "\(detail)")
        #expect(try logLines(config, ["--kind", "amenity"]).count == 1)

        let closed = try ctl(config, ["checkout-all", "--format", "json"])
        #expect(closed.stdout.contains("\"checked_out\":2"), "\(closed.stdout) \(closed.stderr)")
        let after = try ctl(config, ["status", "--format", "json"])
        #expect(after.stdout.contains("\"occupancy\":0"))
        #expect(try logLines(config, ["--last", "1"]).first?["kind"] as? String == "day_closed")

        #expect(station.terminate() == 0)
        // Nothing raw on disk or in the daemon's log.
        for file in try FileManager.default.contentsOfDirectory(atPath: s.file("data")).map({ s.file("data/" + $0) }) + [station.logPath] {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            for secret in ["11010519491231002X", "6480805", "张三丰"] {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) found in \(file)")
                #expect(data.range(of: secret.data(using: .utf16LittleEndian)!) == nil, "\(secret) found in \(file)")
            }
        }
    }

    @Test func killDashNineMidBurstLosesNothingCommitted() async throws {
        let line = try SimulatedLineReader(link: s.file("line"))
        defer { line.close() }
        let config = writeStationConfig(s, readers: [("counter", "line", s.file("line"))], extra: "when_full = \"admit\"")
        let first = try StationProcess(config: config, logPath: s.file("first.log"))
        try await first.waitUntilServing()
        try await eventually("reader up") { try logLines(config).contains { $0["kind"] as? String == "reader_up" } }

        // A burst of swipes by 200 different cards, some twice (check-outs), while we kill the daemon.
        let burst = Task.detached {
            for i in 0..<600 {
                line.present(number: String(100_000 + (i % 200)), name: "")
                try? await Task.sleep(for: .milliseconds(2))
            }
        }
        try await eventually("part of the burst committed") { try logLines(config, ["--kind", "check_in"]).count >= 40 }
        let seenBeforeKill = try logLines(config)
        first.kill9()
        await burst.value

        let second = try StationProcess(config: config, logPath: s.file("second.log"))
        try await second.waitUntilServing()
        let afterRestart = try logLines(config)
        // Everything a client saw committed before the kill is still there, unchanged.
        for (before, after) in zip(seenBeforeKill, afterRestart) {
            #expect(before["seq"] as? Int == after["seq"] as? Int)
            #expect(before["kind"] as? String == after["kind"] as? String)
            #expect(before["card_key"] as? String == after["card_key"] as? String)
        }
        #expect(afterRestart.count > seenBeforeKill.count - 1)
        #expect(afterRestart.map { $0["seq"] as! Int } == Array(1...afterRestart.count), "the sequence stays contiguous")
        // Occupancy after the restart is what the log says.
        var inside = Set<String>()
        for e in afterRestart {
            switch e["kind"] as? String {
            case "check_in": inside.insert(e["card_key"] as! String)
            case "check_out", "auto_check_out": inside.remove(e["card_key"] as! String)
            default: break
            }
        }
        let lastVisit = try #require(afterRestart.last { ["check_in", "check_out"].contains($0["kind"] as? String) })
        #expect(lastVisit["occupancy"] as? Int == inside.count)
        let status = try ctl(config, ["status", "--format", "json"])
        #expect(status.stdout.contains("\"occupancy\":\(inside.count),"), "\(status.stdout)")
        #expect(second.terminate() == 0)
    }

    @Test func theSimulateCommandDrivesARunningStation() async throws {
        let config = writeStationConfig(s, readers: [("wedge", "hid", s.file("wedge.fifo")), ("counter", "line", s.file("line"))])
        let station = try StationProcess(config: config, logPath: s.file("station.log"))
        try await station.waitUntilServing()
        // Interactive mode: commands typed on standard input once the readers are up.
        let hid = try InteractiveTool("yizhanctl", ["simulate", "hid", "--fifo", "--link", s.file("wedge.fifo")])
        let line = try InteractiveTool("yizhanctl", ["--config", config, "simulate", "line", "--reader", "counter"])
        try await eventually("both simulated readers up") {
            try logLines(config).filter { $0["kind"] as? String == "reader_up" }.count == 2
        }
        hid.type("swipe 0006480805\ncorrupt\nswipe 0000000001\nwait 0.5\n")
        line.type("swipe 12345678\ngarbage 07 07 0a\nwait 0.5\n")
        let (h, l) = (hid.finish(), line.finish())  // end of input: the readers are unplugged
        #expect(h.status == 0, "\(h.stderr)")
        #expect(l.status == 0, "\(l.stderr)")
        #expect(h.stderr.contains("sim: swiped ******0805"))
        do {
            try await eventually("visits, bad reads and unplugs") {
                let lines = try logLines(config)
                return lines.filter { $0["kind"] as? String == "check_in" }.count == 2
                    && lines.filter { $0["kind"] as? String == "bad_read" }.count == 2
                    && lines.filter { $0["kind"] as? String == "reader_down" }.count == 2
            }
        } catch {
            let log = try ctl(config, ["log"])
            print("station log on failure:\n\(log.stdout)\(log.stderr)\ndaemon:\n\(station.log)\nsimulators:\n\(h.stderr)\n\(l.stderr)")
            throw error
        }
        #expect(station.terminate() == 0)
    }

    @Test func badConfigurationsFailFastWithFileAndLine() throws {
        let bad = s.file("bad.toml")
        FileManager.default.createFile(atPath: bad, contents: Data("[station]\nid = \"x\"\ncapacity = 3\ncapasity = 4\n[privacy]\nregion_key_file = \"/k\"\n".utf8))
        let r = try run("yizhan-station", ["--config", bad])
        #expect(r.status == 78)
        #expect(r.stderr == "yizhan-station: \(bad):4: [station]: unknown key \"capasity\" (expected one of: capacity, data_dir, id, name, pinned_settings, utc_offset)\n")

        FileManager.default.createFile(atPath: bad, contents: Data([0xFF, 0xFE, 0x00, 0x5B]))
        let binary = try run("yizhan-station", ["--config", bad])
        #expect(binary.status == 78)
        #expect(binary.stderr.hasPrefix("yizhan-station: \(bad)"))

        let missingKey = writeStationConfig(s, readers: [])
        try FileManager.default.removeItem(atPath: s.file("region.key"))
        let noKey = try run("yizhan-station", ["--config", missingKey, "--check-config"])
        #expect(noKey.status == 78)
        #expect(noKey.stderr.contains("region_key_file: cannot read"))

        let unreadable = try run("yizhan-station", ["--config", s.file("nope.toml")])
        #expect(unreadable.status == 78)
        #expect(unreadable.stderr.contains("cannot read the configuration file"))

        // yizhanctl without a daemon says what to do.
        let config = writeStationConfig(s, readers: [])
        let offline = try ctl(config, ["status"])
        #expect(offline.status == 1)
        #expect(offline.stderr.contains("cannot reach yizhan-station"), "\(offline.stderr)")
        #expect(offline.stderr.contains("is the daemon running?"))
    }

    @Test func theSystemdUnitAndPackagingVerify() throws {
        let r = try run("/bin/bash", [repositoryRoot + "/scripts/verify-units.sh", binDir])
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("OK"))
    }
}
