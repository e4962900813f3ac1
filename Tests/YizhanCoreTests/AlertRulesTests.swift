import Foundation
import Testing
@testable import YizhanCore

/// The rules with a test clock and an in-memory stand-in for the store's open/resolved rows.
struct AlertHarness {
    var rules: AlertRules
    var now: Timestamp
    var open: [AlertKey: Timestamp] = [:]
    var resolved: [AlertKey: Timestamp] = [:]
    /// Every transition so far, in order.
    var log: [String] = []

    init(_ thresholds: AlertThresholds = AlertThresholds(), start: String = "2026-11-24T10:00:00+08:00") {
        rules = AlertRules(thresholds: thresholds)
        now = RFC3339.parse(start, defaultOffset: .china)!
    }

    mutating func step(_ facts: [StationAlertFacts], registered: ((String) -> Bool)? = nil) -> [AlertDecision] {
        let d = rules.evaluate(facts, open: open, lastResolved: resolved, now: now, registered: registered)
        for x in d {
            switch x {
            case .open(let k, _, _): open[k] = now; log.append("open \(k)")
            case .resolve(let k): open[k] = nil; resolved[k] = now; log.append("resolve \(k)")
            }
        }
        return d
    }

    mutating func advance(_ d: Duration) { now = now + d }
}

@Suite struct AlertRulesTests {
    static let hours = try! OpeningHours(parsing: ["08:00-20:00"], offset: .china)

    var thresholds: AlertThresholds {
        var t = AlertThresholds()
        t.offlineAfter = .seconds(120)
        t.offlineRearm = .seconds(300)
        t.readerDownAfter = .seconds(60)
        return t
    }

