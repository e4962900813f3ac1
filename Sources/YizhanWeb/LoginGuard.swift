import HummingbirdBcrypt
import NIOPosix
import Synchronization
import YizhanCore

/// Password logins for both servers: the throttle (per account, per address, reserved
/// before hashing), the password rules, and a bound on bcrypt work in flight, so that
/// guesses can neither lock people out nor burn the CPU.
public final class LoginGuard: Sendable {
    public enum Outcome: Sendable, Equatable {
        case success
        case wrongCredentials
        /// Refused before hashing; the client may try again after this long.
        case throttled(retryAfter: Duration)
        /// Too many passwords being checked at once.
        case busy
        /// The submitted password could never be right (a NUL, over-long).
        case malformed(PasswordRules.Problem)
    }

    private let throttle: Mutex<LoginThrottle>
    private let hashing: HashingLimiter
    private let clock: @Sendable () -> Timestamp
    /// Checked against when the name is unknown, so that costs as long as a wrong password
    /// (made on first use: a third of a second).
    private static let unknownUserHash = Bcrypt.hash(LoginGuard.randomText(), cost: 12)

    public init(policy: LoginThrottle.Policy = .init(), concurrentHashes: Int = 2, queuedHashes: Int = 16,
                clock: @escaping @Sendable () -> Timestamp = { .now() }) {
        throttle = Mutex(LoginThrottle(policy: policy))
        hashing = HashingLimiter(slots: concurrentHashes, queue: queuedHashes)
        self.clock = clock
    }

    static func randomText() -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in Character(Unicode.Scalar(UInt8.random(in: 97...122, using: &rng))) })
    }

    /// - Parameters:
    ///   - account: the account's name if it exists (nil for an unknown name).
    ///   - passwordHash: its bcrypt hash (nil for an unknown name).
    public func attempt(account: String?, passwordHash: String?, password: String, address: String) async -> Outcome {
        do { try PasswordRules.checkSubmitted(password) } catch { return .malformed(error) }
        let now = clock()
        let reservation: LoginThrottle.Reservation
        switch throttle.withLock({ t in
            if t.trackedKeys > 1000 { t.prune(now: now) }
            return t.begin(account: passwordHash == nil ? nil : account, address: address, now: now)
        }) {
        case .wait(let d): return .throttled(retryAfter: d)
        case .proceed(let r): reservation = r
        }
        let hash = passwordHash ?? Self.unknownUserHash
        guard let ok = await hashing.run({ Bcrypt.verify(password, hash: hash) }) else { return .busy }
        guard ok, passwordHash != nil else { return .wrongCredentials }
        throttle.withLock { $0.succeeded(reservation) }
        return .success
    }
}

/// At most `slots` bcrypt computations at once (each takes ~0.3 s of a core), the next
/// `queue` waiting their turn, and the rest refused at once.
final class HashingLimiter: Sendable {
    private struct State {
        var running = 0
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())
    private let slots: Int
    private let queue: Int

    init(slots: Int, queue: Int) { self.slots = slots; self.queue = queue }

    /// The work's result, or nil when the queue is full.
    private enum Admission { case now, wait, refused }

    func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T? {
        let admission: Admission = state.withLock { s in
            if s.running < slots { s.running += 1; return .now }
            return s.waiting.count < queue ? .wait : .refused
        }
        switch admission {
        case .refused: return nil
        case .wait:
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let admitted: Bool = state.withLock { s in
                    if s.running < slots { s.running += 1; return true }
                    s.waiting.append(c); return false
                }
                if admitted { c.resume() }
            }
        case .now: break
        }
        // On NIO's blocking-work threads, not the cooperative pool: bcrypt holds its
        // thread for a third of a second, and the pool has one thread per core.
        let result = try? await NIOThreadPool.singleton.runIfActive { work() }
        let next: CheckedContinuation<Void, Never>? = state.withLock { s in
            if s.waiting.isEmpty { s.running -= 1; return nil }
            return s.waiting.removeFirst()  // the slot passes straight to the next waiter
        }
        next?.resume()
        return result
    }
}
