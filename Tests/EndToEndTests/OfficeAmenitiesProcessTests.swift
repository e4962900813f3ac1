import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
import YizhanCore

/// The office's amenity list with the real binaries: set for a region, it reaches a running
/// station in it; the station's kiosk and its heartbeat at the collector show the new list;
/// an amenity that stays keeps its status; removing the key brings back station.toml's.
extension OfficeSettingsProcessTests {
    func kioskAmenities(_ station: StationProcess) throws -> [[String: Any]] {
        let port = try #require(station.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).map { Int($0.1)! })
        let data = try #require(loopbackGet(port: port, path: "/kiosk/state"))
        let state = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return state["amenities"] as? [[String: Any]] ?? []
    }

    /// The station's amenities as its last heartbeat told the collector.
    func collectorAmenities(_ port: Int, station: String, token: String) async throws -> [String: String]? {
        let r = try await api(port, "/api/v1/stations", token: token)
        guard r.status == 200, let doc = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return nil }
        let row = (doc["stations"] as? [[String: Any]])?.first { $0["id"] as? String == station }
        return row?["amenities"] as? [String: String]
    }

    func putSettings(_ port: Int, _ query: String, token: String, _ body: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/settings?\(query)")!)
        request.httpMethod = "PUT"
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = Data(body.utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    @Test func aRegionsAmenityListReachesARunningStation() async throws {
        let port = freePort()
        let collectorConfig = s.file("collector-amenities.toml")
        FileManager.default.createFile(atPath: collectorConfig, contents: Data("""
            [http]
            listen = "127.0.0.1:\(port)"
            [storage]
            url = "sqlite://\(s.file("collector-amenities.db"))"
            """.utf8))
        let added = try run("yizhan-collector", ["station", "add", "--config", collectorConfig, "--id", "zs-a", "--name", "zs-a",
                                                 "--region", "浙江省/舟山市/普陀区"])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        let user = try runWithInput("yizhan-collector", ["user", "add", "--config", collectorConfig, "--name", "office", "--role", "office"],
                                    input: "correct horse battery\n")
        #expect(user.status == 0, "\(user.stderr)")
        let userToken = try #require(user.stdout.split(separator: "\n").last.map(String.init))

        let collector = try CollectorProcess(config: collectorConfig, logPath: s.file("collector-amenities.log"))
        defer { collector.kill9() }
        try await collector.waitUntilListening()
        let config = stationConfig("zs-a", port: port, token: token)
        let own = try String(contentsOfFile: config, encoding: .utf8)
        try (own + "\n[[amenities]]\nkind = \"microwave\"\n[[amenities]]\nkind = \"toilet\"\nid = \"toilet-2f\"\nname_en = \"Toilet (2F)\"\n")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let station = try StationProcess(config: config, logPath: s.file("zs-a.log"))
        defer { _ = station.terminate() }
        try await station.waitUntilServing()
        let broken = try ctl(config, ["amenity", "microwave", "out_of_order", "--note", "门关不上"])
        #expect(broken.status == 0, "\(broken.stderr)")
        try await eventuallyAsync("station.toml's amenities at the collector", timeout: .seconds(30)) {
            try await collectorAmenities(port, station: "zs-a", token: userToken) == ["microwave": "out_of_order", "toilet-2f": "ok"]
        }

        // Values are checked before they are stored, at the command line and the API.
        let typo = try run("yizhan-collector", ["settings", "set", "--config", collectorConfig, "--region", "浙江省", "amenities=microwave,charging"])
        #expect(typo.status != 0 && typo.stderr.contains("\"charging\" is not an amenity kind"), "\(typo.stderr)")
        let refused = try await putSettings(port, "region=%E6%B5%99%E6%B1%9F%E7%9C%81", token: userToken, #"{"settings": {"amenities": "sauna"}}"#)
        #expect(refused.status == 422 && refused.body.contains("\"bad_setting\""), "\(refused.body)")

        let set = try run("yizhan-collector", ["settings", "set", "--config", collectorConfig, "--region", "浙江省",
                                               "amenities=wifi, microwave,toilet"])
        #expect(set.status == 0, "\(set.stderr)")
        try await eventually("the office's list on the kiosk", timeout: .seconds(30)) {
            try kioskAmenities(station).compactMap { $0["id"] as? String } == ["wifi", "microwave", "toilet-2f"]
        }
        let kiosk = try kioskAmenities(station)
        #expect(kiosk[0]["status"] as? String == "ok" && kiosk[0]["name_zh"] as? String == "无线网络", "\(kiosk[0])")
        #expect(kiosk[1]["status"] as? String == "out_of_order", "the microwave keeps its status")
        #expect(kiosk[2]["name_en"] as? String == "Toilet (2F)", "station.toml's details for a listed kind")
        try await eventuallyAsync("the new list in the heartbeat", timeout: .seconds(30)) {
            try await collectorAmenities(port, station: "zs-a", token: userToken) == ["wifi": "ok", "microwave": "out_of_order", "toilet-2f": "ok"]
        }
        let shown = try run("yizhan-collector", ["settings", "show", "--config", collectorConfig, "--station", "zs-a"])
        #expect(shown.stdout.contains("amenities=wifi,microwave,toilet") && shown.stdout.contains("in sync"), "\(shown.stdout)")

        // null through the API removes the key: station.toml's list again.
        let removed = try await putSettings(port, "region=%E6%B5%99%E6%B1%9F%E7%9C%81", token: userToken, #"{"settings": {"amenities": null}}"#)
        #expect(removed.status == 200, "\(removed.body)")
        try await eventually("station.toml's list back on the kiosk", timeout: .seconds(30)) {
            try kioskAmenities(station).compactMap { $0["id"] as? String } == ["microwave", "toilet-2f"]
        }
        try await eventuallyAsync("station.toml's list in the heartbeat", timeout: .seconds(30)) {
            try await collectorAmenities(port, station: "zs-a", token: userToken) == ["microwave": "out_of_order", "toilet-2f": "ok"]
        }
    }
}
