import AsyncHTTPClient
import Foundation
import Testing
import YizhanCore
@testable import YizhanCollector

/// The office → stations API on a live collector: settings (set, checked, scoped by the
/// user's region, resolved for a station), the heartbeat answer, notices and the audit log.
@Suite struct OfficeAPITests {
    func station(_ store: SQLiteCollectorStore, _ id: String, _ region: String) async throws -> String {
        let token = Tokens.generate(prefix: "yzs_")
        try await store.addStation(StationRecord(id: id, name: id + "站", region: RegionPath(parsing: region)!, capacity: 10), tokenHash: Tokens.hash(token))
        return token
    }

    func user(_ store: SQLiteCollectorStore, _ name: String, role: UserRole = .office, region: String? = nil, stations: [String] = []) async throws -> String {
        let token = Tokens.generate(prefix: "yzu_")
        try await store.addUser(UserRecord(name: name, role: role, stations: stations, region: region.flatMap(RegionPath.init(parsing:))),
                                passwordHash: "x", tokenHash: Tokens.hash(token))
        return token
    }

    func heartbeat(_ url: String, _ id: String, token: String, applied: Int64? = nil, error: String? = nil) async throws -> HeartbeatAnswer {
        var hb = Heartbeat(stationID: id, time: RFC3339.format(.now(), offset: .china), occupancy: 0, capacity: 10, open: true,
                           readers: [], amenities: [:], backlog: 0, lastAck: 0, lastSeq: 0, version: "t")
        hb.settingsRevision = applied
        hb.settingsError = error
        let reply = try await post(url + "/api/v1/ingest/heartbeat", token: token, body: try JSONEncoder().encode(hb))
        #expect(reply.status == 200)
        return try JSONDecoder().decode(HeartbeatAnswer.self, from: Data(reply.body.utf8))
    }

    func put(_ url: String, token: String, _ json: String) async throws -> Reply {
        try await post(url, token: token, body: Data(json.utf8), method: "PUT")
    }

