import Foundation
import YizhanCore
import YizhanTOML
import YizhanWeb

/// `collector.toml`: see config/collector.example.toml.
public struct CollectorConfiguration: Sendable {
    public enum Storage: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)

        /// The storage URL as configured.
        public var url: String {
            switch self {
            case .sqlite(let path): "sqlite://" + path
            case .postgres(let url): url
            }
        }

        /// For messages: a PostgreSQL password never reaches a log.
        public var redacted: String {
            switch self {
            case .sqlite(let path): return "sqlite://" + path
            case .postgres(let url):
                guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"),
                      let colon = url[scheme.upperBound..<at].firstIndex(of: ":") else { return url }
                return String(url[..<colon]) + ":***" + String(url[at...])
            }
        }
    }

    public var file: String
    public var host: String
    public var port: Int
    public var storage: Storage
    /// Largest accepted request body, compressed and inflated.
    public var maximumBodyBytes: Int
    /// A station without a heartbeat for this long is offline.
    public var offlineAfter: Duration
    public var logLevel: String
    /// The office's local time: days, hours and dates in questions and answers.
    public var utcOffset: UTCOffset = .china
    /// Raw events older than this many months are dropped (rollups and sketches are kept);
    /// 0 keeps them for ever (`[storage] raw_retention_months`).
    public var rawRetentionMonths = 0
    /// `[alerts]`: thresholds and channels (docs/alerts.md).
    public var alerts = AlertsConfiguration()
    /// Connections, timeouts and request sizes one client may use.
    public var limits = CollectorConfiguration.defaultLimits
    /// Requests per client address on the public finder and open data (`[public]`).
    public var publicRateLimit = TokenBucketLimiter.Policy()

    /// Stations keep their connection between heartbeats, so the idle timeout is longer
    /// than the usual heartbeat interval and the connection limit above a province's
    /// stations per collector.
    public static let defaultLimits = ServerLimits(maximumConnections: 10_000, idleTimeout: .seconds(75), bodyTimeout: .seconds(60))

    /// Its own directory: /etc/yizhan is group-restricted to station operators.
    public static let defaultPath = "/etc/yizhan-collector/collector.toml"

    public static func load(path: String) throws(ConfigurationError) -> CollectorConfiguration {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, line: nil, message: "cannot read the configuration file")
        }
        return try parse(text: text, file: path)
    }

    public static func parse(text: String, file: String) throws(ConfigurationError) -> CollectorConfiguration {
        let doc = try TOMLDocument(file: file, text: text)
        try doc.rejectUnknownTables(["http", "storage", "ingest", "reports", "log", "alerts", "public"])
        var c = CollectorConfiguration(file: file, host: "127.0.0.1", port: 9090, storage: .sqlite(path: "/var/lib/yizhan-collector/collector.db"),
                                       maximumBodyBytes: 8 << 20, offlineAfter: .seconds(180), logLevel: "info")
        if var h = try doc.section("http", required: false) {
            if let (host, port) = try h.listenAddress("listen") { (c.host, c.port) = (host, port) }
            if let n = try h.int("max_connections", range: 16...1_000_000) { c.limits.maximumConnections = n }
            if let s = try h.int("idle_timeout_seconds", range: 1...3600) { c.limits.idleTimeout = .seconds(s) }
            if let s = try h.int("body_timeout_seconds", range: 1...3600) { c.limits.bodyTimeout = .seconds(s) }
            try h.rejectUnknownKeys()
        }
        if var s = try doc.section("storage", required: false) {
            if let url = try s.string("url") {
                if url.hasPrefix("sqlite://") {
                    let path = String(url.dropFirst("sqlite://".count))
                    guard path.hasPrefix("/") else { throw s.fail("url", "expected sqlite:///absolute/path.db, got \"\(url)\"") }
                    c.storage = .sqlite(path: path)
                } else if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
                    c.storage = .postgres(url: url)
                } else {
                    throw s.fail("url", "expected sqlite:///path or postgres://user@host/db, got \"\(url)\"")
                }
            }
            if let months = try s.int("raw_retention_months", range: 0...1200) { c.rawRetentionMonths = months }
            try s.rejectUnknownKeys()
        }
        if var i = try doc.section("ingest", required: false) {
            if let kb = try i.int("max_body_kilobytes", range: 16...1_048_576) { c.maximumBodyBytes = kb * 1024 }
            if let s = try i.int("offline_after_seconds", range: 10...86_400) { c.offlineAfter = .seconds(s) }
            try i.rejectUnknownKeys()
        }
        if var r = try doc.section("reports", required: false) {
            if let text = try r.string("utc_offset") {
                guard let offset = UTCOffset(parsing: text) else { throw r.fail("utc_offset", "expected an offset such as +08:00, got \"\(text)\"") }
                // Rollups are kept per hour: a day must start on an hour.
                guard offset.seconds % 3600 == 0 else { throw r.fail("utc_offset", "expected whole hours (rollups are hourly), got \"\(text)\"") }
                c.utcOffset = offset
            }
            try r.rejectUnknownKeys()
        }
        c.alerts = try AlertsConfiguration.parse(doc)
        try parsePublic(doc, into: &c)
        if var l = try doc.section("log", required: false) {
            c.logLevel = try l.string("level") ?? "info"
            try l.rejectUnknownKeys()
        }
        return c
    }
}

