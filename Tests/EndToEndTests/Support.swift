import Foundation
import Testing
import YizhanCore
import YizhanSimulator
@_exported import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Where `swift build` put the binaries (`make test` sets YIZHAN_BIN_DIR).
let binDir: String = {
    if let d = ProcessInfo.processInfo.environment["YIZHAN_BIN_DIR"], !d.isEmpty { return d }
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug").path
}()

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

final class Scratch: Sendable {
    let path: String
    init() {
        var bytes = Array((FileManager.default.temporaryDirectory.path + "/yizhan-e2e-XXXXXX").utf8CString)
        path = bytes.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)!) }
    }
    func file(_ name: String) -> String { path + "/" + name }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

let regionKey = Data("e2e-region-key-0123456789abcdef!".utf8)

/// A station.toml (with its region key) in `directory`, the scratch folder by default. With
/// `uplink`, the station reports to the collector on 127.0.0.1:`port` with `token` (written
/// beside it), heartbeats every 5 s and retries at least every second. `extra` goes into
/// `[visits]`, or starts tables of its own; `tables` follows the readers.
func writeStationConfig(_ s: Scratch, readers: [(name: String, proto: String, device: String)] = [], extra: String = "",
                        tables: String = "", id: String = "pt-e2e-01", name: String = "端到端测试站", capacity: Int = 500,
                        directory: String? = nil, uplink: (port: Int, token: String)? = nil) -> String {
    let dir = directory ?? s.path
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    FileManager.default.createFile(atPath: dir + "/region.key", contents: regionKey)
    var text = """
        [station]
        id = "\(id)"
        name = "\(name)"
        capacity = \(capacity)
        data_dir = "\(dir)/data"
        [http]
        listen = "127.0.0.1:0"
        [privacy]
        region_key_file = "\(dir)/region.key"
        [visits]
        debounce_seconds = 1
        \(extra)

        """
    for r in readers { text += "[[readers]]\nname = \"\(r.name)\"\nprotocol = \"\(r.proto)\"\ndevice = \"\(r.device)\"\n" }
    text += tables
    if let uplink {
        FileManager.default.createFile(atPath: dir + "/station.token", contents: Data((uplink.token + "\n").utf8))
        text += """

            [uplink]
            collector = "http://127.0.0.1:\(uplink.port)"
            token_file = "\(dir)/station.token"
            heartbeat_seconds = 5
            backoff_cap_seconds = 1

            """
    }
    FileManager.default.createFile(atPath: dir + "/station.toml", contents: Data(text.utf8))
    return dir + "/station.toml"
}

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs a binary to completion.
func run(_ tool: String, _ args: [String], environment: [String: String] = [:]) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : binDir + "/" + tool)
    p.arguments = args
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = FileHandle.nullDevice
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// A tool whose standard input the test types into.
final class InteractiveTool: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    let errorFile: String

    init(_ tool: String, _ args: [String]) throws {
        process.executableURL = URL(fileURLWithPath: binDir + "/" + tool)
        process.arguments = args
        process.standardInput = input
        errorFile = FileManager.default.temporaryDirectory.path + "/yizhan-tool-\(UUID().uuidString).err"
        FileManager.default.createFile(atPath: errorFile, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: errorFile)!
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    func type(_ text: String) { input.fileHandleForWriting.write(Data(text.utf8)) }

    /// Closes standard input and waits for the tool to exit.
    func finish() -> CommandResult {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        let err = (try? String(contentsOfFile: errorFile, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: errorFile)
        return CommandResult(status: process.terminationStatus, stdout: "", stderr: err)
    }

    deinit { if process.isRunning { process.terminate() } }
}

/// A running `yizhan-station`, its output going to a file (process control is the
/// shared `ManagedProcess`, which the benchmarks use too).
final class StationProcess: Sendable {
    let managed: ManagedProcess
    var logPath: String { managed.logPath }
    let config: String

    init(config: String, logPath: String, environment: [String: String] = [:]) throws {
        self.config = config
        managed = try ManagedProcess(executable: binDir + "/yizhan-station", arguments: ["--config", config], logPath: logPath,
                                     environment: environment)
    }

    var log: String { managed.log }
    var pid: Int32 { managed.pid }
    var process: Process { managed.process }

    func waitUntilServing() async throws {
        try await eventually("station serving (\(logPath))") { log.contains("ready") }
    }

    func kill9() { managed.kill9() }
    func terminate() -> Int32 { managed.terminate() }
}

func ctl(_ config: String, _ args: [String]) throws -> CommandResult {
    // The contract's form: the option before the subcommand.
    try run("yizhanctl", ["--config", config] + args)
}

/// `yizhanctl log --format json`, parsed.
func logLines(_ config: String, _ extra: [String] = []) throws -> [[String: Any]] {
    let r = try ctl(config, ["log", "--format", "json"] + extra)
    guard r.status == 0 else { throw CLIFailure(result: r) }
    return try r.stdout.split(separator: "\n").map {
        try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    var result: CommandResult
    var description: String { "exit \(result.status): \(result.stderr)" }
}

func eventually(_ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
                _ condition: () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? condition()) == true { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}

/// `eventually` for a condition that awaits (a store query, an HTTP request).
func eventuallyAsync(_ what: String, timeout: Duration = .seconds(20), sourceLocation: SourceLocation = #_sourceLocation,
                     _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(200))
    }
    Issue.record("timed out waiting for: \(what)", sourceLocation: sourceLocation)
    throw CancellationError()
}
