import AsyncHTTPClient
import CompressNIO
import Foundation
import Logging
import Metrics
import NIOCore
import Synchronization
import YizhanCore

/// Sends the event log to the collector and heartbeats, carrying out what the pure
/// `OutboxStateMachine` decides. At least once, in order, idempotent at the collector by
/// (station, seq); the acknowledged watermark is durable in station.db, so a restart or a
/// week offline resends nothing that was acknowledged and loses nothing that was not.
public final class UplinkService: Sendable {
    public struct Status: Sendable {
        public var state = "starting"
        public var detail: String?
        public var lastAck: Int64 = 0
        public var sentEvents = 0
        public var retries = 0
        public var quarantined = 0
        public var lastHeartbeat: Timestamp?
    }

    let configuration: StationConfiguration
    let uplink: StationConfiguration.Uplink
    let store: EventStore
    let recorder: VisitRecorder
    let registry: ReaderRegistry
    let logger: Logger
    let newEvents = DeviceChangeNotifier()
    private let status = Mutex(Status())
    private let client: HTTPClient

    public init(configuration: StationConfiguration, uplink: StationConfiguration.Uplink, store: EventStore,
                recorder: VisitRecorder, registry: ReaderRegistry, logger: Logger) {
        self.configuration = configuration
        self.uplink = uplink
        self.store = store
        self.recorder = recorder
        self.registry = registry
        self.logger = logger
        var c = HTTPClient.Configuration()
        c.timeout = .init(connect: .seconds(10), read: .seconds(Int64(uplink.timeout.wholeSeconds)))
        c.decompression = .enabled(limit: .size(1 << 20))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        let newEvents = self.newEvents
        recorder.observe { _, _ in newEvents.notify() }
    }

