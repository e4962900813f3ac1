import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import YizhanCore
import YizhanSimulator

/// The finder with the real binaries: a collector process with stations around a point,
/// heartbeats over HTTP; a phone-sized Chromium that uses the geolocation button; and the
/// kiosk of a full station that lists its neighbours, also after a restart with the link down.
@Suite(.serialized) struct FinderEndToEndTests {
    let s = Scratch()
    static let lat = 29.95, lon = 122.30
    // id, metres north (0.001° ≈ 111 m), occupancy of 6, open, microwave
    static let world: [(String, Double, Int, Bool, String)] = [
        ("fe-closed", 0.0004, 0, false, "ok"),
        ("fe-full", 0.001, 6, true, "ok"),
        ("fe-broken", 0.002, 1, true, "out_of_order"),
        ("fe-micro", 0.0054, 2, true, "ok"),
        ("fe-far", 0.02, 0, true, "ok"),
    ]

    /// A collector on port 0 with the world's stations (added with the CLI), and their tokens.
    func startCollector(extraStations: [(id: String, north: Double)] = []) async throws -> (CollectorProcess, Int, String, [String: String]) {
        let config = s.file("collector.toml")
        FileManager.default.createFile(atPath: config, contents: Data("""
            [http]
            listen = "127.0.0.1:0"
            [storage]
            url = "sqlite://\(s.file("collector.db"))"
            """.utf8))
        var tokens: [String: String] = [:]
        for (id, north) in Self.world.map({ ($0.0, $0.1) }) + extraStations.map({ ($0.id, $0.north) }) {
            let added = try run("yizhan-collector", ["station", "add", "--config", config, "--id", id, "--name", "驿站 \(id)", "--capacity", "6",
                                                     "--region", "浙江省/舟山市/普陀区", "--address", "沈家门 \(id) 号",
                                                     "--lat", String(Self.lat + north), "--lon", String(Self.lon)])
            #expect(added.status == 0, "\(added.stderr)")
            tokens[id] = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        }
        let collector = try CollectorProcess(config: config, logPath: s.file("collector.log"))
        let port = try await collector.listeningPort()
        return (collector, port, config, tokens)
    }

