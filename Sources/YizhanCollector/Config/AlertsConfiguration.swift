import YizhanCore
import YizhanTOML

/// `[alerts]` and `[[alerts.webhooks]]` of collector.toml (docs/alerts.md).
public struct AlertsConfiguration: Sendable, Hashable {
    /// One channel: a robot's or a receiver's URL, its format, and a signing secret.
    public struct Webhook: Sendable, Hashable {
        public var url: String
        public var format: WebhookFormat
        public var secret: String?
        public init(url: String, format: WebhookFormat, secret: String? = nil) { self.url = url; self.format = format; self.secret = secret }
    }

    public var thresholds = AlertThresholds()
    public var webhooks: [Webhook] = []
    /// How often the rules run.
    public var evaluateEvery: Duration = .seconds(10)
    /// How often the outbox is looked at for due deliveries.
    public var deliverEvery: Duration = .seconds(1)
    public var retry = AlertRetryPolicy()
    /// Time for one webhook request.
    public var requestTimeout: Duration = .seconds(10)
    /// A station's day already found whole is counted again after this long.
    public var reconcileRecheck: Duration = .seconds(600)
    /// Alerts are on unless `enabled = false`.
    public var enabled = true

    public init() {}

    static func parse(_ doc: TOMLDocument) throws(ConfigurationError) -> AlertsConfiguration {
        var c = AlertsConfiguration()
        guard var a = try doc.section("alerts", required: false) else { return c }
        if let b = try a.bool("enabled") { c.enabled = b }
        if let s = try a.int("offline_after_seconds", range: 1...86_400) { c.thresholds.offlineAfter = .seconds(s) }
        if let s = try a.int("offline_rearm_seconds", range: 0...86_400) { c.thresholds.offlineRearm = .seconds(s) }
        if let s = try a.int("reader_down_seconds", range: 1...86_400) { c.thresholds.readerDownAfter = .seconds(s) }
        if let h = try a.int("amenity_out_of_order_hours", range: 1...720) { c.thresholds.amenityOutOfOrderAfter = .seconds(h * 3600) }
        if let n = try a.int("full_heartbeats", range: 1...1000) { c.thresholds.fullHeartbeats = n }
        if let n = try a.int("full_window_heartbeats", range: 1...1000) { c.thresholds.fullWindow = n }
        if c.thresholds.fullHeartbeats > c.thresholds.fullWindow {
            throw a.fail("full_heartbeats", "must not exceed full_window_heartbeats (\(c.thresholds.fullWindow))")
        }
        if let n = try a.int("backlog_growing_heartbeats", range: 2...1000) { c.thresholds.backlogHeartbeats = n }
        if let n = try a.int("backlog_minimum_events", range: 1...100_000_000) { c.thresholds.backlogMinimum = Int64(n) }
        if let m = try a.int("clock_skew_minutes", range: 1...1440) { c.thresholds.clockSkew = .seconds(m * 60) }
        if let p = try a.int("storage_near_cap_percent", range: 10...100) { c.thresholds.storageNearCapPercent = p }
        if let s = try a.int("evaluate_every_seconds", range: 1...3600) { c.evaluateEvery = .seconds(s) }
        if let s = try a.int("retry_base_seconds", range: 1...3600) { c.retry.base = .seconds(s) }
        if let s = try a.int("retry_cap_seconds", range: 1...86_400) { c.retry.cap = .seconds(s) }
        if let s = try a.int("request_timeout_seconds", range: 1...300) { c.requestTimeout = .seconds(s) }
        if let s = try a.int("reconcile_recheck_seconds", range: 1...86_400) { c.reconcileRecheck = .seconds(s) }
        a.markKnown("webhooks")
        if let value = a.table["webhooks"] {
            guard let array = value.array else { throw a.fail("webhooks", "expected an array of tables [[alerts.webhooks]]") }
            for (i, item) in array.enumerated() {
                guard let table = item.table else { throw a.fail("webhooks", "expected an array of tables [[alerts.webhooks]]") }
                var w = TOMLSection(document: doc, table: table, name: "alerts.webhooks", index: i)
                let url = try w.requiredString("url")
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw w.fail("url", "expected an http:// or https:// URL, got \"\(url)\"") }
                guard let format = try w.choice("format", WebhookFormat.self) else {
                    throw w.fail("format", "is required: one of \(WebhookFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let secret = try w.string("secret")
                try w.rejectUnknownKeys()
                c.webhooks.append(Webhook(url: url, format: format, secret: secret))
            }
        }
        try a.rejectUnknownKeys()
        return c
    }
}
