import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import Testing
import YizhanCollector
import YizhanCore
import YizhanSimulator
#if canImport(Glibc)
import Glibc
#endif

/// A free loopback port, only for a collector that must come back on the same address
/// after a restart; otherwise listen on port 0 and read the port back.
func freePort() -> Int { reservedLoopbackPort() }

/// A running `yizhan-collector serve` (process control is the shared `ManagedProcess`).
final class CollectorProcess: Sendable {
    let managed: ManagedProcess
    var logPath: String { managed.logPath }
    init(config: String, logPath: String) throws {
        managed = try ManagedProcess(executable: binDir + "/yizhan-collector", arguments: ["serve", "--config", config], logPath: logPath)
    }
    var log: String { managed.log }
    var process: Process { managed.process }
    func waitUntilListening() async throws { try await eventually("collector listening") { log.contains("collector listening") } }
    /// The port the collector says it listens on (configured as port 0).
    func listeningPort() async throws -> Int { try await managed.listeningPort(after: "collector listening on http://") }
    func kill9() { managed.kill9() }
    @discardableResult func terminate() -> Int32 { managed.terminate() }
}

@Suite(.serialized) struct CollectorProcessTests {
    let s = Scratch()

    /// SQLite and PostgreSQL; the PostgreSQL cases need `make test`'s cluster
    /// (scripts/test-postgres.sh) and fail, saying so, without it.
    static let storages = ["sqlite", "postgres"]