    func heartbeats(port: Int, tokens: [String: String]) async throws {
        for (id, _, occupancy, open, microwave) in Self.world {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest/heartbeat")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(tokens[id]!)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let body = #"{"station_id":"\#(id)","time":"\#(RFC3339.format(.now(), offset: .china))","occupancy":\#(occupancy),"capacity":6,"open":\#(open),"readers":[],"amenities":{"microwave":"\#(microwave)"},"backlog":0,"last_ack":0,"last_seq":0,"version":"e2e","opening_hours":["06:00-23:00"]}"#
            let (_, response) = try await URLSession.shared.upload(for: request, from: Data(body.utf8))
            #expect((response as? HTTPURLResponse)?.statusCode == 200)
        }
    }

    @Test(.enabled(if: chromiumPath != nil, "needs chromium (make deps installs it)"))
    func aPhoneFindsTheNearestOpenStationWithRoomAndAWorkingMicrowave() async throws {
        let (collector, port, _, tokens) = try await startCollector()
        defer { collector.kill9() }
        try await heartbeats(port: port, tokens: tokens)
        let base = "http://127.0.0.1:\(port)"
        // Without JavaScript: a plain GET with the position returns the list.
        try await eventually("the index to hold the heartbeats") {
            String(decoding: loopbackGet(port: port, path: "/find?lat=\(Self.lat)&lon=\(Self.lon)&amenity=microwave") ?? Data(), as: UTF8.self)
                .contains("驿站 fe-micro")
        }
        try await DevToolsPage.with(width: 360, height: 640) { page in
            // The position the phone will report, and the permission a worker would give.
            _ = try? await page.call("Browser.grantPermissions", ["origin": base, "permissions": ["geolocation"]])
            try await page.call("Emulation.setGeolocationOverride", ["latitude": Self.lat, "longitude": Self.lon, "accuracy": 10])
            try await page.navigate(base + "/find?amenity=microwave")
            try await page.waitFor("document.readyState === 'complete' && !document.getElementById('locate').hidden")
            _ = try await page.evaluate("document.getElementById('locate').click()")
            try await page.waitFor("location.search.includes('lat=') && document.querySelectorAll('#stations li').length > 0")
            let first = try await page.string("document.querySelector('#stations li .name').textContent")
            #expect(first == "驿站 fe-micro", "the nearest open station with room and a working microwave comes first")
            let listed = try await page.evaluate("[...document.querySelectorAll('#stations li .name')].map(e => e.textContent)") as? [String] ?? []
            #expect(!listed.contains("驿站 fe-full") && !listed.contains("驿站 fe-closed") && !listed.contains("驿站 fe-broken"), "\(listed)")
            let others = try await page.evaluate("[...document.querySelectorAll('#others li .name')].map(e => e.textContent)") as? [String] ?? []
            #expect(others.first == "驿站 fe-full", "the full station only after the ones with room: \(others)")
            #expect(try await page.string("location.search").contains("lat=29.95000&lon=122.30000"))
            // Fits the phone: nothing wider than the screen.
            #expect(try await page.evaluate("document.documentElement.scrollWidth <= 360") as? Bool == true)
            // No cookie, and no request left the machine.
            #expect(try await page.string("document.cookie") == "")
            let cookies = try await page.call("Network.getCookies")["cookies"] as? [Any] ?? []
            #expect(cookies.isEmpty, "\(cookies)")
            #expect(!page.requests.isEmpty && page.requests.allSatisfy { $0.hasPrefix(base + "/") }, "\(page.requests)")
            let shot = s.file("finder-360x640.png")
            try await page.screenshot(to: shot)
            keepScreenshot(shot)
        }
        #expect(!collector.log.contains("29.95"), "the position is not logged")
    }

    /// A station of capacity 1 reporting to the collector: full after one swipe, its kiosk
    /// lists the nearest open stations with room; restarted with the collector gone, the
    /// list is still there.
    @Test func theKioskOfAFullStationListsItsNeighbours() async throws {
        let (collector, port, _, tokens) = try await startCollector(extraStations: [(id: "pt-kiosk", north: 0)])
        defer { collector.kill9() }
        try await heartbeats(port: port, tokens: tokens)
        let line = try SimulatedLineReader(link: s.file("line"))
        defer { line.close() }
        let stationConfig = writeStationConfig(s, readers: [("door", "line", s.file("line"))], id: "pt-kiosk", name: "满员站", capacity: 1,
                                               uplink: (port, tokens["pt-kiosk"]!))
        var station = try StationProcess(config: stationConfig, logPath: s.file("station.log"))
        try await station.waitUntilServing()
        func kioskPort() throws -> Int {
            try #require(station.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).flatMap { Int($0.1) })
        }
        func state() throws -> [String: Any] {
            let data = try #require(loopbackGet(port: try kioskPort(), path: "/kiosk/state"))
            return try JSONSerialization.jsonObject(with: data) as! [String: Any]
        }
        func onward() throws -> [String] { ((try state()["onward"] as? [[String: Any]]) ?? []).compactMap { $0["id"] as? String } }
        // Not full: no list on the kiosk, though the station has received one.
        try await eventually("the onward list kept", timeout: .seconds(30)) { FileManager.default.fileExists(atPath: s.file("data/onward.json")) }
        #expect(try onward().isEmpty)
        try await eventually("reader up") { try logLines(stationConfig).contains { $0["kind"] as? String == "reader_up" } }
        line.present(number: "20261124", name: "")
        try await eventually("full") { try state()["full"] as? Bool == true }
        try await eventually("the neighbours on the kiosk", timeout: .seconds(30)) { try onward() == ["fe-broken", "fe-micro", "fe-far"] }
        let first = try #require((try state()["onward"] as? [[String: Any]])?.first)
        #expect(first["name"] as? String == "驿站 fe-broken" && first["walk_minutes"] as? Int == 4 && first["free_seats"] as? Int == 5)

        // The link down and the station restarted: the last list is still shown.
        collector.kill9()
        _ = station.terminate()
        station = try StationProcess(config: stationConfig, logPath: s.file("station-2.log"))
        try await station.waitUntilServing()
        try await eventually("full again after the restart") { try state()["full"] as? Bool == true }
        #expect(try onward() == ["fe-broken", "fe-micro", "fe-far"])
        _ = station.terminate()
    }
}
