/// The alert rules: given every station's facts, the alerts open now and when each was
/// last resolved, decides which to open and which to resolve at `now`.
///
/// The open/resolved state lives in the store (so several collectors see the same and the
/// store's unique key makes an opening happen once); this value keeps only what the
/// heartbeats showed over time (a reader's first "not up", recent occupancy and backlog), so
/// a collector that restarts or takes over starts those clocks again: an alert comes late,
/// never twice. Pure: no I/O, time is a parameter.
public struct AlertRules: Sendable {
    public var thresholds: AlertThresholds

    /// One heartbeat as the rules remember it.
    struct Sample: Hashable, Sendable {
        var at: Timestamp
        var full: Bool
        var backlog: Int64
    }
    /// Per station: the heartbeats seen (newest last), bounded.
    private(set) var samples: [String: [Sample]] = [:]
    /// Per reader key: since when it was seen not up.
    private(set) var readerDownSince: [AlertKey: Timestamp] = [:]
    /// The stations whose decisions may change with no new heartbeat: something open or
    /// wanted for them, a clock running (a reader down, an amenity out of order), or silent.
    /// Every other station's decisions change only with its next heartbeat or when it falls
    /// silent, so a pass need not evaluate it (`stationsToEvaluate`).
    public private(set) var watched: Set<String> = []

    public init(thresholds: AlertThresholds = AlertThresholds()) { self.thresholds = thresholds }

    /// Which stations a pass at `now` must evaluate to decide what evaluating all of them
    /// would: those heard since the pass before (`changed`), those with an alert open or an
    /// amenity out of order, the `watched`, and those silent past the grace (`lastSeen`: every
    /// station's last heartbeat; a cheap scan). At national scale that is the heartbeats of
    /// one interval plus those in trouble, not the whole register; but every silent station
    /// is evaluated on every pass, so a network with many dead stations pays for each.
    public func stationsToEvaluate(changed: some Sequence<String>, lastSeen: some Sequence<(id: String, lastSeen: Timestamp?)>,
                                   open: some Sequence<AlertKey>, outages: some Sequence<String>, now: Timestamp) -> Set<String> {
        var out = watched
        out.formUnion(changed)
        out.formUnion(outages)
        for key in open { out.insert(key.station) }
        for s in lastSeen { if let seen = s.lastSeen, now - seen > thresholds.offlineAfter { out.insert(s.id) } }
        return out
    }