    /// A storage URL of that kind with nothing in it yet.
    func freshStorage(_ kind: String) throws -> String {
        guard kind == "postgres" else { return "sqlite://\(s.file("collector/collector.db"))" }
        let admin = try #require(ProcessInfo.processInfo.environment["YIZHAN_TEST_POSTGRES_URL"],
                                 "YIZHAN_TEST_POSTGRES_URL is not set: run inside scripts/test-postgres.sh (make test does)")
        let name = "yizhan_e2e\(UInt32.random(in: 0...UInt32.max))"
        let item = { (key: String) in String(admin.split(separator: "\(key)=")[1].split(separator: "&")[0]) }
        let created = try run("/usr/lib/postgresql/15/bin/psql", ["-h", item("host"), "-p", item("port"), "-U", "postgres", "-c", "CREATE DATABASE \(name)"])
        #expect(created.status == 0, "\(created.stderr)")
        return admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
    }

    func withStore<T: Sendable>(_ url: String, _ body: (any CollectorStore) async throws -> T) async throws -> T {
        try await CollectorStores.with(url, logger: Logger(label: "t", factory: { _ in SwiftLogNoOpLogHandler() }), body)
    }

    func writeCollectorConfig(_ name: String, port: Int, storage: String) -> String {
        let path = s.file(name)
        FileManager.default.createFile(atPath: path, contents: Data("""
            [http]
            listen = "127.0.0.1:\(port)"
            [storage]
            url = "\(storage)"
            """.utf8))
        return path
    }

    @Test(arguments: storages) func everyVisitReachesTheCollectorExactlyOnceThroughAnOutageAndAKill(_ storage: String) async throws {
        // A fixed port: the station must find the collector again at the same address after its restart.
        let port = freePort()
        let storageURL = try freshStorage(storage)
        let collectorConfig = writeCollectorConfig("collector.toml", port: port, storage: storageURL)
        // Provisioning through the CLI: the token is alone on the last line.
        let added = try run("yizhan-collector", ["station", "add", "--config", collectorConfig, "--id", "pt-e2e-01",
                                                 "--name", "端到端测试站", "--district", "普陀区", "--capacity", "500"])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        #expect(token.hasPrefix("yzs_") && token.count == 68)
        FileManager.default.createFile(atPath: s.file("station.token"), contents: Data((token + "\n").utf8))
        let again = try run("yizhan-collector", ["station", "add", "--config", collectorConfig, "--id", "pt-e2e-01", "--name", "x"])
        #expect(again.status != 0 && again.stderr.contains("exists already"))

        let line = try SimulatedLineReader(link: s.file("line"))
        defer { line.close() }
        let stationConfig = writeStationConfig(s, readers: [("counter", "line", s.file("line"))], extra: """
            when_full = "admit"
            [uplink]
            collector = "http://127.0.0.1:\(port)"
            token_file = "\(s.file("station.token"))"
            heartbeat_seconds = 5
            backoff_cap_seconds = 1
            batch_events = 40
            """)
        var collector = try CollectorProcess(config: collectorConfig, logPath: s.file("collector.log"))
        try await collector.waitUntilListening()
        let station = try StationProcess(config: stationConfig, logPath: s.file("station.log"))
        try await station.waitUntilServing()
        try await eventually("reader up") { try logLines(stationConfig).contains { $0["kind"] as? String == "reader_up" } }

        func swipes(_ range: Range<Int>) async throws {
            for i in range {
                line.present(number: String(200_000 + i), name: "")
                try await Task.sleep(for: .milliseconds(3))
            }
        }
        func collectorCount() async throws -> Int {
            try await withStore(storageURL) { try await $0.eventCount(station: "pt-e2e-01") }
        }
        func stationLastSeq() throws -> Int { try logLines(stationConfig, ["--last", "1"]).first?["seq"] as? Int ?? 0 }

        try await swipes(0..<100)
        try await eventually("all at the collector") { let n = try stationLastSeq(); return n >= 101 }
        try await eventually("delivered") {
            let status = try ctl(stationConfig, ["status", "--format", "json"]).stdout
            return status.contains("\"backlog\":0") && status.contains("\"state\":\"idle\"")
        }
        #expect(try await collectorCount() == stationLastSeq())

        // The collector is killed in the middle of a burst, stays down a while, comes back.
        let burst = Task { try await swipes(100..<400) }
        try await Task.sleep(for: .milliseconds(150))
        collector.kill9()
        try await burst.value
        try await eventually("station notices") {
            try ctl(stationConfig, ["status", "--format", "json"]).stdout.contains("\"state\":\"retrying\"")
        }
        collector = try CollectorProcess(config: collectorConfig, logPath: s.file("collector2.log"))
        try await collector.waitUntilListening()
        try await eventually("drained after the outage", timeout: .seconds(40)) {
            ctlStatusBacklogIsZero(stationConfig)
        }
        let last = try stationLastSeq()
        #expect(last >= 400)
        #expect(try await collectorCount() == last, "every event once: nothing lost, nothing doubled")
        let stations = try await withStore(storageURL) { try await $0.stations() }
        #expect(stations.first?.lastAck == Int64(last))
        #expect(station.terminate() == 0)
    }

    /// Several stateless collectors share one PostgreSQL database: the same batch sent to
    /// two of them at once is stored once, and either answers the office the same.
    @Test
    func twoCollectorsShareOnePostgresDatabase() async throws {
        let storageURL = try freshStorage("postgres")
        let configA = writeCollectorConfig("a.toml", port: 0, storage: storageURL)
        let configB = writeCollectorConfig("b.toml", port: 0, storage: storageURL)
        let added = try run("yizhan-collector", ["station", "add", "--config", configA, "--id", "pt-2", "--name", "二号站", "--district", "普陀区"])
        #expect(added.status == 0, "\(added.stderr)")
        let token = try #require(added.stdout.split(separator: "\n").last.map(String.init))
        let a = try CollectorProcess(config: configA, logPath: s.file("a.log"))
        let b = try CollectorProcess(config: configB, logPath: s.file("b.log"))
        let (portA, portB) = (try await a.listeningPort(), try await b.listeningPort())

        let day = RFC3339.parse("2026-11-23T09:00:00+08:00", defaultOffset: .utc)!
        func batch(_ seqs: ClosedRange<Int64>) -> Data {
            let events = seqs.map { seq in
                EventRecord(RecordedEvent(seq: seq, event: StationEvent(time: day + .seconds(seq * 60), kind: .checkIn,
                                                                         cardKey: CardKey(hex: String(repeating: String(seq % 10), count: 64)),
                                                                         reader: "door", occupancy: Int(seq))), offset: .china)
            }
            return try! JSONEncoder().encode(EventBatch(stationID: "pt-2", events: events))
        }
        func post(_ port: Int, _ body: Data) async throws -> Int {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/api/v1/ingest/events")!)
            request.httpMethod = "POST"
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            let (_, response) = try await URLSession.shared.upload(for: request, from: body)
            return (response as! HTTPURLResponse).statusCode
        }
        for range in [1...200, 150...400, 1...400] as [ClosedRange<Int64>] {
            async let ra = post(portA, batch(range))
            async let rb = post(portB, batch(range))
            #expect(try await (ra, rb) == (200, 200))
        }
        let (count, usage) = try await withStore(storageURL) { store in
            (try await store.eventCount(station: "pt-2"), try await store.rollupRows(.stations(["pt-2"]), level: .hour, from: day - .seconds(86_400), to: day + .seconds(86_400)))
        }
        #expect(count == 400)
        #expect(usage.map(\.figures.visits).reduce(0, +) == 400, "each event counted once in the rollups, though both collectors got it")
        a.kill9(); b.kill9()
    }

    @Test func collectorConfigAndUsers() throws {
        let config = s.file("c.toml")
        FileManager.default.createFile(atPath: config, contents: Data("[http]\nlisten = \"127.0.0.1:0\"\nlistn = 1\n".utf8))
        let bad = try run("yizhan-collector", ["serve", "--config", config])
        #expect(bad.status == 78)
        #expect(bad.stderr.contains("c.toml:3: [http]: unknown key \"listn\""))
        FileManager.default.createFile(atPath: config, contents: Data("[storage]\nurl = \"sqlite://\(s.file("c.db"))\"\n".utf8))
        _ = try run("yizhan-collector", ["station", "add", "--config", config, "--id", "st-1", "--name", "一号站"])
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binDir + "/yizhan-collector")
        p.arguments = ["user", "add", "--config", config, "--name", "li", "--role", "manager", "--station", "st-1"]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        p.standardError = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(Data("correct horse battery\n".utf8))
        try input.fileHandleForWriting.close()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(out.split(separator: "\n").last?.hasPrefix("yzu_") == true)
        let db = try [s.file("c.db"), s.file("c.db-wal")].filter { FileManager.default.fileExists(atPath: $0) }
            .map { try String(contentsOfFile: $0, encoding: .isoLatin1) }.joined()
        #expect(db.contains("li"), "the user row is there")
        #expect(!db.contains("correct horse battery"), "passwords are hashed")
        #expect(!db.contains(String(out.split(separator: "\n").last!)), "tokens are hashed")
        // What could never log in, or could forge a line of the audit log, is refused.
        for (name, password, says) in [("wu", "right one\u{0}junk", "NUL"), ("wu", String(repeating: "长", count: 25), "at most 72 bytes"),
                                       ("wu", "short", "at least 8"), ("w\u{1}u", "correct horse battery", "--name"),
                                       ("wu\nadmin", "correct horse battery", "--name")] {
            let r = try runWithInput("yizhan-collector", ["user", "add", "--config", config, "--name", name, "--role", "office"], input: password + "\n")
            #expect(r.status != 0 && r.stderr.contains(says), "\(name.debugDescription) \(password.debugDescription): \(r.status) \(r.stderr)")
        }
    }

    /// A province's list at once: new stations get tokens in a private file, existing ones are
    /// updated and keep theirs, a bad row applies nothing and names its line; rollups follow.
    @Test func stationImportFromCSV() throws {
        let config = s.file("i.toml")
        FileManager.default.createFile(atPath: config, contents: Data("[storage]\nurl = \"sqlite://\(s.file("i.db"))\"\n".utf8))
        let csv = s.file("stations.csv")
        let list = "\u{FEFF}id,name,region,capacity,latitude,longitude,address\r\n"
            + "zs-1,沈家门站,浙江省/舟山市/普陀区,12,29.95,122.30,\"滨港路 1 号, 一楼\"\r\n"
            + "zs-2,\"东港站 \"\"新\"\"\",浙江省/舟山市/普陀区,8,,,\r\n"
        FileManager.default.createFile(atPath: csv, contents: Data(list.utf8))
        let first = try run("yizhan-collector", ["station", "import", "--config", config, "--file", csv, "--tokens", s.file("t1.csv")])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("2 station(s): 2 added"))
        let tokens = try String(contentsOfFile: s.file("t1.csv"), encoding: .utf8).split(separator: "\n")
        #expect(tokens.first == "id,token" && tokens.count == 3 && tokens.dropFirst().allSatisfy { $0.contains(",yzs_") })
        let mode = try FileManager.default.attributesOfItem(atPath: s.file("t1.csv"))[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The same list again with a moved station and a new one: updated, one token more.
        let moved = list.replacingOccurrences(of: "zs-2,\"东港站 \"\"新\"\"\",浙江省/舟山市/普陀区", with: "zs-2,东港站,浙江省/舟山市/定海区")
            + "zs-3,三号站,浙江省/舟山市,6,,,\r\n"
        FileManager.default.createFile(atPath: csv, contents: Data(moved.utf8))
        let second = try run("yizhan-collector", ["station", "import", "--config", config, "--file", csv, "--tokens", s.file("t2.csv")])
        #expect(second.status == 0 && second.stdout.contains("3 station(s): 1 added"), "\(second.stdout) \(second.stderr)")
        #expect(try String(contentsOfFile: s.file("t2.csv"), encoding: .utf8).hasPrefix("id,token\nzs-3,yzs_"))
        // Bad rows: every one named, nothing applied, no token file left behind.
        FileManager.default.createFile(atPath: csv, contents: Data((moved + "zs-4,,浙江省,0,91,,\r\nzs-1,重复,浙江省,5,,,\r\n").utf8))
        let bad = try run("yizhan-collector", ["station", "import", "--config", config, "--file", csv, "--tokens", s.file("t3.csv")])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("line 5: name") && bad.stderr.contains("line 5: capacity") && bad.stderr.contains("line 5: latitude"))
        #expect(bad.stderr.contains("line 6: station zs-1 is also on line 2"))
        #expect(!FileManager.default.fileExists(atPath: s.file("t3.csv")))
        FileManager.default.createFile(atPath: csv, contents: Data(moved.utf8))
        let existing = try run("yizhan-collector", ["station", "import", "--config", config, "--file", csv, "--tokens", s.file("t2.csv")])
        #expect(existing.status != 0 && existing.stderr.contains("must not exist"), "a token file is never overwritten")
        // The rollups agree with the (empty) log after the move.
        let check = try run("yizhan-collector", ["rollups", "check", "--config", config])
        #expect(check.status == 0 && check.stdout.contains("rollups agree"), "\(check.stdout) \(check.stderr)")
    }
}

func ctlStatusBacklogIsZero(_ config: String) -> Bool {
    (try? ctl(config, ["status", "--format", "json"]).stdout.contains("\"backlog\":0")) ?? false
}
