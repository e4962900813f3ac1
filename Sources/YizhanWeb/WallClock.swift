#if canImport(Glibc)
import Glibc
#endif
import YizhanCore

extension Timestamp {
    /// The wall clock (CLOCK_REALTIME), for the adapters of both servers; the core is
    /// always handed its time.
    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(millisecondsSinceEpoch: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }
}
