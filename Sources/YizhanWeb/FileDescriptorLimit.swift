#if canImport(Glibc)
import Glibc
#endif

/// The open-files limit against the connection limit: a server that accepts more
/// connections than it may open files fails every request with EMFILE instead of making
/// the next client wait.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one (systemd's units set the hard one); returns
    /// the soft limit in force afterwards.
    @discardableResult
    public static func raiseToHard() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY (all ones) clamps to Int.max
    }

    /// The connections a server can hold with `files` open files: the rest is kept for its
    /// database, logs and listeners.
    public static func connections(fitting files: Int) -> Int { max(16, files - 128) }
}
