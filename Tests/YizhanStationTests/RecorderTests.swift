import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import YizhanCore
import YizhanSimulator
@testable import YizhanStation

@Suite(.serialized) struct RecorderTests {
    let dir = TemporaryDirectory()

    func card(_ i: Int) -> NormalizedCardNumber { NormalizedCardNumber(String(1_000_000 + i)) }

    @Test func liveStateIsRebuiltFromTheLogAfterARestart() async throws {
        let config = writeConfig(in: dir, readers: "", visits: "debounce_seconds = 0")
        let before = try await withStation(configPath: config) { station in
            for i in 0..<6 { station.recorder.reader("door", signalled: .card(card(i), displayName: nil), at: .now()) }
            for i in [1, 3] { station.recorder.reader("door", signalled: .card(card(i), displayName: nil), at: .now()) }
            try await eventually("8 visits") { try station.kinds().filter { $0.changesOccupancy }.count == 8 }
            return (station.recorder.snapshot.occupancy, station.recorder.inside)
        }
        #expect(before.0 == 4)
        try await withStation(configPath: config) { station in
            #expect(station.recorder.snapshot.occupancy == 4)
            #expect(station.recorder.inside == before.1)
            // The next swipe of someone inside is a check-out, not a second check-in.
            station.recorder.reader("door", signalled: .card(card(0), displayName: nil), at: .now())
            try await eventually("check-out after restart") { try station.kinds().filter { $0 == .checkOut }.count == 3 }
            #expect(station.recorder.snapshot.occupancy == 3)
        }
    }

    @Test func aFullDiskHoldsSwipesAndCommitsThemInOrderWhenSpaceReturns() async throws {
        let config = writeConfig(in: dir, readers: "", visits: "debounce_seconds = 0", capacity: 1000)
        try await withStation(configPath: config) { station in
            try await eventually("started") { try station.kinds().contains(.stationStarted) }
            try station.store.setMaximumPageCount(try station.store.pageCount())
            for i in 0..<300 { station.recorder.reader("door", signalled: .card(card(i), displayName: nil), at: .now()) }
            try await eventually("store error reported") { station.recorder.snapshot.storeError != nil }
            #expect(station.recorder.snapshot.storeError?.contains("full") == true)
            let healthz = try await get(station, "/healthz")
            #expect(healthz.status == 503)
            #expect(healthz.body.contains("\"status\":\"failing\""))
            let committedWhileFull = try station.allEvents().count
            // Closing the day while the log cannot be written answers with the error, not never.
            await #expect(throws: (any Error).self) { try await station.recorder.closeDay(by: "test") }

            try station.store.setMaximumPageCount(1_000_000)
            try await eventually("all swipes committed") { try station.kinds().filter { $0 == .checkIn }.count == 300 }
            #expect(station.recorder.snapshot.storeError == nil)
            let events = try station.allEvents()
            #expect(events.map(\.seq) == Array(1...Int64(events.count)), "contiguous")
            #expect(events.count >= committedWhileFull + 1)
            #expect(station.recorder.snapshot.occupancy == 300)
            #expect(try await get(station, "/healthz").status == 200)
        }
    }

    @Test func noRawNumberOrNameReachesTheDataDirectoryOrTheLogs() async throws {
        let sim = try SimulatedIDCardReader(link: dir.file("door"))
        let rfid = try SimulatedRDM6300Reader(link: dir.file("rfid"))
        defer { sim.close(); rfid.close() }
        let logs = LogRecorder()
        let config = writeConfig(in: dir, readers: reader("door", "idcard-sam", dir.file("door")) + reader("rfid", "rdm6300", dir.file("rfid")))
        let secrets = ["11010519491231002X", "330903199003074570", "110105194912310021", "0006480805", "6480805", "张三丰", "李四光"]
        try await withStation(configPath: config, logs: logs) { station in
            try await eventually("readers up") { try station.kinds().filter { $0 == .readerUp }.count == 2 }
            try await sim.swipe(secrets[0], name: secrets[5])
            try await eventually("one") { try station.kinds().contains(.checkIn) }
            try await sim.swipe(secrets[1], name: secrets[6])
            try await sim.swipe(secrets[2], name: secrets[5])  // bad check digit
            try await rfid.swipe(secrets[4])
            try await eventually("all") { try station.kinds().filter { $0 == .checkIn }.count == 3 && station.kinds().contains(.badRead) }
        }
        var files: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: dir.file("data"))!
        while let f = enumerator.nextObject() as? String { files.append(dir.file("data/") + f) }
        #expect(files.contains { $0.hasSuffix("station.db") })
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else { continue }
            for secret in secrets {
                #expect(data.range(of: Data(secret.utf8)) == nil, "\(secret) in \(file)")
                #expect(data.range(of: secret.data(using: .utf16LittleEndian)!) == nil, "\(secret) (UTF-16) in \(file)")
            }
        }
        let text = logs.all.joined(separator: "\n")
        #expect(text.contains("check_in"))
        for secret in secrets { #expect(!text.contains(secret), "\(secret) in the logs") }
    }

    @Test func httpOverTCPServesHealthAndMetricsButNotTheAPI() async throws {
        let config = writeConfig(in: dir, readers: "", visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            station.recorder.reader("door", signalled: .card(card(1), displayName: nil), at: .now())
            try await eventually("check-in") { try station.kinds().contains(.checkIn) }
            let health = try await get(station, "/healthz")
            #expect(health.status == 200)
            #expect(health.body.contains("\"status\":\"ok\""))
            let metrics = try await get(station, "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.body.contains("yizhan_events_total{kind=\"check_in\"}"))
            #expect(metrics.body.contains("yizhan_occupancy"))
            for path in ["/api/v1/status", "/api/v1/events"] {
                let refused = try await get(station, path)
                #expect(refused.status == 401)
                #expect(refused.body.contains("\"error\":\"login_required\""))
            }
        }
    }
}

/// GET over the station's TCP listener (port 0: read the bound port from the log line's source, the runtime).
func get(_ station: StationRuntime, _ path: String) async throws -> (status: Int, body: String) {
    let port = try #require(station.boundTCPPort)
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(10))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), String(buffer: body))
}
