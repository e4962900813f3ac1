import ArgumentParser
import AsyncHTTPClient
import Foundation
import GRDB
import NIOCore
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanSimulator
#if canImport(Glibc)
import Glibc
#endif

// MARK: what /proc says

enum ProcessProbe {
    static func fds(_ pid: Int32) -> Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// The whole of a /proc file: they claim size 0 and come a page per read(2).
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func residentMegabytes(_ pid: Int32) -> Double { Double(residentKilobytes(pid)) / 1024 }

    static func residentKilobytes(_ pid: Int32) -> Int {
        guard let status = read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    static func threads(_ pid: Int32) -> Int {
        guard let status = read("/proc/\(pid)/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Threads:") }) else { return -1 }
        return Int(line.split(separator: "\t").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? -1
    }

    static func megabytes(_ path: String) -> Double {
        ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.doubleValue ?? 0) / 1_048_576
    }

    /// Established TCP connections whose local port is `port` (the server's side of each).
    static func establishedConnections(port: Int) -> Int {
        let hexPort = String(format: ":%04lX", port)
        var n = 0
        for file in ["/proc/net/tcp", "/proc/net/tcp6"] {
            guard let text = read(file) else { continue }
            for line in text.split(separator: "\n").dropFirst() {
                let f = line.split(separator: " ", omittingEmptySubsequences: true)
                if f.count > 3, f[1].hasSuffix(hexPort), f[3] == "01" { n += 1 }
            }
        }
        return n
    }
}

/// glibc's own account of the heap (`malloc_info`), read from the running collector
/// through gdb; optionally `malloc_trim(0)` first.
struct MallocInfo {
    var arenas: Int
    /// Bytes malloc holds from the kernel (arenas' heaps and mmapped chunks).
    var systemMB: Double
    /// Of those, in free chunks inside malloc (reusable, not returned).
    var freeMB: Double
    var inUseMB: Double { systemMB - freeMB }

    static func read(pid: Int32, dir: String, trim: Bool) -> MallocInfo? {
        let out = dir + "/malloc-info-\(UInt32.random(in: 0...UInt32.max)).xml"
        var commands = ["call (int)malloc_trim(0)"]
        if !trim { commands = [] }
        commands += ["call (void*)fopen(\"\(out)\", \"w\")", "call (int)malloc_info(0, $\(trim ? 2 : 1))", "call (int)fclose($\(trim ? 2 : 1))"]
        let arguments = ["-p", "\(pid)", "-batch", "-nx", "--readnever"] + commands.flatMap { ["-ex", $0] }
        // Not through Foundation's Process: its children inherit the bench's blocked signals,
        // and gdb waits for a SIGCHLD that never comes (the collector stays stopped).
        guard let gdb = spawnWithDefaultSignals("/usr/bin/gdb", arguments, output: dir + "/gdb.log") else { return nil }
        // gdb stops the collector while it calls into it: never leave it stopped.
        let deadline = Date() + 60
        var status: Int32 = 0
        while waitpid(gdb, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(gdb, SIGKILL)
                waitpid(gdb, &status, 0)
                kill(pid, SIGCONT)
                FileHandle.standardError.write(Data("gdb did not finish in 60 s: \((try? String(contentsOfFile: dir + "/gdb.log", encoding: .utf8))?.suffix(3000) ?? "")\n".utf8))
                return nil
            }
            usleep(20_000)
        }
        defer { unlink(out) }
        guard let xml = try? String(contentsOfFile: out, encoding: .utf8), let tail = xml.range(of: "</heap>", options: .backwards) else { return nil }
        let arenas = xml.components(separatedBy: "<heap nr=").count - 1
        let summary = String(xml[tail.upperBound...])
        func size(_ tag: String) -> Double {
            guard let r = summary.range(of: tag), let s = summary[r.upperBound...].range(of: "size=\""),
                  let e = summary[s.upperBound...].firstIndex(of: "\"") else { return 0 }
            return (Double(summary[s.upperBound..<e]) ?? 0) / 1_048_576
        }
        let free = size("<total type=\"fast\"") + size("<total type=\"rest\"")
        let system = size("<system type=\"current\"") + size("<total type=\"mmap\"")
        return MallocInfo(arenas: arenas, systemMB: system, freeMB: free)
    }
}

/// posix_spawn with every signal unblocked and at its default, standard input from
/// /dev/null, standard output and error appended to `output`.
func spawnWithDefaultSignals(_ path: String, _ arguments: [String], output: String) -> pid_t? {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &all)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
    posix_spawn_file_actions_adddup2(&actions, 1, 2)
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    let envp = ProcessInfo.processInfo.environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp { free(p) } }
    var pid = pid_t()
    return posix_spawn(&pid, path, &actions, &attributes, argv, envp) == 0 ? pid : nil
}