    public var snapshot: Status { status.withLock { $0 } }

    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sendLoop() }
            group.addTask { await self.heartbeatLoop() }
            group.addTask { await self.housekeepingLoop() }
            await group.next()
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    // MARK: events

    private func sendLoop() async {
        var policy = OutboxStateMachine.Policy()
        policy.maximumEvents = uplink.batchEvents
        policy.maximumBytes = uplink.batchBytes
        policy.backoffCap = uplink.backoffCap
        let acknowledged = (try? store.acknowledged()) ?? 0
        var machine = OutboxStateMachine(policy: policy, acknowledged: acknowledged)
        status.withLock { $0.lastAck = acknowledged; $0.quarantined = (try? store.quarantinedCount()) ?? 0 }
        let clock = ContinuousClock()
        let origin = clock.now
        var stoppedToken: String?
        while !Task.isCancelled {
            let generation = newEvents.generation
            let now = clock.now - origin
            if case .stopped = machine.state {
                // Credentials were refused: wait for the token file to change.
                if let token = try? readToken(), token != stoppedToken {
                    machine.resumeAfterCredentialsChange()
                    logger.notice("uplink: token file changed, sending again")
                } else {
                    await newEvents.wait(timeout: .seconds(10))
                    continue
                }
            }
            let owed: [RecordedEvent]
            do {
                var q = EventStore.Query()
                q.after = machine.acknowledged
                q.limit = machine.eventLimit
                owed = try await store.events(q)
            } catch {
                logger.error("uplink: cannot read the event log: \(error)")
                await newEvents.wait(timeout: .seconds(5))
                continue
            }
            let records = owed.map { r -> EventRecord in
                var e = EventRecord(r, offset: configuration.station.utcOffset)
                e.cardHint = nil  // hints stay at the station
                return e
            }
            // Each event is encoded once: its size feeds the batch limit, its bytes the body.
            let encoded = records.map { r in (seq: r.seq, json: Data(r.jsonBytes)) }
            guard let range = machine.nextBatch(owed: encoded.map { ($0.seq, $0.json.count) }, now: now) else {
                updateState(machine, lastSeq: recorder.snapshot.lastSeq)
                // Nothing to send, or backing off: wait for new events or the end of the wait.
                var wait: Duration = .seconds(5)
                if case .backingOff(let until, _) = machine.state { wait = max(.milliseconds(10), until - now) }
                if case .backingOff = machine.state {
                    try? await Task.sleep(for: wait)
                } else {
                    await newEvents.wait(timeout: wait, since: generation)
                }
                continue
            }
            let batch = encoded.filter { range.contains($0.seq) }
            let answer = await send(batch.map(\.json))
            if case .unauthorized = answer { stoppedToken = try? readToken() }
            if case .retryable = answer { status.withLock { $0.retries += 1 } }
            for action in machine.received(answer, now: clock.now - origin, random: Double.random(in: 0..<1)) {
                switch action {
                case .recordAcknowledged(let seq):
                    do {
                        try store.setAcknowledged(seq)
                    } catch {
                        logger.error("uplink: cannot record the acknowledgement \(seq): \(error)")
                    }
                case .quarantine(let first, let last, let reason):
                    logger.error("uplink: events \(first)...\(last) quarantined: \(reason)")
                    try? store.quarantine(first: first, last: last, reason: reason, now: .now())
                    status.withLock { $0.quarantined += Int(last - first + 1) }
                    Metrics.Counter(label: "yizhan_uplink_quarantined_events_total").increment(by: Int(last - first + 1))
                }
            }
            if case .acknowledged = answer {
                status.withLock { $0.sentEvents += batch.count }
                Metrics.Counter(label: "yizhan_uplink_sent_events_total").increment(by: batch.count)
            }
            updateState(machine, lastSeq: recorder.snapshot.lastSeq)
        }
    }

    private func updateState(_ machine: OutboxStateMachine, lastSeq: Int64) {
        let (state, detail): (String, String?)
        switch machine.state {
        case .ready: (state, detail) = (machine.backlog(lastSeq: lastSeq) == 0 ? "idle" : "sending", nil)
        case .sending: (state, detail) = ("sending", nil)
        case .backingOff(_, let reason): (state, detail) = ("retrying", reason)
        case .stopped(let reason): (state, detail) = ("stopped", reason)
        }
        let previous = status.withLock { s -> String in
            defer { s.state = state; s.detail = detail; s.lastAck = machine.acknowledged }
            return s.state
        }
        if previous != state {
            switch state {
            case "stopped": logger.error("uplink stopped: \(detail ?? ""); fix the token in \(uplink.tokenFile)")
            case "retrying": logger.warning("uplink: collector unreachable (\(detail ?? "")); retrying with backoff")
            default: logger.info("uplink \(state)")
            }
        }
        Metrics.Gauge(label: "yizhan_uplink_backlog").record(machine.backlog(lastSeq: lastSeq))
    }

    private func readToken() throws -> String {
        let text = try String(contentsOfFile: uplink.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw CocoaError(.fileReadCorruptFile) }
        return text
    }

    /// The body of an `EventBatch` (see Wire/Uplink.swift), assembled from events that are
    /// already JSON.
    private func batchBody(_ events: [Data]) throws -> ByteBuffer {
        var body = ByteBuffer()
        body.writeString(#"{"station_id":"#)
        var id: [UInt8] = []
        JSONText.appendString(configuration.station.id, to: &id)
        body.writeBytes(id)
        body.writeString(#","events":["#)
        for (i, event) in events.enumerated() {
            if i > 0 { body.writeString(",") }
            body.writeBytes(event)
        }
        body.writeString("]}")
        return body
    }

    private func send(_ batch: [Data]) async -> OutboxStateMachine.Answer {
        let token: String
        do { token = try readToken() } catch {
            return .unauthorized(reason: "cannot read token_file \(uplink.tokenFile)")
        }
        do {
            var body = try batchBody(batch)
            let compressed = try body.compress(with: .gzip())
            var request = HTTPClientRequest(url: endpoint("/api/v1/ingest/events"))
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Content-Encoding", value: "gzip")
            request.headers.add(name: "User-Agent", value: "yizhan-station/\(YizhanVersion.current)")
            request.body = .bytes(compressed)
            let response = try await client.execute(request, timeout: .seconds(uplink.timeout.wholeSeconds))
            let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            let message = (try? JSONDecoder().decode(APIError.self, from: data)).map { "\($0.error): \($0.message)" }
                ?? "HTTP \(response.status.code)"
            switch response.status.code {
            case 200..<300:
                guard let ack = try? JSONDecoder().decode(IngestAcknowledgement.self, from: data) else {
                    return .retryable(reason: "collector answered \(response.status.code) without an acknowledgement", retryAfter: nil)
                }
                return .acknowledged(through: ack.acknowledgedSeq)
            case 401, 403: return .unauthorized(reason: "collector refused the token (\(message))")
            case 413: return .tooLarge
            case 400, 422: return .invalid(reason: message)
            default:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int64.init).map { Duration.seconds($0) }
                return .retryable(reason: "collector answered \(message)", retryAfter: retryAfter)
            }
        } catch {
            return .retryable(reason: "\(error)", retryAfter: nil)
        }
    }

    private func endpoint(_ path: String) -> String {
        var base = uplink.collector
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    // MARK: heartbeats

    private func heartbeatLoop() async {
        while !Task.isCancelled {
            await sendHeartbeat()
            try? await Task.sleep(for: uplink.heartbeat)
        }
    }

    func heartbeat(now: Timestamp = .now()) -> Heartbeat {
        let snapshot = recorder.snapshot
        let s = status.withLock { $0 }
        return Heartbeat(stationID: configuration.station.id, time: RFC3339.format(now, offset: configuration.station.utcOffset),
                         occupancy: snapshot.occupancy, capacity: configuration.station.capacity,
                         open: configuration.policy.hours.isOpen(at: now),
                         readers: registry.snapshot().map { Heartbeat.Reader(name: $0.name, state: $0.state) },
                         amenities: recorder.amenities.statuses.mapValues(\.rawValue), backlog: max(0, snapshot.lastSeq - s.lastAck), lastAck: s.lastAck,
                         lastSeq: snapshot.lastSeq, version: YizhanVersion.current)
    }

    private func sendHeartbeat() async {
        guard let token = try? readToken() else { return }
        do {
            var request = HTTPClientRequest(url: endpoint("/api/v1/ingest/heartbeat"))
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(heartbeat())))
            let response = try await client.execute(request, timeout: .seconds(uplink.timeout.wholeSeconds))
            _ = try await response.body.collect(upTo: 1 << 16)
            if (200..<300).contains(response.status.code) {
                status.withLock { $0.lastHeartbeat = .now() }
            } else {
                logger.debug("heartbeat answered \(response.status.code)")
            }
        } catch {
            logger.debug("heartbeat failed: \(error)")
        }
    }

    // MARK: retention and the storage cap

    private func housekeepingLoop() async {
        while !Task.isCancelled {
            housekeeping(now: .now())
            try? await Task.sleep(for: .seconds(600))
        }
    }

    /// Purges acknowledged events past retention; over the size cap, purges acknowledged
    /// events early (oldest first) and alerts. Unacknowledged events are never dropped: a
    /// station that cannot reach the collector keeps recording and says so.
    func housekeeping(now: Timestamp) {
        let storage = configuration.storage
        do {
            var purged = try store.purgeAcknowledged(before: now - .seconds(Int64(storage.retentionDays) * 86_400))
            let cap = Int64(storage.maximumMegabytes) * 1024 * 1024
            if store.sizeInBytes() > cap {
                // Keep a day of acknowledged history if we can; then everything acknowledged.
                purged += try store.purgeAcknowledged(before: now - .seconds(86_400))
                if store.sizeInBytes() > cap { purged += try store.purgeAcknowledged(before: now + .seconds(1)) }
            }
            if purged > 0 {
                try store.releaseFreePages()
                logger.info("purged \(purged) acknowledged event(s)")
            }
            let over = store.sizeInBytes() > cap
            Metrics.Gauge(label: "yizhan_storage_over_cap").record(over ? 1 : 0)
            if over {
                logger.error("station.db is over [storage] max_megabytes (\(storage.maximumMegabytes) MB) with unacknowledged events; still recording, nothing is dropped: restore the uplink or raise the cap")
            }
        } catch {
            logger.error("housekeeping failed: \(error)")
        }
    }
}
