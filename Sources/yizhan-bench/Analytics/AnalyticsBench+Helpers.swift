import ArgumentParser
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
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

extension AnalyticsBench {
    // MARK: helpers

    final class RSSSampling: Sendable {
        let state = Mutex<(label: String, rows: [(at: Double, label: String, mb: Double)], stop: Bool)>(("start", [], false))
    }

    /// A percentile of sorted samples; NaN when there are none.
    func p(_ sorted: [Double], _ q: Double) -> Double { sorted.isEmpty ? .nan : percentile(sorted, q) }

    func dateText(_ t: Timestamp) -> String {
        let c = CivilTime(t, offset: Self.offset)
        return String(format: "%04d-%02d-%02d", c.year, c.month, c.day)
    }

    func encode(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
    }

    func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3).joined(separator: " ")
    }
}