    @Test func offlineOnlyAfterTheGraceThenOneRecoveryOnTheNextHeartbeat() {
        var h = AlertHarness(thresholds)
        var seen = h.now
        func facts() -> [StationAlertFacts] { [StationAlertFacts(station: "s1", lastSeen: seen, hours: Self.hours)] }
        #expect(h.step(facts()).isEmpty)
        h.advance(.seconds(119))
        #expect(h.step(facts()).isEmpty, "inside the grace")
        h.advance(.seconds(2))
        #expect(h.step(facts()).map(\.key.kind) == [.stationOffline])
        for _ in 0..<20 { h.advance(.seconds(10)); #expect(h.step(facts()).isEmpty, "open once, not again") }
        seen = h.now  // a heartbeat
        #expect(h.step(facts()) == [.resolve(AlertKey(station: "s1", kind: .stationOffline))])
        #expect(h.log.count == 2)
    }

    @Test func noOfflineAlertOutsideOpeningHoursNorAtTheOpeningMinute() {
        var h = AlertHarness(thresholds, start: "2026-11-24T21:00:00+08:00")
        let seen = h.now - .seconds(3600)
        let f = [StationAlertFacts(station: "s1", lastSeen: seen, hours: Self.hours)]
        for _ in 0..<60 { h.advance(.seconds(600)); _ = h.step(f) }  // through the night to 07:00
        #expect(h.log.isEmpty, "closed all night: \(h.log)")
        h.now = RFC3339.parse("2026-11-25T08:01:00+08:00", defaultOffset: .china)!
        #expect(h.step(f).isEmpty, "open for less than the grace")
        h.now = RFC3339.parse("2026-11-25T08:02:01+08:00", defaultOffset: .china)!
        #expect(h.step(f).map(\.key.kind) == [.stationOffline])
    }

    @Test func neverActivatedStationsRaiseNothing() {
        var h = AlertHarness(thresholds)
        let f = [StationAlertFacts(station: "new", lastSeen: nil, readers: [.init(name: "door", state: "down")], clockSkewSeconds: 9999)]
        for _ in 0..<100 { h.advance(.seconds(60)); #expect(h.step(f).isEmpty) }
    }

    @Test func aFlappingStationIsReportedOncePerRearmPeriodNotPerLostHeartbeat() {
        var h = AlertHarness(thresholds)
        var seen = h.now
        // Silent 130 s, one heartbeat, silent again, for an hour: a naive rule alerts every cycle.
        for _ in 0..<3600 / 10 {
            h.advance(.seconds(10))
            if (h.now - seen) > .seconds(130) { seen = h.now }
            _ = h.step([StationAlertFacts(station: "s1", lastSeen: seen)])
        }
        let opens = h.log.filter { $0.hasPrefix("open") }.count
        let resolves = h.log.filter { $0.hasPrefix("resolve") }.count
        #expect(opens <= 10, "a naive rule opens about 25 times: \(h.log)")
        #expect(opens >= 1)
        #expect(resolves >= opens - 1 && resolves <= opens, "every opening gets its recovery")
    }

    @Test func readerDownAfterItsGraceAndResolvedWhenUp() {
        var h = AlertHarness(thresholds)
        var state = "down"
        func facts() -> [StationAlertFacts] {
            [StationAlertFacts(station: "s1", lastSeen: h.now, readers: [.init(name: "door", state: state), .init(name: "id", state: "up")])]
        }
        #expect(h.step(facts()).isEmpty)
        h.advance(.seconds(30)); #expect(h.step(facts()).isEmpty)
        h.advance(.seconds(31))
        #expect(h.step(facts()) == [.open(AlertKey(station: "s1", kind: .readerDown, subject: "door"), since: h.now - .seconds(61),
                                          detail: "reader door: down")])
        state = "up"; h.advance(.seconds(5))
        #expect(h.step(facts()) == [.resolve(AlertKey(station: "s1", kind: .readerDown, subject: "door"))])
    }

    @Test func amenityClockStorageAndGaps() {
        var t = thresholds
        t.amenityOutOfOrderAfter = .seconds(3600)
        t.clockSkew = .seconds(300)
        t.storageNearCapPercent = 90
        var h = AlertHarness(t)
        let broke = h.now - .seconds(3000)
        var f = StationAlertFacts(station: "s1", lastSeen: h.now, clockSkewSeconds: 301, storagePercent: 91,
                                  outages: ["shower": broke], gaps: ["2026-11-24": "seq 5-9 missing"])
        #expect(Set(h.step([f]).map(\.key.kind)) == [.clockSkew, .storageNearCap, .sequenceGap])
        h.advance(.seconds(601)); f.lastSeen = h.now
        #expect(h.step([f]).map(\.key) == [AlertKey(station: "s1", kind: .amenityOutOfOrder, subject: "shower")])
        f.clockSkewSeconds = 2; f.storagePercent = 87; f.outages = [:]; f.gaps = [:]
        h.advance(.seconds(10)); f.lastSeen = h.now
        #expect(Set(h.step([f]).map(\.key.kind)) == [.clockSkew, .sequenceGap, .amenityOutOfOrder], "storage keeps its alert 5 points below")
        f.storagePercent = 84; h.advance(.seconds(10)); f.lastSeen = h.now
        #expect(h.step([f]) == [.resolve(AlertKey(station: "s1", kind: .storageNearCap))])
    }

    @Test func repeatedlyFullAndBacklogGrowing() {
        var t = thresholds
        t.fullHeartbeats = 3; t.fullWindow = 5; t.backlogHeartbeats = 3; t.backlogMinimum = 100
        var h = AlertHarness(t)
        func beat(occupancy: Int, backlog: Int64) -> [AlertDecision] {
            h.advance(.seconds(30))
            return h.step([StationAlertFacts(station: "s1", lastSeen: h.now, occupancy: occupancy, capacity: 10, backlog: backlog)])
        }
        #expect(beat(occupancy: 10, backlog: 50).isEmpty)
        #expect(beat(occupancy: 5, backlog: 90).isEmpty)
        #expect(beat(occupancy: 10, backlog: 120).isEmpty)
        let d = beat(occupancy: 10, backlog: 150)
        #expect(Set(d.map(\.key.kind)) == [.repeatedlyFull, .backlogGrowing])
        #expect(beat(occupancy: 1, backlog: 160).isEmpty, "still full in 3 of 5; backlog not shrinking")
        #expect(beat(occupancy: 1, backlog: 20).map(\.key.kind) == [.backlogGrowing])
        #expect(beat(occupancy: 1, backlog: 0).isEmpty, "full in 2 of the last 5: kept (hysteresis)")
        #expect(beat(occupancy: 1, backlog: 0).map(\.key.kind) == [.repeatedlyFull], "full in 1 of the last 5")
    }

    /// A collector that restarts (or a second one) has no heartbeat history: it must not
    /// resolve what another opened on more history.
    @Test func aCollectorWithoutHistoryResolvesNothingItCannotJudge() {
        var t = thresholds
        t.fullHeartbeats = 3; t.fullWindow = 5; t.backlogHeartbeats = 3; t.backlogMinimum = 100
        var h = AlertHarness(t)
        h.open = [AlertKey(station: "s1", kind: .repeatedlyFull): h.now, AlertKey(station: "s1", kind: .backlogGrowing): h.now]
        h.advance(.seconds(30))
        #expect(h.step([StationAlertFacts(station: "s1", lastSeen: h.now, occupancy: 1, capacity: 10, backlog: 500)]).isEmpty)
        h.advance(.seconds(30))
        #expect(h.step([StationAlertFacts(station: "s1", lastSeen: h.now, occupancy: 1, capacity: 10, backlog: 10)]).map(\.key.kind) == [.backlogGrowing],
                "below the minimum needs no history")
    }

    @Test func aSilentStationKeepsItsOtherAlertsUntilItSpeaks() {
        var h = AlertHarness(thresholds)
        let seen = h.now
        let f = [StationAlertFacts(station: "s1", lastSeen: seen, clockSkewSeconds: 1000)]
        #expect(h.step(f).map(\.key.kind) == [.clockSkew])
        h.advance(.seconds(200))
        #expect(h.step(f).map(\.key.kind) == [.stationOffline], "the skew alert stays, offline opens")
        #expect(h.step([]).count == 2, "a station removed from the register resolves what it had")
    }

    @Test func payloadsForEachFormat() throws {
        let n = AlertNotice(key: AlertKey(station: "pt-1", kind: .stationOffline), state: .open, stationName: "一号站", region: "上海市/普陀区",
                            since: Timestamp(secondsSinceEpoch: 1_764_000_000), at: Timestamp(secondsSinceEpoch: 1_764_000_200), detail: "", offset: .china)
        let generic = try JSONSerialization.jsonObject(with: Data(WebhookFormat.generic.body(n).utf8)) as! [String: Any]
        #expect(generic["alert"] as? String == "station_offline")
        #expect(generic["state"] as? String == "open")
        #expect(generic["station"] as? String == "pt-1")
        #expect(generic["region"] as? String == "上海市/普陀区")
        #expect((generic["since"] as? String)?.hasSuffix("+08:00") == true)
        #expect((generic["message_zh"] as? String)?.contains("一号站") == true)
        #expect(generic["message_en"] is String)
        let wecom = try JSONSerialization.jsonObject(with: Data(WebhookFormat.wecom.body(n).utf8)) as! [String: Any]
        #expect(wecom["msgtype"] as? String == "markdown")
        #expect(((wecom["markdown"] as? [String: Any])?["content"] as? String)?.contains("一号站") == true)
        let ding = try JSONSerialization.jsonObject(with: Data(WebhookFormat.dingtalk.body(n).utf8)) as! [String: Any]
        #expect((ding["markdown"] as? [String: Any])?["title"] is String)
        let feishu = try JSONSerialization.jsonObject(with: Data(WebhookFormat.feishu.body(n).utf8)) as! [String: Any]
        #expect(feishu["msg_type"] as? String == "text")

        #expect(WebhookFormat.wecom.outcome(status: 200, body: Array(#"{"errcode":0,"errmsg":"ok"}"#.utf8)) == .delivered)
        #expect(WebhookFormat.wecom.outcome(status: 200, body: Array(#"{"errcode":45009}"#.utf8)) != .delivered)
        if case .permanent = WebhookFormat.wecom.outcome(status: 200, body: Array(#"{"errcode":93000}"#.utf8)) {} else { Issue.record("93000 is permanent") }
        #expect(WebhookFormat.feishu.outcome(status: 200, body: Array(#"{"code":0,"msg":"success"}"#.utf8)) == .delivered)
        if case .retry = WebhookFormat.generic.outcome(status: 500, body: []) {} else { Issue.record("500 is retried") }
        if case .retry = WebhookFormat.generic.outcome(status: 429, body: []) {} else { Issue.record("429 is retried") }
        if case .permanent = WebhookFormat.generic.outcome(status: 404, body: []) {} else { Issue.record("404 is permanent") }
        let signed = WebhookFormat.dingtalk.signed(url: "https://oapi.dingtalk.com/robot/send?access_token=x", body: "{}", secret: "SEC1",
                                                   now: Timestamp(millisecondsSinceEpoch: 1_700_000_000_000))
        #expect(signed.url.contains("&timestamp=1700000000000&sign="))
    }

    @Test func retryBackoffGrowsWithJitterAndIsCapped() {
        let p = AlertRetryPolicy(base: .seconds(2), cap: .seconds(60))
        #expect(p.delay(attempts: 1, random: 0) == .seconds(1))
        #expect(p.delay(attempts: 1, random: 0.999) < .seconds(2))
        #expect(p.delay(attempts: 3, random: 0) == .seconds(4))
        #expect(p.delay(attempts: 30, random: 0.999) <= .seconds(60))
    }
}

@Suite struct ReconciliationCheckTests {
    @Test func missingRangesAndTheirDescription() {
        let day = DayCount(day: "2026-11-24", firstSeq: 1, lastSeq: 20, count: 20)
        #expect(ReconciliationCheck.missing(day, held: Array(1...20)).isEmpty)
        let missing = ReconciliationCheck.missing(day, held: Array(1...4) + Array(15...18))
        #expect(missing == [5...14, 19...20])
        #expect(ReconciliationCheck.describe(missing) == "seq 5-14, 19-20 missing (12 events)")
        #expect(ReconciliationCheck.missing(day, held: []) == [1...20])
        // The collector holding as many as the station (a quarantined seq is not counted): no gap.
        #expect(ReconciliationCheck.missing(DayCount(day: "2026-11-24", firstSeq: 1, lastSeq: 20, count: 19), held: Array(1...19)).isEmpty)
    }

    @Test func heartbeatsWithBadDayCountsOrStorageAreRefused() throws {
        func beat(_ days: [DayCount]?, storage: Int? = nil) -> Heartbeat {
            var h = Heartbeat(stationID: "s", time: "2026-11-24T10:00:00+08:00", occupancy: 0, capacity: 5, open: true, readers: [],
                              amenities: [:], backlog: 0, lastAck: 0, lastSeq: 0, version: "t")
            h.dayCounts = days; h.storagePercent = storage
            return h
        }
        #expect(throws: Never.self) { try IngestValidation.validate(beat([DayCount(day: "2026-11-24", firstSeq: 1, lastSeq: 9, count: 9)], storage: 42)) }
        for bad in [DayCount(day: "2026-11-2x", firstSeq: 1, lastSeq: 9, count: 9), DayCount(day: "2026-02-30", firstSeq: 1, lastSeq: 9, count: 9),
                    DayCount(day: "2026-13-01", firstSeq: 1, lastSeq: 9, count: 9), DayCount(day: "2026-11-24", firstSeq: 9, lastSeq: 1, count: 0),
                    DayCount(day: "2026-11-24", firstSeq: 1, lastSeq: 9, count: 10), DayCount(day: "2026-11-24", firstSeq: 0, lastSeq: 9, count: 1)] {
            #expect(throws: IngestRejection.self) { try IngestValidation.validate(beat([bad])) }
        }
        #expect(throws: IngestRejection.self) { try IngestValidation.validate(beat(nil, storage: 101)) }
        #expect(throws: IngestRejection.self) {
            try IngestValidation.validate(beat(Array(repeating: DayCount(day: "2026-11-24", firstSeq: 1, lastSeq: 1, count: 1), count: 15)))
        }
        // The answer's wire form, and an answer without the field (an older collector).
        let answer = try JSONDecoder().decode(HeartbeatAnswer.self, from: Data(#"{"resend":{"from_seq":5,"to_seq":14}}"#.utf8))
        #expect(answer.resend == ResendRange(fromSeq: 5, toSeq: 14))
        #expect(try JSONDecoder().decode(HeartbeatAnswer.self, from: Data("{}".utf8)).resend == nil)
    }
}

/// A pass evaluates only the stations `AlertRules.stationsToEvaluate` names; at national
/// scale that is what keeps a pass from costing a core's second. It must decide exactly
/// what evaluating every station would, whatever the history.
@Suite struct IncrementalAlertPassTests {
    /// Two collectors' worth of rules side by side over one random history: one evaluates
    /// every station each pass, the other only the named ones.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func evaluatingTheNamedStationsDecidesWhatEvaluatingAllDoes(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var t = AlertThresholds()
        t.offlineAfter = .seconds(600); t.offlineRearm = .seconds(900); t.readerDownAfter = .seconds(60)
        t.amenityOutOfOrderAfter = .seconds(240); t.fullHeartbeats = 3; t.fullWindow = 5
        t.backlogHeartbeats = 3; t.backlogMinimum = 100; t.clockSkew = .seconds(300); t.storageNearCapPercent = 90
        var full = AlertHarness(t), some = AlertHarness(t)
        let hourLists = [nil, try! OpeningHours(parsing: ["08:00-20:00"], offset: .china), try! OpeningHours(parsing: ["10:00-10:30"], offset: .china)]
        // 150 stations: 10 never heard; the rest heard at the start.
        var facts = (0..<150).map { i in
            StationAlertFacts(station: String(format: "s%03d", i), lastSeen: i < 10 ? nil : full.now, hours: hourLists[i % 3], capacity: 10)
        }
        var evaluated = 0, total = 0, decided = 0
        for pass in 0..<300 {
            let step = Duration.seconds(Int64(5 + rng.next() % 11))
            full.advance(step); some.advance(step)
            // Stations beat about once a minute (some of them in trouble); one in ten seldom.
            var changed: [String] = []
            for i in 10..<facts.count where rng.unit() < (i % 10 == 0 ? 0.004 : 0.15) {
                var f = facts[i]
                f.lastSeen = full.now
                f.occupancy = Int(rng.next() % 12)
                f.backlog = rng.unit() < 0.1 ? f.backlog + Int64(rng.next() % 80) : max(0, f.backlog - 50)
                f.readers = [Heartbeat.Reader(name: "door", state: rng.unit() < 0.1 ? "down" : "up")]
                f.clockSkewSeconds = rng.unit() < 0.03 ? 400 : 0
                f.storagePercent = rng.unit() < 0.05 ? Int(80 + rng.next() % 15) : 50
                f.gaps = rng.unit() < 0.02 ? ["2026-11-24": "seq 1-2 missing"] : [:]
                facts[i] = f
                changed.append(f.station)
            }
            // Amenities break now and then and are mended within minutes, through events, not heartbeats.
            for i in 10..<facts.count where rng.unit() < (facts[i].outages.isEmpty ? 0.002 : 0.04) {
                facts[i].outages = facts[i].outages.isEmpty ? ["microwave": full.now - .seconds(Int64(rng.next() % 300))] : [:]
            }
            // Now and then a station leaves the register.
            if pass % 97 == 96 { facts.remove(at: 10 + Int(rng.next() % UInt64(facts.count - 10))) }

            let a = full.step(facts)
            let registered = Set(facts.map(\.station))
            let named = some.rules.stationsToEvaluate(changed: changed, lastSeen: facts.lazy.map { ($0.station, $0.lastSeen) },
                                                     open: some.open.keys, outages: facts.filter { !$0.outages.isEmpty }.map(\.station),
                                                     now: some.now)
            let subset = pass == 0 ? facts : facts.filter { named.contains($0.station) }
            let b = some.step(subset, registered: { registered.contains($0) })
            #expect(a == b, "pass \(pass): every station decided \(a), the named ones \(b)")
            evaluated += subset.count; total += facts.count; decided += a.count
        }
        #expect(decided > 50, "the history exercised the rules (\(decided) decisions)")
        #expect(evaluated * 2 < total, "a pass evaluated \(evaluated) of \(total) station-passes: not a fraction")
    }
}
