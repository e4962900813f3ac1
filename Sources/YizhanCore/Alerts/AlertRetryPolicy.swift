/// When to try a failed delivery again: exponential backoff with full jitter, capped, so
/// a receiver that was down is not hit by every collector at once when it returns.
public struct AlertRetryPolicy: Hashable, Sendable {
    public var base: Duration = .seconds(2)
    public var cap: Duration = .seconds(600)
    public init(base: Duration = .seconds(2), cap: Duration = .seconds(600)) { self.base = base; self.cap = cap }

    /// The wait after `attempts` failed attempts (1 after the first); `random` in 0..<1.
    public func delay(attempts: Int, random: Double) -> Duration {
        let exponent = min(max(attempts - 1, 0), 20)
        let ceiling = min(cap, base * (1 << exponent))
        // At least half the ceiling: a failing receiver is never hammered in a tight loop.
        return ceiling / 2 + (ceiling / 2) * random
    }
}
