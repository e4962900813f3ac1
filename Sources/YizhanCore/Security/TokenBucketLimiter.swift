/// Requests allowed per client: a token bucket per key (a client's address) that holds
/// `burst` tokens and refills at `perSecond`; a request takes one, and a client whose bucket
/// is empty is told how long until the next token.
///
/// The table is bounded: at `maximumKeys` the full buckets (idle long enough to have
/// refilled) are dropped, and if that is not enough the least recently used half. A dropped
/// client starts again with a full bucket, which costs at most one burst per eviction.
///
/// Pure: time is passed in; the caller keeps the value behind its lock.
public struct TokenBucketLimiter: Sendable {
    public struct Policy: Hashable, Sendable {
        public var perSecond: Double
        public var burst: Double
        public var maximumKeys: Int

        public init(perSecond: Double = 10, burst: Double = 40, maximumKeys: Int = 100_000) {
            self.perSecond = perSecond; self.burst = burst; self.maximumKeys = maximumKeys
        }
    }

    public enum Decision: Hashable, Sendable {
        case allow
        /// Refused; a token is there after this long.
        case wait(Duration)
    }

    struct Bucket: Hashable, Sendable {
        var tokens: Double
        var updated: Timestamp
    }

    public let policy: Policy
    private var buckets: [String: Bucket] = [:]

    public init(policy: Policy = Policy()) { self.policy = policy }

    /// Keys held now.
    public var count: Int { buckets.count }

    public mutating func take(_ key: String, now: Timestamp) -> Decision {
        var b = buckets[key] ?? Bucket(tokens: policy.burst, updated: now)
        b.tokens = refilled(b, now)
        b.updated = max(b.updated, now)
        let decision: Decision
        if b.tokens >= 1 {
            b.tokens -= 1
            decision = .allow
        } else {
            let seconds = (1 - b.tokens) / policy.perSecond
            decision = .wait(.milliseconds(Int64((seconds * 1000).rounded(.up))))
        }
        if buckets[key] == nil && buckets.count >= policy.maximumKeys { evict(now: now) }
        buckets[key] = b
        return decision
    }

    private func refilled(_ b: Bucket, _ now: Timestamp) -> Double {
        let elapsed = Double(max(0, (now - b.updated).milliseconds)) / 1000
        return min(policy.burst, b.tokens + elapsed * policy.perSecond)
    }

    private mutating func evict(now: Timestamp) {
        buckets = buckets.filter { refilled($0.value, now) < policy.burst }
        guard buckets.count >= policy.maximumKeys else { return }
        let keep = buckets.sorted { $0.value.updated > $1.value.updated }.prefix(policy.maximumKeys / 2)
        buckets = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
    }
}
