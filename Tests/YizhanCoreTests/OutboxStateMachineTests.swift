import Testing
@testable import YizhanCore

extension OutboxStateMachine {
    /// The batch of a `.send` step, nil for any other step.
    mutating func nextBatch(owed sizes: [(seq: Int64, bytes: Int)], now: Duration) -> ClosedRange<Int64>? {
        if case .send(let range) = next(owed: sizes, now: now) { return range }
        return nil
    }
}

@Suite struct OutboxStateMachineTests {
    func owed(_ range: ClosedRange<Int64>, bytes: Int = 100) -> [(seq: Int64, bytes: Int)] {
        range.map { ($0, bytes) }
    }

    var policy: OutboxStateMachine.Policy {
        var p = OutboxStateMachine.Policy()
        p.maximumEvents = 10
        p.maximumBytes = 1000
        p.backoffBase = .seconds(1)
        p.backoffCap = .seconds(60)
        return p
    }

    @Test func sendsInOrderWithinCountAndByteLimits() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        #expect(m.backlog(lastSeq: 25) == 25)
        #expect(m.nextBatch(owed: owed(1...25), now: .zero) == 1...10)
        #expect(m.nextBatch(owed: owed(1...25), now: .zero) == nil, "one batch in flight")
        #expect(m.received(.acknowledged(through: 10), now: .zero, random: 0) == [.recordAcknowledged(10)])
        // 300-byte events: three fit in 1000 bytes.
        #expect(m.nextBatch(owed: owed(11...25, bytes: 300), now: .zero) == 11...13)
        _ = m.received(.acknowledged(through: 13), now: .zero, random: 0)
        // An event above the byte limit still goes, alone.
        #expect(m.nextBatch(owed: [(14, 5000), (15, 10)], now: .zero) == 14...14)
    }

    @Test func waitsForTheNextOwedEvent() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 5)
        #expect(m.nextBatch(owed: [], now: .zero) == nil)
        #expect(m.nextBatch(owed: owed(7...9), now: .zero) == nil, "never skips a sequence number")
    }

    @Test func backsOffExponentiallyWithFullJitterAndACap() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        var now = Duration.zero
        var ceilings: [Duration] = []
        for _ in 0..<9 {
            _ = m.nextBatch(owed: owed(1...3), now: now)
            _ = m.received(.retryable(reason: "connection refused", retryAfter: nil), now: now, random: 0.999_999)
            guard case .backingOff(let until, let reason) = m.state else { Issue.record("not backing off"); return }
            #expect(reason == "connection refused")
            ceilings.append(until - now)
            #expect(m.nextBatch(owed: owed(1...3), now: until - .milliseconds(1)) == nil, "not before the wait ends")
            now = until
        }
        let seconds = ceilings.map { Int(($0.milliseconds + 500) / 1000) }
        #expect(seconds == [1, 2, 4, 8, 16, 32, 60, 60, 60])
        #expect(m.failures == 9)
        // Full jitter: random 0 means "retry at once".
        _ = m.nextBatch(owed: owed(1...3), now: now)
        _ = m.received(.retryable(reason: "x", retryAfter: nil), now: now, random: 0)
        #expect(m.state == .backingOff(until: now, reason: "x"))
        #expect(m.nextBatch(owed: owed(1...3), now: now) == 1...3)
        #expect(m.received(.acknowledged(through: 3), now: now, random: 0) == [.recordAcknowledged(3)])
        #expect(m.failures == 0)
    }

    @Test func retryAfterIsHonoured() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        _ = m.nextBatch(owed: owed(1...3), now: .zero)
        _ = m.received(.retryable(reason: "429", retryAfter: .seconds(30)), now: .zero, random: 0.1)
        #expect(m.state == .backingOff(until: .seconds(30), reason: "429"))
    }

    @Test func unauthorizedStopsUntilTheTokenChanges() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        _ = m.nextBatch(owed: owed(1...3), now: .zero)
        _ = m.received(.unauthorized(reason: "401 wrong token"), now: .zero, random: 0)
        #expect(m.state == .stopped(reason: "401 wrong token"))
        #expect(m.nextBatch(owed: owed(1...3), now: .seconds(3600)) == nil)
        m.resumeAfterCredentialsChange()
        #expect(m.nextBatch(owed: owed(1...3), now: .seconds(3600)) == 1...3)
    }

    @Test func tooLargeSplitsAndASingleTooLargeEventIsQuarantined() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        #expect(m.nextBatch(owed: owed(1...10), now: .zero) == 1...10)
        _ = m.received(.tooLarge, now: .zero, random: 0)
        #expect(m.nextBatch(owed: owed(1...10), now: .zero) == 1...5)
        _ = m.received(.tooLarge, now: .zero, random: 0)
        #expect(m.nextBatch(owed: owed(1...10), now: .zero) == 1...2)
        _ = m.received(.tooLarge, now: .zero, random: 0)
        #expect(m.nextBatch(owed: owed(1...10), now: .zero) == 1...1)
        #expect(m.received(.tooLarge, now: .zero, random: 0)
                == [.quarantine(first: 1, last: 1, reason: "too large for the collector (413)"), .recordAcknowledged(1)])
        #expect(m.nextBatch(owed: owed(2...10), now: .zero) == 2...2, "the smaller limit stays")
    }

    @Test func anInvalidEventIsIsolatedAndQuarantinedWithoutBlockingTheRest() {
        // Event 4 is the bad one; the collector rejects any batch containing it.
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        var quarantined: [Int64] = []
        var sent = 0
        while m.acknowledged < 10, sent < 50 {
            guard let batch = m.nextBatch(owed: owed((m.acknowledged + 1)...10), now: .zero) else { break }
            sent += 1
            let answer: OutboxStateMachine.Answer = batch.contains(4) ? .invalid(reason: "bad time") : .acknowledged(through: batch.upperBound)
            for action in m.received(answer, now: .zero, random: 0) {
                if case .quarantine(let f, let l, let reason) = action {
                    quarantined += Array(f...l)
                    #expect(reason == "rejected by the collector: bad time")
                }
            }
        }
        #expect(m.acknowledged == 10, "everything after the bad event still arrives")
        #expect(quarantined == [4])
    }

    @Test func anAcknowledgementNeverMovesBackwardsOrBeyondTheBatch() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 5)
        _ = m.nextBatch(owed: owed(6...8), now: .zero)
        #expect(m.received(.acknowledged(through: 100), now: .zero, random: 0) == [.recordAcknowledged(8)])
        _ = m.nextBatch(owed: owed(9...9), now: .zero)
        #expect(m.received(.acknowledged(through: 3), now: .zero, random: 0).isEmpty)
        #expect(m.acknowledged == 8)
    }

    /// Every step the adapter carries out, and nothing it has to infer from the state.
    @Test func stepsSayWhatToDoNext() {
        var m = OutboxStateMachine(policy: policy, acknowledged: 0)
        #expect(m.next(owed: [], now: .zero) == .awaitEvents)
        #expect(m.next(owed: owed(1...3), now: .zero) == .send(1...3))
        #expect(m.next(owed: owed(1...3), now: .zero) == .awaitAnswer)
        _ = m.received(.retryable(reason: "down", retryAfter: .seconds(30)), now: .zero, random: 0)
        #expect(m.next(owed: owed(1...3), now: .seconds(10)) == .wait(until: .seconds(30)))
        #expect(m.next(owed: owed(1...3), now: .seconds(30)) == .send(1...3))
        _ = m.received(.unauthorized(reason: "401"), now: .seconds(30), random: 0)
        #expect(m.next(owed: owed(1...3), now: .seconds(31)) == .awaitCredentials(reason: "401"))
        m.resumeAfterCredentialsChange()
        #expect(m.next(owed: owed(1...3), now: .seconds(32)) == .send(1...3))
    }
}
