import Logging
import Metrics
import Synchronization
import YizhanCore

/// What the uplink's services have done, for `yizhanctl status`, the kiosk and heartbeats.
public final class UplinkStatus: Sendable {
    public struct Snapshot: Sendable {
        public var state: UplinkState = .starting
        public var detail: String?
        public var lastAck: Int64 = 0
        public var sentEvents = 0
        public var retries = 0
        public var quarantined = 0
        public var lastHeartbeat: Timestamp?
    }

    private let value = Mutex(Snapshot())

    public var snapshot: Snapshot { value.withLock { $0 } }

    func update(_ change: (inout Snapshot) -> Void) { value.withLock { change(&$0) } }

    /// The outbox's state as the status shows it; logs each change of state once.
    func record(_ machine: OutboxStateMachine, lastSeq: Int64, tokenFile: String, logger: Logger) {
        let (state, detail): (UplinkState, String?)
        switch machine.state {
        case .ready: (state, detail) = (machine.backlog(lastSeq: lastSeq) == 0 ? .idle : .sending, nil)
        case .sending: (state, detail) = (.sending, nil)
        case .backingOff(_, let reason): (state, detail) = (.retrying, reason)
        case .stopped(let reason): (state, detail) = (.stopped, reason)
        }
        let previous = value.withLock { s -> UplinkState in
            defer { s.state = state; s.detail = detail; s.lastAck = machine.acknowledged }
            return s.state
        }
        if previous != state {
            switch state {
            case .stopped: logger.error("uplink stopped: \(detail ?? ""); fix the token in \(tokenFile)")
            case .retrying: logger.warning("uplink: collector unreachable (\(detail ?? "")); retrying with backoff")
            default: logger.info("uplink \(state.rawValue)")
            }
        }
        Metrics.Gauge(label: "yizhan_uplink_backlog").record(machine.backlog(lastSeq: lastSeq))
    }
}