    @Test func settingsFlowFromTheOfficeToAStationAndBack() async throws {
        try await withCollector { url, store in
            let zs = try await station(store, "zs-1", "浙江省/舟山市")
            let gz = try await station(store, "gz-1", "广东省/广州市")
            let office = try await user(store, "office")
            let zhoushan = try await user(store, "zs-office", region: "浙江省/舟山市")
            let manager = try await user(store, "li", role: .manager, stations: ["zs-1"])
            let region = "region=%E6%B5%99%E6%B1%9F%E7%9C%81"  // 浙江省

            #expect(try await heartbeat(url, "zs-1", token: zs).settingsRevision == 0)
            // Set, refused with reasons, scoped.
            let set = try await put(url + "/api/v1/settings?" + region, token: office, #"{"settings": {"capacity": 30, "opening_hours": "24h"}}"#)
            #expect(set.status == 200, "\(set.body)")
            #expect(set.body == #"{"revision":2}"#)
            let bad = try await put(url + "/api/v1/settings?" + region, token: office, #"{"settings": {"capacity": 0}}"#)
            #expect(bad.status == 422 && bad.body.contains("\"error\":\"bad_setting\"") && bad.body.contains("capacity=0"))
            let unknown = try await put(url + "/api/v1/settings?" + region, token: office, #"{"settings": {"colour": "red"}}"#)
            #expect(unknown.status == 422 && unknown.body.contains("unknown_setting"))
            let outside = try await put(url + "/api/v1/settings?" + region, token: zhoushan, #"{"settings": {"capacity": 5}}"#)
            #expect(outside.status == 403 && outside.body.contains("forbidden"))
            #expect(try await put(url + "/api/v1/settings?station=gz-1", token: zhoushan, #"{"settings": {"capacity": 5}}"#).status == 403)
            #expect(try await put(url + "/api/v1/settings?station=zs-1", token: manager, #"{"settings": {"capacity": 5}}"#).status == 403)
            #expect(try await put(url + "/api/v1/settings?station=nope", token: office, #"{"settings": {"capacity": 5}}"#).status == 404)
            let own = try await put(url + "/api/v1/settings?station=zs-1", token: zhoushan, #"{"settings": {"maximum_stay_minutes": "90"}}"#)
            #expect(own.status == 200 && own.body == #"{"revision":3}"#)

            // The stations' answers and documents.
            let answer = try await heartbeat(url, "zs-1", token: zs)
            #expect(answer.settingsRevision == 3)
            #expect(try await heartbeat(url, "gz-1", token: gz).settingsRevision == 0)
            let doc = try JSONDecoder().decode(OfficeSettingsDocument.self, from: Data(try await get(url + "/api/v1/station/settings", token: zs).body.utf8))
            #expect(doc == OfficeSettingsDocument(revision: 3, settings: ["capacity": "30", "opening_hours": "24h", "maximum_stay_minutes": "90"]))
            #expect(try await get(url + "/api/v1/station/settings", token: office).status == 401)

            // Out of sync until the station reports the revision; a refusal shows its reason.
            func sync(_ id: String) async throws -> [String: Any] {
                let body = try await get(url + "/api/v1/settings?station=\(id)", token: office).body
                let doc = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
                return (doc["stations"] as! [[String: Any]])[0]
            }
            #expect(try await sync("zs-1")["in_sync"] as? Bool == false)
            _ = try await heartbeat(url, "zs-1", token: zs, applied: 3)
            #expect(try await sync("zs-1")["in_sync"] as? Bool == true)
            _ = try await heartbeat(url, "zs-1", token: zs, applied: 2, error: "revision 3: capacity=30: too many")
            let refused = try await sync("zs-1")
            #expect(refused["in_sync"] as? Bool == false && refused["settings_error"] as? String == "revision 3: capacity=30: too many")
            #expect(try await get(url + "/api/v1/settings?station=zs-1", token: manager).status == 403)
        }
    }

    @Test func noticesReachTheStationsConcernedAndTheAuditLogHasEverything() async throws {
        try await withCollector { url, store in
            let zs = try await station(store, "zs-1", "浙江省/舟山市")
            let gz = try await station(store, "gz-1", "广东省/广州市")
            let office = try await user(store, "office")
            let zhoushan = try await user(store, "zs-office", region: "浙江省/舟山市")
            let added = try await post(url + "/api/v1/notices", token: zhoushan, body: Data(#"{"zh": "高温预警：今日驿站延长开放至22:00", "en": "Heat", "region": "浙江省/舟山市"}"#.utf8))
            #expect(added.status == 201, "\(added.body)")
            let notice = try JSONSerialization.jsonObject(with: Data(added.body.utf8)) as! [String: Any]
            let id = try #require(notice["id"] as? Int)
            #expect(notice["running"] as? Bool == true && notice["created_by"] as? String == "zs-office")
            #expect(try await post(url + "/api/v1/notices", token: zhoushan, body: Data(#"{"zh": "x", "stations": ["gz-1"]}"#.utf8)).status == 403)
            #expect(try await post(url + "/api/v1/notices", token: office, body: Data(#"{"zh": "", "region": ""}"#.utf8)).status == 422)
            #expect(try await post(url + "/api/v1/notices", token: office,
                                   body: Data(#"{"zh": "x", "region": "", "until": "2020-01-01T00:00:00Z"}"#.utf8)).status == 422)
            let listed = try await post(url + "/api/v1/notices", token: office, body: Data(#"{"zh": "广州停水", "stations": ["gz-1"]}"#.utf8))
            #expect(listed.status == 201)

            let zsNotices = try await heartbeat(url, "zs-1", token: zs).notices ?? []
            #expect(zsNotices.map(\.zh) == ["高温预警：今日驿站延长开放至22:00"])
            #expect(zsNotices.first?.en == "Heat")
            #expect(try await heartbeat(url, "gz-1", token: gz).notices?.map(\.zh) == ["广州停水"])
            // 舟山's office sees its own notice only.
            #expect(try await get(url + "/api/v1/notices", token: zhoushan).body.contains("广州停水") == false)
            #expect(try await get(url + "/api/v1/notices", token: office).body.contains("广州停水"))

            let ended = try await post(url + "/api/v1/notices/\(id)/end", token: office, body: Data())
            #expect(ended.status == 200 && ended.body.contains("\"running\":false"))
            #expect(try await post(url + "/api/v1/notices/999999/end", token: office, body: Data()).status == 404)
            #expect(try await post(url + "/api/v1/notices/abc/end", token: office, body: Data()).status == 404)
            #expect(try await heartbeat(url, "zs-1", token: zs).notices == [])

            let audit = try await get(url + "/api/v1/audit?format=csv", token: office)
            #expect(audit.status == 200)
            let lines = audit.body.split(separator: "\r\n")
            #expect(lines.first == "\u{FEFF}id,at,actor,action,scope,target,detail")
            #expect(lines.count == 4)
            #expect(lines[1].contains("\"notice.end\"") && lines[1].contains("\"office\""))
            #expect(lines[3].contains("\"notice.add\"") && lines[3].contains("\"zs-office\"") && lines[3].contains("\"浙江省/舟山市\""))
            let mine = try await get(url + "/api/v1/audit", token: zhoushan)
            #expect(mine.body.contains("notice.add") && mine.body.contains("notice.end") && !mine.body.contains("广州停水"))
        }
    }
}
