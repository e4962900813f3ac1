import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
import YizhanCollector
import YizhanCore

/// The office → stations channel with the real binaries: settings set at the collector
/// reach a running station, survive its restart while the collector is down, and show in
/// sync (or refused, with the reason); a region's notice shows on the kiosk of a station in
/// it and not on one elsewhere, and goes when it is ended.
@Suite(.serialized) struct OfficeSettingsProcessTests {
    let s = Scratch()

    func stationConfig(_ id: String, port: Int, token: String) -> String {
        writeStationConfig(s, id: id, name: "\(id) 驿站", directory: s.file(id), uplink: (port, token))
    }

    func status(_ config: String) throws -> [String: Any] {
        let r = try ctl(config, ["status", "--format", "json"])
        guard r.status == 0 else { throw CLIFailure(result: r) }
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as! [String: Any]
    }

    func kioskNotices(_ station: StationProcess) throws -> [[String: Any]] {
        let port = try #require(station.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).map { Int($0.1)! })
        let data = try #require(loopbackGet(port: port, path: "/kiosk/state"))
        let state = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        return state["notices"] as? [[String: Any]] ?? []
    }

    func api(_ port: Int, _ path: String, token: String) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as! HTTPURLResponse).statusCode, String(decoding: data, as: UTF8.self))
    }

    func syncOf(_ port: Int, station: String, token: String) async throws -> [String: Any]? {
        let r = try await api(port, "/api/v1/settings?station=\(station)", token: token)
        guard r.status == 200, let doc = try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return nil }
        return (doc["stations"] as? [[String: Any]])?.first
    }

    @Test func settingsAndNoticesReachTheStationsConcerned() async throws {
        let port = freePort()
        let db = s.file("collector.db")
        let collectorConfig = s.file("collector.toml")
        FileManager.default.createFile(atPath: collectorConfig, contents: Data("""
            [http]
            listen = "127.0.0.1:\(port)"
            [storage]
            url = "sqlite://\(db)"
            """.utf8))
        var tokens: [String: String] = [:]
        for (id, region) in [("zs-1", "浙江省/舟山市/普陀区"), ("gz-1", "广东省/广州市")] {
            let added = try run("yizhan-collector", ["station", "add", "--config", collectorConfig, "--id", id, "--name", id, "--region", region])
            #expect(added.status == 0, "\(added.stderr)")
            tokens[id] = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        }
        let user = try runWithInput("yizhan-collector", ["user", "add", "--config", collectorConfig, "--name", "office", "--role", "office"],
                                    input: "correct horse battery\n")
        #expect(user.status == 0, "\(user.stderr)")
        let userToken = try #require(user.stdout.split(separator: "\n").last.map(String.init))

        var collector = try CollectorProcess(config: collectorConfig, logPath: s.file("collector.log"))
        try await collector.waitUntilListening()
        let zsConfig = stationConfig("zs-1", port: port, token: tokens["zs-1"]!)
        let gzConfig = stationConfig("gz-1", port: port, token: tokens["gz-1"]!)
        var zs = try StationProcess(config: zsConfig, logPath: s.file("zs-1.log"))
        let gz = try StationProcess(config: gzConfig, logPath: s.file("gz-1.log"))
        defer { _ = zs.terminate(); _ = gz.terminate() }
        try await zs.waitUntilServing()
        try await gz.waitUntilServing()

        // The office sets 浙江省's capacity; the station in 舟山 applies it, the one in 广州 does not.
        let set = try run("yizhan-collector", ["settings", "set", "--config", collectorConfig, "--region", "浙江省",
                                               "capacity=42", "opening_hours=24h,2026-10-01=closed"])
        #expect(set.status == 0, "\(set.stderr)")
        let revision = try #require(set.stdout.split(separator: "\n").last.flatMap { Int($0) })
        // The command line checks values before storing them, with the rule in the message.
        let refused = try run("yizhan-collector", ["settings", "set", "--config", collectorConfig, "--station", "gz-1", "capacity=0"])
        #expect(refused.status != 0 && refused.stderr.contains("capacity=0: a capacity is a whole number from 1 to 10000"), "\(refused.stderr)")
        let unknownKey = try run("yizhan-collector", ["settings", "set", "--config", collectorConfig, "--station", "gz-1", "colour=red"])
        #expect(unknownKey.status != 0 && unknownKey.stderr.contains("\"colour\" is not a setting"))
        try await eventually("zs-1 applies revision \(revision)", timeout: .seconds(30)) {
            let st = try status(zsConfig)
            return st["capacity"] as? Int == 42 && st["settings_revision"] as? Int == revision
        }
        let gzStatus = try status(gzConfig)
        #expect(gzStatus["capacity"] as? Int == 500)
        #expect(gzStatus["settings_revision"] as? Int == 0)
        // The next heartbeat tells the collector: in sync, through the API and the CLI.
        try await eventuallyAsync("in sync at the collector", timeout: .seconds(30)) {
            let sync = try await syncOf(port, station: "zs-1", token: userToken)
            return sync?["in_sync"] as? Bool == true && sync?["applied_revision"] as? Int == revision
        }
        let shown = try run("yizhan-collector", ["settings", "show", "--config", collectorConfig, "--station", "zs-1"])
        #expect(shown.stdout.contains("capacity=42") && shown.stdout.contains("in sync"), "\(shown.stdout)")

        // A notice for 浙江省: on zs-1's kiosk within a heartbeat, never on gz-1's.
        let added = try run("yizhan-collector", ["notice", "add", "--config", collectorConfig, "--region", "浙江省",
                                                 "--zh", "高温预警：今日驿站延长开放至22:00", "--en", "Heat warning: open until 22:00"])
        #expect(added.status == 0, "\(added.stderr)")
        let noticeID = try #require(added.stdout.split(separator: "\n").last.flatMap { Int($0) })
        let listed = try run("yizhan-collector", ["notice", "list", "--config", collectorConfig])
        #expect(listed.stdout.hasPrefix("\(noticeID)\trunning\tregion 浙江省\t"), "\(listed.stdout)")
        try await eventually("the notice on zs-1's kiosk", timeout: .seconds(30)) {
            try kioskNotices(zs).first?["zh"] as? String == "高温预警：今日驿站延长开放至22:00"
        }
        // gz-1 has heartbeated since the notice was added (its answer had the list) and shows none.
        let gzBeat = try status(gzConfig)["uplink"].flatMap { ($0 as? [String: Any])?["last_heartbeat"] as? String }
        try await eventually("gz-1 heartbeats again", timeout: .seconds(30)) {
            try status(gzConfig)["uplink"].flatMap { ($0 as? [String: Any])?["last_heartbeat"] as? String } != gzBeat
        }
        #expect(try kioskNotices(gz).isEmpty)
        if chromiumPath != nil {
            let kioskPort = try #require(zs.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })
            try await DevToolsPage.with(width: 1080, height: 1920) { page in
                try await page.navigate("http://127.0.0.1:\(kioskPort)/kiosk")
                try await page.waitFor("document.querySelector('#notices .notice') !== null")
                #expect(try await page.string("document.querySelector('#notices').innerText").contains("高温预警"))
                #expect(try await page.string("document.body.dataset.overflow") == "none")
            }
        }

        // A value the station refuses (written past the CLI's check, as a newer or broken
        // collector might): gz-1 keeps its capacity and says why, and the collector shows it.
        try await CollectorStores.with("sqlite://\(db)", logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })) { store in
            _ = try await store.setSettings(.station("gz-1"), [.capacity: "0"], actor: "test", at: .now())
        }
        try await eventually("gz-1 refuses capacity=0", timeout: .seconds(30)) {
            (try status(gzConfig)["settings_error"] as? String)?.contains("capacity=0") == true
        }
        #expect(try status(gzConfig)["capacity"] as? Int == 500)
        try await eventuallyAsync("the refusal at the collector", timeout: .seconds(30)) {
            let sync = try await syncOf(port, station: "gz-1", token: userToken)
            return sync?["in_sync"] as? Bool == false && (sync?["settings_error"] as? String)?.contains("capacity") == true
        }

        // The dashboard shows the same: zs-1 in sync on its page, gz-1 refused on 广东省's page.
        if chromiumPath != nil {
            let base = "http://127.0.0.1:\(port)"
            try await DevToolsPage.with(width: 1920, height: 1080) { page in
                try await page.navigate(base + "/")
                try await page.waitFor("location.pathname === '/login' && !!document.getElementById('password')")
                _ = try await page.evaluate("""
                    document.getElementById('name').value = 'office'; document.getElementById('password').value = 'correct horse battery';
                    document.querySelector('form.login').submit()
                    """)
                try await page.waitFor("location.pathname === '/' && !!document.querySelector('.crumbs')")
                try await page.navigate(base + "/stations/zs-1")
                try await page.waitFor("!!document.querySelector('p.sync')")
                #expect(try await page.string("document.querySelector('p.sync').textContent").contains("已应用 applied \(revision) · 已同步 in sync"))
                try await page.navigate(base + "/?region=" + "广东省".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
                try await page.waitFor("!!document.querySelector('table.sync')")
                let row = try await page.string("document.querySelector('table.sync tbody').textContent")
                #expect(row.contains("gz-1") && row.contains("拒绝 refused") && row.contains("capacity=0"), "\(row)")
                try await page.navigate(base + "/audit")
                try await page.waitFor("!!document.querySelector('table.audit')")
                #expect(try await page.string("document.querySelector('table.audit').textContent").contains("notice.add"))
            }
        }

        // The collector goes away; zs-1 restarts and still applies what it was given, notice included.
        collector.kill9()
        #expect(zs.terminate() == 0)
        zs = try StationProcess(config: zsConfig, logPath: s.file("zs-1-restarted.log"))
        try await zs.waitUntilServing()
        let restarted = try status(zsConfig)
        #expect(restarted["capacity"] as? Int == 42)
        #expect(restarted["settings_revision"] as? Int == revision)
        #expect(try kioskNotices(zs).first?["id"] as? Int == noticeID)

        // Back online: the office ends the notice and the kiosk drops it.
        collector = try CollectorProcess(config: collectorConfig, logPath: s.file("collector2.log"))
        try await collector.waitUntilListening()
        let ended = try run("yizhan-collector", ["notice", "end", "--config", collectorConfig, String(noticeID)])
        #expect(ended.status == 0, "\(ended.stderr)")
        try await eventually("the notice leaves zs-1's kiosk", timeout: .seconds(30)) { try kioskNotices(zs).isEmpty }

        // Every office action is in the audit log, with who did it.
        let audit = try await api(port, "/api/v1/audit?format=csv", token: userToken)
        #expect(audit.status == 200)
        #expect(audit.body.hasPrefix("\u{FEFF}id,at,actor,action,scope,target,detail"))
        for action in ["settings.set", "notice.add", "notice.end"] { #expect(audit.body.contains(action)) }
        #expect(audit.body.contains("\"cli:"))
        collector.kill9()
    }
}
