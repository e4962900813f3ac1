import Foundation
import Testing
import YizhanCore
@testable import YizhanStation

@Suite(.serialized) struct UplinkTests {
    let dir = TemporaryDirectory()

    func config(collector: String, extra: String = "") -> String {
        FileManager.default.createFile(atPath: dir.file("station.token"), contents: Data("station-secret\n".utf8))
        let base = writeConfig(in: dir, readers: "", visits: "debounce_seconds = 0\nwhen_full = \"admit\"")
        return (try! String(contentsOfFile: base, encoding: .utf8)) + """

            [uplink]
            collector = "\(collector)"
            token_file = "\(dir.file("station.token"))"
            heartbeat_seconds = 5
            batch_events = 50
            backoff_cap_seconds = 2
            \(extra)
            """
    }

    func writeConfigFile(_ text: String) -> String {
        let path = dir.file("station.toml")
        FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func swipe(_ station: StationRuntime, _ i: Int) {
        station.recorder.reader("door", signalled: .card(NormalizedCardNumber(String(1_000_000 + i)), displayName: nil), at: .now())
    }

    @Test func everyEventArrivesOnceInOrderGzippedWithTheToken() async throws {
        let collector = try await CollectorDouble()
        defer { Task { await collector.stop() } }
        let path = writeConfigFile(config(collector: collector.url))
        try await withStation(configPath: path) { station in
            for i in 0..<120 { swipe(station, i) }
            try await eventually("all events at the collector") {
                let last = station.recorder.snapshot.lastSeq
                return last >= 121 && collector.receivedSeqs == Array(1...last)
            }
            let s = collector.state.withLock { $0 }
            #expect(s.gzipped)
            #expect(!s.sawHints, "card hints stay at the station")
            #expect(s.batches.allSatisfy { $0.count <= 50 }, "batch_events honoured")
            #expect(s.batches.flatMap { $0 } == Array(1...Int64(s.batches.flatMap { $0 }.count)), "in order, no repeats")
            try await eventually("status idle") { station.status().uplink.state == .idle }
            #expect(station.status().uplink.backlog == 0)
            #expect(try station.store.acknowledged() == station.recorder.snapshot.lastSeq)
            try await eventually("a heartbeat") { !collector.state.withLock { $0.heartbeats.isEmpty } }
            let hb = try #require(collector.state.withLock { $0.heartbeats.last })
            #expect(hb.stationID == "pt-test-01")
            #expect(hb.capacity == 10)
            #expect(hb.version == YizhanVersion.current)
            #expect(hb.openingHours == station.recorder.policy.hours.specs && hb.openingHours?.isEmpty == false)
        }
    }

    @Test func aCollectorDownForAWhileGetsEverythingWhenItReturns() async throws {
        // Nothing listens on this port at first.
        let probe = try await CollectorDouble()
        let url = probe.url
        await probe.stop()
        let path = writeConfigFile(config(collector: url))
        try await withStation(configPath: path) { station in
            for i in 0..<30 { swipe(station, i) }
            try await eventually("retrying") { station.status().uplink.state == .retrying }
            #expect(station.status().uplink.backlog >= 30)
            #expect(station.status().uplink.retried >= 1)
            // The collector comes back (same address).
            let port = Int(url.split(separator: ":").last!)!
            let back = try await CollectorDouble.onPort(port)
            defer { Task { await back.stop() } }
            try await eventually("drained after the outage", timeout: .seconds(30)) {
                station.status().uplink.backlog == 0 && back.receivedSeqs.count == Int(station.recorder.snapshot.lastSeq)
            }
        }
    }

    @Test func aWrongTokenStopsSendingUntilTheTokenFileChanges() async throws {
        let collector = try await CollectorDouble()
        defer { Task { await collector.stop() } }
        collector.state.withLock { $0.token = "the-right-one" }
        let path = writeConfigFile(config(collector: collector.url))
        try await withStation(configPath: path) { station in
            swipe(station, 1)
            try await eventually("stopped") { station.status().uplink.state == .stopped }
            #expect(station.status().uplink.detail?.contains("refused the token") == true)
            let attempts = collector.state.withLock { $0.requestTimes.count }
            try await Task.sleep(for: .seconds(1))
            #expect(collector.state.withLock { $0.requestTimes.count } == attempts, "no hammering with a refused token")
            FileManager.default.createFile(atPath: dir.file("station.token"), contents: Data("the-right-one\n".utf8))
            try await eventually("resumed with the new token", timeout: .seconds(30)) {
                !collector.receivedSeqs.isEmpty && station.status().uplink.backlog == 0
            }
        }
    }

    @Test func tooLargeSplitsAndAnInvalidEventIsQuarantinedWithoutBlockingTheRest() async throws {
        let collector = try await CollectorDouble()
        defer { Task { await collector.stop() } }
        collector.state.withLock { $0.maxEvents = 20; $0.rejectSeq = 7 }
        let path = writeConfigFile(config(collector: collector.url))
        try await withStation(configPath: path) { station in
            for i in 0..<60 { swipe(station, i) }
            try await eventually("everything but seq 7") {
                let last = station.recorder.snapshot.lastSeq
                return last >= 61 && collector.receivedSeqs == Array(1...last).filter { $0 != 7 }
            }
            #expect(station.status().uplink.quarantined == 1)
            #expect(try station.store.quarantinedCount() == 1)
            #expect(collector.state.withLock { $0.batches.allSatisfy { $0.count <= 20 } })
        }
    }

    @Test func retryAfterIsHonoured() async throws {
        let collector = try await CollectorDouble()
        defer { Task { await collector.stop() } }
        collector.state.withLock { $0.faults = [503]; $0.retryAfter = "1" }
        let path = writeConfigFile(config(collector: collector.url))
        try await withStation(configPath: path) { station in
            swipe(station, 1)
            try await eventually("delivered after the 503") { collector.receivedSeqs.count >= 1 }
            let times = collector.state.withLock { $0.requestTimes }
            #expect(times.count >= 2)
            #expect(times[1] - times[0] >= .milliseconds(950), "waited for Retry-After: 1")
        }
    }

    @Test func theAcknowledgedWatermarkSurvivesARestart() async throws {
        let collector = try await CollectorDouble()
        defer { Task { await collector.stop() } }
        let path = writeConfigFile(config(collector: collector.url))
        try await withStation(configPath: path) { station in
            for i in 0..<10 { swipe(station, i) }
            try await eventually("sent") { station.status().uplink.backlog == 0 && collector.receivedSeqs.count >= 11 }
        }
        let batchesBefore = collector.state.withLock { $0.batches.flatMap { $0 } }
        try await withStation(configPath: path) { station in
            swipe(station, 99)
            try await eventually("the new events only") { station.status().uplink.backlog == 0 && station.status().uplink.sent >= 1 }
            let sentAfter = collector.state.withLock { $0.batches.flatMap { $0 } }.dropFirst(batchesBefore.count)
            #expect(!sentAfter.isEmpty)
            #expect(sentAfter.allSatisfy { $0 > batchesBefore.max()! }, "nothing acknowledged is sent again")
        }
    }

    @Test func retentionPurgesOnlyAcknowledgedOldEvents() throws {
        let store = try EventStore(path: dir.file("r.db"), stationID: "r")
        let old = Timestamp.now() - .seconds(40 * 86_400)
        let events = (0..<10).map { StationEvent(time: old + .seconds(Int64($0)), kind: .badRead, occupancy: 0) }
        try store.append(events)
        try store.append([StationEvent(time: .now(), kind: .badRead, occupancy: 0)])
        try store.setAcknowledged(6)
        try store.quarantine(first: 3, last: 3, reason: "test", now: .now())
        #expect(try store.purgeAcknowledged(before: .now() - .seconds(30 * 86_400)) == 5)  // 1,2,4,5,6
        var q = EventStore.Query()
        q.limit = 100
        #expect(try store.events(q).map(\.seq) == [3, 7, 8, 9, 10, 11])
        try store.setAcknowledged(2)  // never moves backwards
        #expect(try store.acknowledged() == 6)
        #expect(try store.lastSeq() == 11)
    }
}

extension CollectorDouble {
    /// A collector on a given port (to come back where a station expects it).
    static func onPort(_ port: Int) async throws -> CollectorDouble {
        try await CollectorDouble(port: port)
    }
}