    /// `open`: the alerts open now and when each opened; `lastResolved`: when alerts were
    /// resolved lately (for the offline re-arm hold). `registered`: whether a station is still
    /// in the register (its open alerts are resolved when not); by default, whether it is
    /// among `stations`, when those are all of them.
    public mutating func evaluate(_ stations: [StationAlertFacts], open: [AlertKey: Timestamp], lastResolved: [AlertKey: Timestamp],
                                  now: Timestamp, registered: ((String) -> Bool)? = nil) -> [AlertDecision] {
        var out: [AlertDecision] = []
        let all = registered == nil ? Set(stations.map(\.station)) : []
        let isRegistered = registered ?? { all.contains($0) }
        // By station, sorted: looked up once per station evaluated (a scan of every open
        // alert per station was quadratic with thousands of stations offline).
        let openByStation = Dictionary(grouping: open.keys, by: \.station).mapValues { $0.sorted() }
        for f in stations {
            let stationOpen = openByStation[f.station] ?? []
            guard let lastSeen = f.lastSeen else { continue }  // never activated: nothing to say
            remember(f, lastSeen: lastSeen)
            var wanted: [AlertKey: (since: Timestamp, detail: String)] = [:]
            var keepIfOpen = Set<AlertKey>()  // neither opened nor resolved now
            let fresh = now - lastSeen <= thresholds.offlineAfter

            // Offline: silent past the grace while the station should be open, and open for
            // the whole grace (no alert at opening time for a station started a minute late).
            let offline = AlertKey(station: f.station, kind: .stationOffline)
            let hours = f.hours
            let shouldBeOpen = hours.map { $0.isOpen(at: now) && $0.isOpen(at: now - thresholds.offlineAfter) } ?? true
            if let opened = open[offline] {
                if lastSeen <= opened { keepIfOpen.insert(offline) }  // resolved by the next heartbeat only
            } else if !fresh && shouldBeOpen {
                let rearmed = lastResolved[offline].map { now - $0 >= thresholds.offlineRearm } ?? true
                if rearmed { wanted[offline] = (lastSeen, "no heartbeat since \(RFC3339.format(lastSeen, offset: .utc))") }
            }

            if fresh {
                for r in f.readers where r.state != "up" {
                    let key = AlertKey(station: f.station, kind: .readerDown, subject: r.name)
                    let since = readerDownSince[key] ?? now
                    readerDownSince[key] = since
                    if now - since >= thresholds.readerDownAfter { wanted[key] = (since, "reader \(r.name): \(r.state)") }
                    else { keepIfOpen.insert(key) }
                }
                for r in f.readers where r.state == "up" { readerDownSince[AlertKey(station: f.station, kind: .readerDown, subject: r.name)] = nil }
                for (amenity, since) in f.outages {
                    let key = AlertKey(station: f.station, kind: .amenityOutOfOrder, subject: amenity)
                    if now - since >= thresholds.amenityOutOfOrderAfter { wanted[key] = (since, "\(amenity) out of order") }
                    else { keepIfOpen.insert(key) }
                }
                let skew = AlertKey(station: f.station, kind: .clockSkew)
                if abs(f.clockSkewSeconds) > thresholds.clockSkew.components.seconds {
                    wanted[skew] = (lastSeen, "clock off by \(f.clockSkewSeconds) s")
                }
                if let percent = f.storagePercent {
                    let key = AlertKey(station: f.station, kind: .storageNearCap)
                    if percent >= thresholds.storageNearCapPercent { wanted[key] = (lastSeen, "storage \(percent)% of its cap") }
                    else if percent >= thresholds.storageNearCapPercent - 5 { keepIfOpen.insert(key) }
                }
                fullAndBacklog(f, into: &wanted, keep: &keepIfOpen)
            } else {
                // A silent station's last figures are stale: whatever is open stays open until it speaks.
                for key in stationOpen where key.kind != .stationOffline && key.kind != .sequenceGap {
                    keepIfOpen.insert(key)
                }
            }
            for (subject, detail) in f.gaps {
                wanted[AlertKey(station: f.station, kind: .sequenceGap, subject: subject)] = (lastSeen, detail)
            }

            for (key, w) in wanted.sorted(by: { $0.key < $1.key }) where open[key] == nil {
                out.append(.open(key, since: w.since, detail: w.detail))
            }
            for key in stationOpen where wanted[key] == nil && !keepIfOpen.contains(key) {
                out.append(.resolve(key))
            }
            // What is open is evaluated anyway (stationsToEvaluate's `open`); keepIfOpen alone
            // decides nothing while nothing is open. A wanted alert is watched until it opens
            // (its writing may fail).
            if !fresh || !wanted.isEmpty || !f.outages.isEmpty || f.readers.contains(where: { $0.state != "up" }) {
                watched.insert(f.station)
            } else {
                watched.remove(f.station)
            }
        }
        // A station removed from the register resolves what it had open.
        for key in open.keys.sorted() where !isRegistered(key.station) {
            out.append(.resolve(key))
        }
        watched = watched.filter(isRegistered)
        return out
    }

    private mutating func remember(_ f: StationAlertFacts, lastSeen: Timestamp) {
        var list = samples[f.station, default: []]
        if list.last?.at != lastSeen {
            list.append(Sample(at: lastSeen, full: f.capacity > 0 && f.occupancy >= f.capacity, backlog: f.backlog))
            let keep = max(thresholds.fullWindow, thresholds.backlogHeartbeats + 1)
            if list.count > keep { list.removeFirst(list.count - keep) }
            samples[f.station] = list
        }
    }

    private func fullAndBacklog(_ f: StationAlertFacts, into wanted: inout [AlertKey: (since: Timestamp, detail: String)],
                                keep: inout Set<AlertKey>) {
        let list = samples[f.station, default: []]
        let window = list.suffix(thresholds.fullWindow)
        let fullCount = window.filter(\.full).count
        let full = AlertKey(station: f.station, kind: .repeatedlyFull)
        if fullCount >= thresholds.fullHeartbeats, let first = window.first(where: \.full) {
            wanted[full] = (first.at, "full at \(fullCount) of the last \(window.count) heartbeats")
        } else if fullCount * 2 >= thresholds.fullHeartbeats || window.count < thresholds.fullWindow {
            keep.insert(full)  // hysteresis; or too little history here (a restarted or second collector) to resolve
        }
        let backlog = AlertKey(station: f.station, kind: .backlogGrowing)
        let recent = Array(list.suffix(thresholds.backlogHeartbeats + 1))
        guard let last = recent.last else { return }
        let growing = recent.count == thresholds.backlogHeartbeats + 1 && zip(recent, recent.dropFirst()).allSatisfy { $0.backlog < $1.backlog }
        if growing && last.backlog >= thresholds.backlogMinimum {
            wanted[backlog] = (recent[0].at, "backlog \(recent[0].backlog) → \(last.backlog) events")
        } else if last.backlog >= thresholds.backlogMinimum
                    && (recent.count < thresholds.backlogHeartbeats + 1 || recent.first.map({ last.backlog >= $0.backlog }) == true) {
            keep.insert(backlog)  // not shrinking yet, or too little history here to tell
        }
    }
}
