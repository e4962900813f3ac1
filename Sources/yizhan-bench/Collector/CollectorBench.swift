import AsyncHTTPClient
import CompressNIO
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanStation
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// The collector under load: the release binary as a process, driven over loopback HTTP.
struct CollectorBench {
    let binDir: String
    let scratch: () throws -> String
    let postgresURL: String?
    let quiet = Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() })

    static let http: HTTPClient = {
        var c = HTTPClient.Configuration()
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        c.timeout = .init(connect: .seconds(5), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }()

    /// Adds an office user as an operator does (`yizhan-collector user add`, the password on
    /// standard input) to the store `config` names; returns the user's API token.
    static func addOfficeUser(binDir: String, config: String, name: String, password: String) throws -> String {
        let add = Process()
        add.executableURL = URL(fileURLWithPath: binDir + "/yizhan-collector")
        add.arguments = ["user", "add", "--config", config, "--name", name, "--role", "office"]
        let input = Pipe(), output = Pipe()
        add.standardInput = input
        add.standardOutput = output
        add.standardError = output
        try add.run()
        input.fileHandleForWriting.write(Data((password + "\n").utf8))
        try input.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        add.waitUntilExit()
        guard add.terminationStatus == 0, let token = text.split(separator: "\n").last.map(String.init), token.hasPrefix("yzu_") else {
            throw BenchError("yizhan-collector user add failed (\(add.terminationStatus)): \(text)")
        }
        return token
    }

    // MARK: a collector process

    /// A release collector on a loopback port it chose itself (read back from its log).
    final class Collector {
        let managed: ManagedProcess
        let port: Int
        let storage: String
        var process: Process { managed.process }
        init(binDir: String, dir: String, storage: String, extraConfiguration: String = "") async throws {
            self.storage = storage
            let name = "collector-\(UUID().uuidString.prefix(8))"
            let config = dir + "/\(name).toml"
            FileManager.default.createFile(atPath: config, contents: Data("""
                [http]
                listen = "127.0.0.1:0"
                [storage]
                url = "\(storage)"
                [log]
                level = "info"
                \(extraConfiguration)
                """.utf8))
            managed = try ManagedProcess(executable: binDir + "/yizhan-collector", arguments: ["serve", "--config", config],
                                         logPath: dir + "/\(name).log")
            port = try await managed.listeningPort(after: "collector listening on http://", timeout: .seconds(60))
        }
        var url: String { "http://127.0.0.1:\(port)" }
        func stop() { managed.terminate() }
    }

    func withStore<T: Sendable>(_ storage: String, _ body: (any CollectorStore) async throws -> T) async throws -> T {
        try await CollectorStores.with(storage, logger: quiet, body)
    }

    /// A new empty database: a SQLite file, or a fresh PostgreSQL database.
    func freshStorage(_ kind: String, dir: String) async throws -> String {
        guard kind == "postgres", let admin = postgresURL else { return "sqlite://\(dir)/collector.db" }
        let name = "yizhan_bench_\(UInt32.random(in: 0...UInt32.max))"
        try await postgres(admin) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
        return admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
    }

    func postgres<T: Sendable>(_ url: String, _ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quiet)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { await client.run(); return nil }
            let result = try await body(client)
            group.cancelAll()
            return result
        }
    }
}

final class LoadRecorder: Sendable {
    let latencies = Mutex<[Double]>([])
    let heartbeatLatencies = Mutex<[Double]>([])
    /// How late the generator sent each request (its own delay, included in the latency).
    let lateness = Mutex<[Double]>([])
    let errors = Atomic<Int>(0)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
