import YizhanCore
import YizhanTOML

extension CollectorConfiguration {
    /// `[public]`: the finder's and open data's limit per client address.
    ///
    ///     [public]
    ///     requests_per_second = 10   # refill
    ///     burst = 40                 # requests one address may make at once
    static func parsePublic(_ doc: TOMLDocument, into c: inout CollectorConfiguration) throws(ConfigurationError) {
        guard var p = try doc.section("public", required: false) else { return }
        if let n = try p.int("requests_per_second", range: 1...1_000_000) { c.publicRateLimit.perSecond = Double(n) }
        if let n = try p.int("burst", range: 1...1_000_000) { c.publicRateLimit.burst = Double(n) }
        try p.rejectUnknownKeys()
    }
}
