import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanSimulator
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

// MARK: the busy station

final class BusyStation: @unchecked Sendable {
    private(set) var managed: ManagedProcess?
    var process: Process { managed!.process }
    let readers: [SimulatedLineReader]
    let dataDir: String
    let log: String

    init(binDir: String, dir: String, collector: String, readers count: Int, token: String) async throws {
        dataDir = dir + "/station"
        log = dir + "/station.log"
        readers = try (0..<count).map { try SimulatedLineReader(link: dir + "/door-\($0).tty") }
        FileManager.default.createFile(atPath: dir + "/region.key", contents: Data(repeating: 7, count: 32))
        FileManager.default.createFile(atPath: dir + "/station.token", contents: Data((token + "\n").utf8))
        let readerTables = (0..<count).map {
            """
            [[readers]]
            name = "door-\($0)"
            protocol = "line"
            device = "\(dir)/door-\($0).tty"
            baud = 921600
            """
        }.joined(separator: "\n")
        // Compressed time: no debounce (a card comes back within milliseconds), heartbeats at the minimum.
        FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data("""
            [station]
            id = "\(SoakWorld.busyID)"
            capacity = 40
            data_dir = "\(dataDir)"
            [visits]
            debounce_seconds = 0
            [http]
            listen = "127.0.0.1:0"
            [privacy]
            region_key_file = "\(dir)/region.key"
            \(readerTables)
            [[amenities]]
            kind = "microwave"
            [[amenities]]
            kind = "water_dispenser"
            [uplink]
            collector = "\(collector)"
            token_file = "\(dir)/station.token"
            heartbeat_seconds = 5
            [log]
            level = "warning"
            """.utf8))
        let notify = try NotifySocket(path: dir + "/notify.sock")
        managed = try ManagedProcess(executable: binDir + "/yizhan-station", arguments: ["--config", dir + "/station.toml"],
                                     logPath: log, environment: ["NOTIFY_SOCKET": dir + "/notify.sock"])
        var ready = false
        while let m = notify.receive(timeoutMilliseconds: 30_000) { if m.hasPrefix("READY=1") { ready = true; break } }
        guard ready else { stop(); throw BenchError("no READY=1 from the busy station: \(logTail())") }
        // Every reader open (its reader_up event is in the log) before the first swipe.
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        let t0 = ContinuousClock.now
        while try await db.read({ try Int.fetchOne($0, sql: "SELECT count(DISTINCT reader) FROM events WHERE kind = 'reader_up'") }) ?? 0 < count {
            guard ContinuousClock.now - t0 < .seconds(30) else { stop(); throw BenchError("the readers did not come up: \(logTail())") }
            try await Task.sleep(for: .milliseconds(20))
        }
        try db.close()
    }

    func lastSeq() throws -> Int64 {
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? db.close() }
        return try db.read { try Int64.fetchOne($0, sql: "SELECT max(seq) FROM events") } ?? 0
    }

    /// How many events of each kind the station logged.
    func eventKinds() throws -> String {
        let db = try DatabaseQueue(path: dataDir + "/station.db", configuration: { var c = Configuration(); c.readonly = true; return c }())
        defer { try? db.close() }
        return try db.read { db in
            try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM events GROUP BY kind ORDER BY kind").map { "\($0[0] as String) \($0[1] as Int)" }
        }.joined(separator: ", ")
    }

    func logTail() -> String { String((try? String(contentsOfFile: log, encoding: .utf8))?.suffix(2000) ?? "") }

    func stop() {
        managed?.terminate()
        for r in readers { r.close() }
    }
}

/// Writes the swipes on a thread of its own, paced to spread `total` over `seconds`: a
/// card checks in, and checks out after twenty others came (about twenty inside).
final class SwipeDriver: @unchecked Sendable {
    let readers: [SimulatedLineReader]
    let total: Int
    let seconds: Double
    let written = Atomic<Int>(0)
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(readers: [SimulatedLineReader], total: Int, seconds: Double) {
        self.readers = readers; self.total = total; self.seconds = seconds
    }

    func start() {
        let t = Thread { [self] in
            defer { done.signal() }
            let start = ContinuousClock.now
            var inside: [Int] = [], head = 0, nextCard = 0, n = 0
            let cards = 5000
            while n < total && !stopping.load(ordering: .relaxed) {
                let elapsed = Double((ContinuousClock.now - start).components.seconds) + Double((ContinuousClock.now - start).components.attoseconds) / 1e18
                let target = min(total, Int(elapsed / seconds * Double(total)) + 1)
                while n < target {
                    let card: Int
                    if inside.count - head >= 20 || (total - n) <= inside.count - head {
                        card = inside[head]; head += 1
                        if head > 4096 { inside.removeFirst(head); head = 0 }
                    } else {
                        card = nextCard % cards; nextCard += 1
                        inside.append(card)
                    }
                    // A card always at the same reader: swipes of one card at two readers a few
                    // milliseconds apart (no person does that) may be decided out of order.
                    readers[card % readers.count].present(number: String(31_000_000 + card), name: "")
                    n += 1
                }
                written.store(n, ordering: .relaxed)
                usleep(2000)
            }
            written.store(n, ordering: .relaxed)
        }
        t.name = "soak-swipes"
        t.start()
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        done.wait()
    }
}
