import Logging
import ServiceLifecycle
import Synchronization
import YizhanCore
import YizhanWeb

/// Runs the alert rules every `evaluate_every_seconds` over what the store holds (so every
/// collector on one database sees the same facts) and writes each transition with its
/// deliveries. Several collectors may run it at once: an opening is unique per key in the
/// store and a resolve changes an open row only, so a transition is written once.
public final class AlertEvaluationService: Service, CustomStringConvertible, Sendable {
    public let store: any CollectorStore
    public let configuration: AlertsConfiguration
    /// The office's local time, for opening hours and the messages.
    public let offset: UTCOffset
    let logger: Logger
    let now: @Sendable () -> Timestamp
    let readiness: StoreReadiness
    private let rules: Mutex<AlertRules>
    private let mirror = StationMirror()
    /// Where each pass's copy of the stations is published for the dashboard's pages.
    let live: LiveStations?
    public var description: String { "alert-evaluation" }

    public init(store: any CollectorStore, configuration: AlertsConfiguration, offset: UTCOffset, logger: Logger,
                readiness: StoreReadiness = StoreReadiness(ready: true), live: LiveStations? = nil,
                now: @escaping @Sendable () -> Timestamp = { .now() }) {
        self.store = store; self.configuration = configuration; self.offset = offset; self.logger = logger
        self.readiness = readiness; self.live = live; self.now = now
        rules = Mutex(AlertRules(thresholds: configuration.thresholds))
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.readiness.wait() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let started = ContinuousClock.now
            do { _ = try await runOnce() } catch { logger.error("alert evaluation failed: \(String(reflecting: error))") }
            let pause = Self.pause(after: ContinuousClock.now - started, every: configuration.evaluateEvery)
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: pause) }
        }
    }

    /// The wait before the next pass: the configured interval, stretched so that passes
    /// take at most a fifth of the time (a first pass evaluates every station: at 200,000
    /// stations a second or more of a core, which must not crowd out the requests).
    static func pause(after pass: Duration, every: Duration) -> Duration {
        max(every, pass * 4)
    }

    /// What the last pass did, for tests and the debug log.
    public struct PassFigures: Sendable, Equatable {
        public var stations = 0
        public var evaluated = 0
    }
    private let figures = Mutex<(primed: Bool, last: PassFigures)>((false, PassFigures()))
    public var lastPass: PassFigures { figures.withLock { $0.last } }

    /// One pass: the decisions the store took (a decision another collector took first is left out).
    @discardableResult
    public func runOnce() async throws -> [AlertDecision] {
        let at = now()
        let outageRows = try await store.allOngoingOutages()
        let openAlerts = try await store.alerts(.open, limit: 1_000_000)
        let open = Dictionary(openAlerts.map { ($0.key, $0.openedAt) }, uniquingKeysWith: { a, _ in a })
        let resolved = try await store.alertsResolved(since: at - configuration.thresholds.offlineRearm)
        // Read in part: only the stations heard since the last pass (StationMirror). What a
        // refresh found is not found again: if anything fails before the rules have seen it,
        // the next pass evaluates every station (unprimed until this one succeeds).
        let primed = figures.withLock { f in defer { f.primed = false }; return f.primed }
        let readAt = now()
        let read = try await mirror.refresh(store, now: at)
        live?.publish(read.stations, positions: read.positions, revision: read.revision, at: readAt)
        let (decisions, byID, openByKey, pass) = try await BackgroundWork.run { [offset] in
            var outages: [String: [String: Timestamp]] = [:]
            for o in outageRows { outages[o.station, default: [:]][o.amenity] = Timestamp(millisecondsSinceEpoch: o.since) }
            // The first pass evaluates every station; later ones only those whose decisions
            // may have changed (AlertRules.stationsToEvaluate), in the store's order.
            let positions: [Int]
            if primed {
                let ids = self.rules.withLock {
                    $0.stationsToEvaluate(changed: read.changed.lazy.map(\.id), lastSeen: read.stations.lazy.map { ($0.id, $0.lastSeen) },
                                          open: open.keys, outages: outages.keys, now: at)
                }
                positions = ids.compactMap { read.positions[$0] }.sorted()
            } else {
                positions = Array(read.stations.indices)
            }
            // Most stations keep the same hours: each distinct list is parsed once a pass.
            var parsedHours: [[String]: OpeningHours?] = [:]
            func hours(_ text: [String]?) -> OpeningHours? {
                guard let text else { return nil }
                if let known = parsedHours[text] { return known }
                let parsed = try? OpeningHours(parsing: text, offset: offset)
                parsedHours[text] = parsed
                return parsed
            }
            let facts = positions.map { i in
                let s = read.stations[i]
                return StationAlertFacts(station: s.id, lastSeen: s.lastSeen,
                                         hours: hours(s.live?.openingHours),
                                         occupancy: s.occupancy, capacity: s.live?.capacity ?? s.capacity, backlog: s.live?.backlog ?? 0,
                                         readers: s.live?.readers ?? [], clockSkewSeconds: s.live?.clockSkewSeconds ?? 0,
                                         storagePercent: s.live?.storagePercent, outages: outages[s.id] ?? [:], gaps: s.live?.sequenceGaps ?? [:])
            }
            let decisions = self.rules.withLock {
                $0.evaluate(facts, open: open, lastResolved: resolved, now: at, registered: { read.positions[$0] != nil })
            }
            // Only the stations something was decided about (names and regions for the messages).
            let byID = Dictionary(decisions.compactMap { d in read.positions[d.key.station].map { (d.key.station, read.stations[$0]) } },
                                  uniquingKeysWith: { a, _ in a })
            return (decisions, byID, Dictionary(openAlerts.map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a }),
                    PassFigures(stations: read.stations.count, evaluated: facts.count))
        }
        figures.withLock { $0 = (true, pass) }
        logger.debug("alert pass: \(pass.evaluated) of \(pass.stations) stations evaluated, \(decisions.count) decisions")
        var taken: [AlertDecision] = []
        for d in decisions {
            let station = byID[d.key.station]
            switch d {
            case .open(let key, let since, let detail):
                let notice = AlertNotice(key: key, state: .open, stationName: station?.name ?? "", region: station?.region.description ?? "",
                                         since: since, at: at, detail: detail, offset: offset)
                if try await store.openAlert(key, since: since, at: at, detail: detail, messageZh: notice.messageZh, messageEn: notice.messageEn,
                                             deliveries: deliveries(notice)) {
                    logger.notice("alert open: \(key) \(detail)")
                    taken.append(d)
                }
            case .resolve(let key):
                let was = openByKey[key]
                let notice = AlertNotice(key: key, state: .resolved, stationName: station?.name ?? "", region: station?.region.description ?? "",
                                         since: was?.since ?? at, at: at, detail: was?.detail ?? "", offset: offset)
                if try await store.resolveAlert(key, at: at, deliveries: deliveries(notice)) {
                    logger.notice("alert resolved: \(key)")
                    taken.append(d)
                }
            }
        }
        return taken
    }

    private func deliveries(_ notice: AlertNotice) -> [AlertDelivery] {
        configuration.webhooks.map { AlertDelivery(url: $0.url, format: $0.format, body: $0.format.body(notice)) }
    }
}
