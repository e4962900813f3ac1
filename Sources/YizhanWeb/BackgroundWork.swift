import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// CPU-heavy work a server does for itself — rebuilding an index of 200,000 stations,
/// encoding a 60 MB feed — kept off the threads that answer requests.
///
/// Swift's cooperative pool has as many threads as cores (two here): one second of
/// rebuilding on it is one second in which half the requests wait. This runs such work on
/// one thread of its own, niced (+5) so that when the cores are busy the scheduler gives
/// requests the larger share and the rebuild finishes later instead.
public enum BackgroundWork {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    /// Niceness of the background thread: CFS weights +5 at about a third of a request
    /// thread's share.
    static let niceness: Int32 = 5

    /// Runs `work` on the background thread and returns its result.
    public static func run<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
        try await pool.runIfActive {
            #if canImport(Glibc)
            // On Linux the nice value is per thread (setpriority(2), "BUGS"): this lowers
            // the pool's own thread only, and setting it again costs one system call.
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, niceness)
            #endif
            return try work()
        }
    }

    /// Runs `body` on the calling thread at the background thread's lower priority, then
    /// restores it: for work that must run on a thread of its own, such as a database read
    /// on GRDB's reader thread that decodes 200,000 rows for an in-memory copy.
    public static func niced<T>(_ body: () throws -> T) rethrows -> T {
        #if canImport(Glibc)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        let before = getpriority(which, 0)
        _ = setpriority(which, 0, max(before, niceness))
        defer { _ = setpriority(which, 0, before) }
        #endif
        return try body()
    }

    /// Lets go of `value` on the background thread: the last reference to a large structure
    /// (200,000 stations) costs milliseconds to drop, which a request thread should not pay.
    public static func release<T>(_ value: consuming T) {
        let box = Retiring(value)
        pool.submit { _ in box.value = nil }
    }

    private final class Retiring<T>: @unchecked Sendable {
        // Written once more, on the pool's one thread, after submit hands the box over.
        var value: T?
        init(_ value: T) { self.value = value }
    }
}
