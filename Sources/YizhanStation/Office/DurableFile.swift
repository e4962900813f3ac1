import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small file replaced whole: written beside itself, fsync'd, renamed over the old one,
/// and the directory fsync'd, so a power cut leaves the old version or the new, never half.
enum DurableFile {
    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var call: String
        var code: Int32
        var description: String { "\(call) \(path): \(String(cString: strerror(code)))" }
    }

    static func write(_ data: Data, to path: String) throws {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw WriteError(path: temporary, call: "open", code: errno) }
        var ok = true
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; ok = false; return }
                offset += n
            }
        }
        let writeErrno = errno
        guard ok else { close(fd); throw WriteError(path: temporary, call: "write", code: writeErrno) }
        guard fsync(fd) == 0 else { let e = errno; close(fd); throw WriteError(path: temporary, call: "fsync", code: e) }
        close(fd)
        guard rename(temporary, path) == 0 else { throw WriteError(path: path, call: "rename", code: errno) }
        let dir = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dir >= 0 { _ = fsync(dir); close(dir) }
    }

    /// The file's bytes, nil when it does not exist.
    static func read(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }
}
