import Synchronization
import YizhanCore
import YizhanWeb

/// The public endpoints' limit per client address (`TokenBucketLimiter` behind a lock, on
/// the wall clock or an injected one). The address is the socket peer's: behind a reverse
/// proxy every client is the proxy, so give the proxy its own, larger limit there (see
/// docs/open-data.md).
final class PublicRateLimiter: Sendable {
    private let limiter: Mutex<TokenBucketLimiter>
    private let clock: @Sendable () -> Timestamp

    init(policy: TokenBucketLimiter.Policy, clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        limiter = Mutex(TokenBucketLimiter(policy: policy))
        self.clock = clock
    }

    /// Throws 429 with Retry-After when `address` has used its burst.
    func check(_ address: String) throws {
        let now = clock()
        if case .wait(let d) = limiter.withLock({ $0.take(address, now: now) }) {
            throw APIErrorResponse.tooManyRequests(retryAfter: d, message: "too many requests from this address; try again later")
        }
    }
}
