import Foundation
import Logging
import Testing
import YizhanCollector
import YizhanCore
import YizhanSimulator

/// Alerts with the real binaries: stations killed and restarted, a local webhook receiver,
/// one collector on SQLite and two on one PostgreSQL.
@Suite(.serialized) struct AlertProcessTests {
    let s = Scratch()

    func freshPostgres() throws -> String {
        let admin = try #require(ProcessInfo.processInfo.environment["YIZHAN_TEST_POSTGRES_URL"],
                                 "YIZHAN_TEST_POSTGRES_URL is not set: run inside scripts/test-postgres.sh (make test does)")
        let name = "yizhan_alerts\(UInt32.random(in: 0...UInt32.max))"
        let item = { (key: String) in String(admin.split(separator: "\(key)=")[1].split(separator: "&")[0]) }
        let created = try run("/usr/lib/postgresql/15/bin/psql", ["-h", item("host"), "-p", item("port"), "-U", "postgres", "-c", "CREATE DATABASE \(name)"])
        #expect(created.status == 0, "\(created.stderr)")
        return admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
    }

    func collectorConfig(_ name: String, storage: String, webhook: String, offlineAfter: Int = 8, extra: String = "") -> String {
        let path = s.file(name)
        FileManager.default.createFile(atPath: path, contents: Data("""
            [http]
            listen = "127.0.0.1:0"
            [storage]
            url = "\(storage)"
            [alerts]
            offline_after_seconds = \(offlineAfter)
            evaluate_every_seconds = 1
            retry_base_seconds = 1
            \(extra)
            [[alerts.webhooks]]
            url = "\(webhook)"
            format = "generic"
            """.utf8))
        return path
    }

    /// Registers a station and writes its configuration (own data directory, heartbeat every 5 s).
    func station(_ id: String, collectorConfig: String, port: Int, visits: String = "") throws -> String {
        let added = try run("yizhan-collector", ["station", "add", "--config", collectorConfig, "--id", id, "--name", "站\(id)",
                                                 "--region", "上海市/上海市/普陀区", "--capacity", "10"])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        return writeStationConfig(s, extra: visits, id: id, directory: s.file(id), uplink: (port, token))
    }

    func alertsList(_ config: String) throws -> [[String: Any]] {
        let r = try run("yizhan-collector", ["alerts", "list", "--config", config, "--state", "all", "--format", "json"])
        guard r.status == 0 else { throw CLIFailure(result: r) }
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        return object?["alerts"] as? [[String: Any]] ?? []
    }

    func lastSeen(_ storage: String, _ id: String) async throws -> Timestamp? {
        try await CollectorStores.with(storage, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })) { store in
            try await store.stations().first { $0.id == id }?.lastSeen
        }
    }

    /// Hours that exclude now in +08:00 (two hours from now, for an hour).
    static func hoursExcludingNow() -> String {
        let local = CivilTime(Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000)), offset: .china)
        let start = (local.hour + 2) % 24, end = (local.hour + 3) % 24
        func hh(_ h: Int) -> String { h < 10 ? "0\(h)" : "\(h)" }
        return "\(hh(start)):00-\(end == 0 ? "24" : hh(end)):00"
    }

    @Test func aKilledStationIsAlertedOnceAfterTheGraceRetriedUntilDeliveredAndRecoversNoneOutsideItsHours() async throws {
        let receiver = await WebhookReceiver(script: [500])  // the first delivery fails
        defer { Task { await receiver.stop() } }
        let storage = "sqlite://\(s.file("collector/collector.db"))"
        let config = collectorConfig("collector.toml", storage: storage, webhook: receiver.url)
        let collector = try CollectorProcess(config: config, logPath: s.file("collector.log"))
        let port = try await collector.listeningPort()
        let openConfig = try station("pt-open", collectorConfig: config, port: port)
        let closedConfig = try station("pt-closed", collectorConfig: config, port: port,
                                       visits: "hours = [\"\(Self.hoursExcludingNow())\"]")
        var open = try StationProcess(config: openConfig, logPath: s.file("open.log"))
        let closed = try StationProcess(config: closedConfig, logPath: s.file("closed.log"))
        try await open.waitUntilServing(); try await closed.waitUntilServing()
        try await eventuallyAsync("both stations heartbeat", timeout: .seconds(30)) {
            let a = try await lastSeen(storage, "pt-open"), b = try await lastSeen(storage, "pt-closed")
            return a != nil && b != nil
        }
        open.kill9(); closed.kill9()
        let killed = ContinuousClock.now
        try await eventually("the offline alert delivered", timeout: .seconds(40)) {
            receiver.delivered.contains { $0.alert == .stationOffline && $0.state == .open }
        }
        #expect(ContinuousClock.now - killed >= .seconds(3), "not before the grace (8 s after the last heartbeat)")
        let first = receiver.received
        #expect(first.count == 2 && first[0].status == 500 && first[0].body == first[1].body, "retried after the 500, the same transition")
        let notice = try #require(receiver.delivered.first)
        #expect(notice.station == "pt-open" && notice.region == "上海市/上海市/普陀区" && notice.messageZh.contains("站pt-open"))

        // Restarted: one recovery.
        open = try StationProcess(config: openConfig, logPath: s.file("open2.log"))
        try await eventually("the recovery delivered", timeout: .seconds(40)) {
            receiver.delivered.contains { $0.alert == .stationOffline && $0.state == .resolved }
        }
        let alerts = try alertsList(config)
        #expect(alerts.count == 1, "one alert, for the open station only: \(alerts)")
        #expect(alerts.first?["state"] as? String == "resolved")
        #expect((alerts.first?["deliveries"] as? [String: Any])?["pending"] as? Int == 0)
        #expect(!receiver.received.contains { $0.body.contains("pt-closed") }, "outside its opening hours: nothing")
        let delivered = receiver.delivered.map { "\($0.station) \($0.alert.rawValue) \($0.state.rawValue)" }
        #expect(delivered == ["pt-open station_offline open", "pt-open station_offline resolved"])
        #expect(open.terminate() == 0)
    }

    /// Two collectors share one PostgreSQL database and the webhook: each transition reaches
    /// the receiver once.
    @Test func twoCollectorsOnOnePostgresDeliverEachTransitionOnce() async throws {
        let receiver = await WebhookReceiver()
        defer { Task { await receiver.stop() } }
        let storage = try freshPostgres()
        let configA = collectorConfig("a.toml", storage: storage, webhook: receiver.url)
        let configB = collectorConfig("b.toml", storage: storage, webhook: receiver.url)
        let a = try CollectorProcess(config: configA, logPath: s.file("a.log"))
        let b = try CollectorProcess(config: configB, logPath: s.file("b.log"))
        let port = try await a.listeningPort()
        _ = try await b.listeningPort()
        let config = try station("pt-pg", collectorConfig: configA, port: port)
        var station = try StationProcess(config: config, logPath: s.file("pg.log"))
        try await eventuallyAsync("heartbeat", timeout: .seconds(30)) { try await lastSeen(storage, "pt-pg") != nil }
        station.kill9()
        try await eventually("offline alert", timeout: .seconds(40)) { receiver.received.count >= 1 }
        station = try StationProcess(config: config, logPath: s.file("pg2.log"))
        try await eventually("recovery", timeout: .seconds(40)) { receiver.received.count >= 2 }
        // Both collectors evaluate and deliver every second: give them a few passes to double up.
        try await Task.sleep(for: .seconds(4))
        let delivered = receiver.delivered.map { "\($0.station) \($0.alert.rawValue) \($0.state.rawValue)" }
        #expect(delivered == ["pt-pg station_offline open", "pt-pg station_offline resolved"], "\(delivered)")
        #expect(receiver.received.count == 2)
        #expect(a.log.contains("delivered") || b.log.contains("delivered"))
        #expect(station.terminate() == 0)
        a.kill9(); b.kill9()
    }

    /// Reconciliation: the collector loses a range of a station's events (rows deleted from
    /// its database); the station's day counts reveal it, `sequence_gap` opens, the station
    /// is asked to send the range again, and the alert resolves once the counts agree.
    @Test func aRangeTheCollectorLacksIsFoundResentAndTheGapResolved() async throws {
        let receiver = await WebhookReceiver()
        defer { Task { await receiver.stop() } }
        let storage = "sqlite://\(s.file("collector/collector.db"))"
        let config = collectorConfig("collector.toml", storage: storage, webhook: receiver.url, offlineAfter: 600,
                                     extra: "reconcile_recheck_seconds = 1")
        let collector = try CollectorProcess(config: config, logPath: s.file("collector.log"))
        let port = try await collector.listeningPort()
        let line = try SimulatedLineReader(link: s.file("line"))
        defer { line.close() }
        let stationConfig = try station("pt-rec", collectorConfig: config, port: port, visits: "when_full = \"admit\"")
        try String(contentsOfFile: stationConfig, encoding: .utf8).replacingOccurrences(of: "[uplink]", with: """
            [[readers]]
            name = "counter"
            protocol = "line"
            device = "\(s.file("line"))"
            [uplink]
            """).write(toFile: stationConfig, atomically: true, encoding: .utf8)
        let station = try StationProcess(config: stationConfig, logPath: s.file("rec.log"))
        try await station.waitUntilServing()
        try await eventually("reader up") { try logLines(stationConfig).contains { $0["kind"] as? String == "reader_up" } }
        for i in 0..<30 {
            line.present(number: String(300_000 + i), name: "")
            try await Task.sleep(for: .milliseconds(5))
        }
        func stationLastSeq() throws -> Int { try logLines(stationConfig, ["--last", "1"]).first?["seq"] as? Int ?? 0 }
        func collectorCount() async throws -> Int {
            try await CollectorStores.with(storage, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() })) {
                try await $0.eventCount(station: "pt-rec")
            }
        }
        try await eventually("30 swipes logged") { try stationLastSeq() >= 31 }
        try await eventuallyAsync("all at the collector", timeout: .seconds(30)) {
            let n = try stationLastSeq()
            return try await collectorCount() == n && ctlStatusBacklogIsZero(stationConfig)
        }
        let total = try stationLastSeq()
        let sqlite = "/usr/bin/sqlite3"
        try #require(FileManager.default.isExecutableFile(atPath: sqlite), "the sqlite3 shell is needed to delete rows behind the collector's back")
        let deleted = try run(sqlite, [s.file("collector/collector.db"), "DELETE FROM events WHERE station_id = 'pt-rec' AND seq BETWEEN 5 AND 14"])
        #expect(deleted.status == 0, "\(deleted.stderr)")
        #expect(try await collectorCount() == total - 10)

        try await eventually("sequence_gap opened", timeout: .seconds(30)) {
            receiver.delivered.contains { $0.alert == .sequenceGap && $0.state == .open }
        }
        let gap = try #require(receiver.delivered.first { $0.alert == .sequenceGap })
        #expect(gap.detail.contains("seq 5-14 missing"), "\(gap.detail)")
        try await eventually("the station was asked and sent the range again", timeout: .seconds(20)) {
            station.log.contains("the collector asked for seq 5-14")
        }
        try await eventually("sequence_gap resolved", timeout: .seconds(30)) {
            receiver.delivered.contains { $0.alert == .sequenceGap && $0.state == .resolved }
        }
        #expect(try await collectorCount() == total, "the range is back, nothing doubled")
        #expect(station.terminate() == 0)
    }
}
