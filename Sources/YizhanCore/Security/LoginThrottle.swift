/// Who may try a password now. Failures are counted per account and per source address,
/// each with its own allowance and then a delay that doubles with every further failure;
/// there is no global lock, so nobody can keep the office out by failing on purpose.
///
/// - A failure for a name that has no account counts against the address only: guessing
///   names never slows a real account down.
/// - An attempt is reserved (counted as a failure) *before* the password is hashed, and
///   refunded when it succeeds, so a burst of concurrent guesses is cut off at the
///   allowance instead of all reaching bcrypt.
///
/// Pure: time is passed in, the caller keeps the value behind its lock.
public struct LoginThrottle: Sendable {
    public struct Policy: Hashable, Sendable {
        /// Failures allowed before delays start.
        public var accountAllowance: Int
        public var addressAllowance: Int
        /// The first delay; each further failure doubles it, up to `maximumDelay`.
        public var firstDelay: Duration
        public var maximumDelay: Duration
        /// A key with no failure for this long is forgotten.
        public var forgetAfter: Duration
        /// Keys kept at most (the oldest are dropped first): memory stays bounded whatever
        /// number of addresses and names an attacker uses.
        public var maximumKeys: Int

        public init(accountAllowance: Int = 5, addressAllowance: Int = 20, firstDelay: Duration = .seconds(2),
                    maximumDelay: Duration = .seconds(15 * 60), forgetAfter: Duration = .seconds(3600), maximumKeys: Int = 100_000) {
            self.accountAllowance = accountAllowance; self.addressAllowance = addressAllowance; self.firstDelay = firstDelay
            self.maximumDelay = maximumDelay; self.forgetAfter = forgetAfter; self.maximumKeys = maximumKeys
        }
    }

    /// An attempt that may go ahead: pass it back to `succeeded` or leave it counted.
    public struct Reservation: Hashable, Sendable {
        public var account: String?
        public var address: String
    }

    public enum Decision: Hashable, Sendable {
        case proceed(Reservation)
        /// Refused without looking at the password; try again after this long.
        case wait(Duration)
    }

    struct Entry: Hashable, Sendable {
        var failures = 0
        var blockedUntil: Timestamp
        var lastFailure: Timestamp
    }

    public let policy: Policy
    private var accounts: [String: Entry] = [:]
    private var addresses: [String: Entry] = [:]

    public init(policy: Policy = Policy()) { self.policy = policy }

    /// - Parameters:
    ///   - account: the account's name when it exists, nil for an unknown name.
    ///   - address: the client's address (its IP, without the port).
    public mutating func begin(account: String?, address: String, now: Timestamp) -> Decision {
        let accountWait = account.flatMap { remaining(accounts[$0], now) }
        let addressWait = remaining(addresses[address], now)
        if let wait = [accountWait, addressWait].compactMap({ $0 }).max() { return .wait(wait) }
        if let account { Self.fail(&accounts, account, allowance: policy.accountAllowance, policy: policy, now: now) }
        Self.fail(&addresses, address, allowance: policy.addressAllowance, policy: policy, now: now)
        return .proceed(Reservation(account: account, address: address))
    }

    /// The password was right: the account starts afresh, the address gets its attempt back.
    public mutating func succeeded(_ r: Reservation) {
        if let account = r.account { accounts[account] = nil }
        if var e = addresses[r.address] {
            e.failures = max(0, e.failures - 1)
            if e.failures < policy.addressAllowance { e.blockedUntil = e.lastFailure }
            addresses[r.address] = e.failures == 0 ? nil : e
        }
    }

    /// Drops keys idle for `forgetAfter`; call now and then (every `begin` is fine too).
    public mutating func prune(now: Timestamp) {
        let forget = policy.forgetAfter
        let keep = { (e: Entry) in now - e.lastFailure < forget || e.blockedUntil > now }
        accounts = accounts.filter { keep($0.value) }
        addresses = addresses.filter { keep($0.value) }
    }

    public var trackedKeys: Int { accounts.count + addresses.count }

    private func remaining(_ e: Entry?, _ now: Timestamp) -> Duration? {
        guard let e, e.blockedUntil > now else { return nil }
        return e.blockedUntil - now
    }

    private static func fail(_ map: inout [String: Entry], _ key: String, allowance: Int, policy: Policy, now: Timestamp) {
        var e = map[key] ?? Entry(blockedUntil: now, lastFailure: now)
        if now - e.lastFailure >= policy.forgetAfter { e.failures = 0 }
        e.failures += 1
        e.lastFailure = now
        if e.failures >= allowance {
            // 2 s, 4 s, 8 s, ... for each failure past the allowance.
            let doublings = min(e.failures - allowance, 30)
            let delay = min(policy.firstDelay * (1 << doublings), policy.maximumDelay)
            e.blockedUntil = now + delay
        }
        if map[key] == nil, map.count >= policy.maximumKeys / 2 {
            map = map.filter { now - $0.value.lastFailure < policy.forgetAfter || $0.value.blockedUntil > now }
            if map.count >= policy.maximumKeys / 2, let oldest = map.min(by: { $0.value.lastFailure < $1.value.lastFailure }) {
                map[oldest.key] = nil
            }
        }
        map[key] = e
    }
}

/// Passwords people may set and send: no NUL (C libraries, bcrypt among them, stop at
/// it, so `right%00junk` would log in) and at most 72 bytes (bcrypt ignores the rest).
public enum PasswordRules {
    public static let maximumBytes = 72
    public static let minimumCharacters = 8

    public enum Problem: Error, Hashable, Sendable, CustomStringConvertible {
        case containsNUL, tooLong, tooShort
        public var description: String {
            switch self {
            case .containsNUL: "a password must not contain a NUL character"
            case .tooLong: "a password has at most \(PasswordRules.maximumBytes) bytes (UTF-8)"
            case .tooShort: "a password has at least \(PasswordRules.minimumCharacters) characters"
            }
        }
    }

    /// For a password typed at login: anything that could never have been set is refused
    /// before it reaches bcrypt.
    public static func checkSubmitted(_ password: String) throws(Problem) {
        if password.utf8.contains(0) { throw .containsNUL }
        if password.utf8.count > maximumBytes { throw .tooLong }
    }

    /// For a new password (`user add`, `manager add`).
    public static func checkNew(_ password: String) throws(Problem) {
        try checkSubmitted(password)
        if password.count < minimumCharacters { throw .tooShort }
    }
}
