import Foundation
import Synchronization
import Testing
import YizhanCore
@testable import YizhanCollector

/// A receiver standing in for the network: answers from a script, records what it got.
final class ScriptedTransport: WebhookTransport {
    let answers: Mutex<[Int]>
    /// Per URL, robot answers (HTTP 200 bodies) to give before `{"errcode":0}`.
    let robot: Mutex<[String: [String]]>
    let received = Mutex<[(url: String, body: String)]>([])
    init(answers: [Int], robot: [String: [String]] = [:]) { self.answers = Mutex(answers); self.robot = Mutex(robot) }
    func post(url: String, body: String, timeout: Duration) async throws -> (status: Int, body: [UInt8]) {
        received.withLock { $0.append((url, body)) }
        let key = String(url.prefix { $0 != "?" })
        if let scripted = robot.withLock({ r -> String? in r[key]?.isEmpty == false ? r[key]!.removeFirst() : nil }) {
            return (200, Array(scripted.utf8))
        }
        let status = answers.withLock { $0.isEmpty ? 200 : $0.removeFirst() }
        return (status, Array(#"{"errcode":0}"#.utf8))
    }
}

/// The evaluation and delivery services over a real store, with a test clock.
@Suite struct AlertServiceTests {
    @Test(arguments: StoreKind.available)
    func anOfflineStationIsAlertedOnceRetriedUntilDeliveredAndRecovers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let clock = Mutex(Timestamp(secondsSinceEpoch: 1_764_000_000))  // 2025-11-24T16:00:00Z
            let now: @Sendable () -> Timestamp = { clock.withLock { $0 } }
            func advance(_ d: Duration) { clock.withLock { $0 = $0 + d } }
            try await store.addStation(StationRecord(id: "s1", name: "一号站", region: RegionPath(parsing: "上海市/普陀区")!, capacity: 10), tokenHash: "h1")
            try await store.addStation(StationRecord(id: "never", name: "未启用", capacity: 10), tokenHash: "h2")
            func heartbeat() async throws {
                try await store.recordHeartbeats([HeartbeatRecord(station: "s1", at: now(), occupancy: 1, live: LiveState(
                    open: true, capacity: 10, amenities: [:], readers: [], backlog: 0, lastSeq: 0, version: "t", clockSkewSeconds: 0,
                    openingHours: ["00:00-24:00"]))])
            }
            try await heartbeat()
            var config = AlertsConfiguration()
            config.thresholds.offlineAfter = .seconds(120)
            config.webhooks = [.init(url: "http://127.0.0.1:9/hook", format: .generic)]
            let evaluator = AlertEvaluationService(store: store, configuration: config, offset: .china, logger: quietLogger, now: now)
            let transport = ScriptedTransport(answers: [500, 503])
            let delivery = AlertDeliveryService(store: store, configuration: config, logger: quietLogger, transport: transport, owner: "t",
                                                now: now, random: { 0 })

            advance(.seconds(100))
            #expect(try await evaluator.runOnce().isEmpty)
            #expect(evaluator.lastPass == .init(stations: 2, evaluated: 2), "the first pass evaluates every station")
            advance(.seconds(21))
            #expect(try await evaluator.runOnce().map(\.key) == [AlertKey(station: "s1", kind: .stationOffline)])
            #expect(evaluator.lastPass == .init(stations: 2, evaluated: 1), "later ones what may have changed: s1 fell silent")
            advance(.seconds(30))
            #expect(try await evaluator.runOnce().isEmpty, "still the same alert")

            #expect(try await delivery.deliverDue() == 1)  // 500
            #expect(try await delivery.deliverDue() == 0, "backing off")
            advance(.seconds(1))
            #expect(try await delivery.deliverDue() == 1)  // 503
            advance(.seconds(1))
            #expect(try await delivery.deliverDue() == 0, "the second wait is longer")
            advance(.seconds(1))
            #expect(try await delivery.deliverDue() == 1)  // 200
            let bodies = transport.received.withLock { $0.map(\.body) }
            #expect(bodies.count == 3 && Set(bodies).count == 1, "the same transition each time")
            let notice = try JSONDecoder().decode(AlertNotice.self, from: Data(bodies[0].utf8))
            #expect(notice.alert == .stationOffline && notice.state == .open && notice.station == "s1" && notice.region == "上海市/普陀区")
            #expect(notice.since == "2025-11-25T00:00:00.000+08:00")
            #expect(try await store.alerts(.open, limit: 10).first?.pendingDeliveries == 0)

            advance(.seconds(5))
            try await heartbeat()
            #expect(try await evaluator.runOnce() == [.resolve(AlertKey(station: "s1", kind: .stationOffline))])
            #expect(try await delivery.deliverDue() == 1)
            let last = try JSONDecoder().decode(AlertNotice.self, from: Data(transport.received.withLock { $0.last!.body }.utf8))
            #expect(last.state == .resolved && last.messageZh.contains("恢复"))
            #expect(try await store.alerts(.all, limit: 10).count == 1, "nothing for the station never activated")
        }
    }

    /// Robots answer 200 with an error code: a rate limit is retried, a refused keyword or
    /// signature is given up and kept visible; DingTalk's secret signs the URL.
    @Test func robotErrorCodesAreRetriedOrGivenUpAndShown() async throws {
        try await withStore(.sqlite) { store, _ in
            let clock = Mutex(Timestamp(secondsSinceEpoch: 1_764_000_000))
            let now: @Sendable () -> Timestamp = { clock.withLock { $0 } }
            try await store.addStation(StationRecord(id: "s1", name: "一号站", capacity: 10), tokenHash: "h1")
            var config = AlertsConfiguration()
            config.webhooks = [.init(url: "http://127.0.0.1:9/wecom", format: .wecom),
                               .init(url: "http://127.0.0.1:9/ding", format: .dingtalk, secret: "SEC1")]
            let transport = ScriptedTransport(answers: [], robot: [
                "http://127.0.0.1:9/wecom": [#"{"errcode":45009,"errmsg":"api freq out of limit"}"#],
                "http://127.0.0.1:9/ding": [#"{"errcode":310000,"errmsg":"keywords not in content"}"#],
            ])
            let delivery = AlertDeliveryService(store: store, configuration: config, logger: quietLogger, transport: transport, owner: "t",
                                                now: now, random: { 0 })
            let key = AlertKey(station: "s1", kind: .clockSkew)
            let notice = AlertNotice(key: key, state: .open, stationName: "一号站", region: "", since: now(), at: now(), detail: "", offset: .china)
            #expect(try await store.openAlert(key, since: now(), at: now(), detail: "", messageZh: notice.messageZh, messageEn: notice.messageEn,
                                              deliveries: config.webhooks.map { AlertDelivery(url: $0.url, format: $0.format, body: $0.format.body(notice)) }))
            #expect(try await delivery.deliverDue() == 2)
            var a = try #require(try await store.alerts(.all, limit: 1).first)
            #expect(a.pendingDeliveries == 1 && a.failedDeliveries == 1, "the rate limit waits, the refused keyword is given up")
            #expect(a.lastDeliveryError?.contains("45009") == true || a.lastDeliveryError?.contains("310000") == true)
            clock.withLock { $0 = $0 + .seconds(1) }
            #expect(try await delivery.deliverDue() == 1)
            a = try #require(try await store.alerts(.all, limit: 1).first)
            #expect(a.pendingDeliveries == 0 && a.failedDeliveries == 1 && a.lastDeliveryError?.contains("310000") == true)
            let urls = transport.received.withLock { $0.map(\.url) }
            #expect(urls.filter { $0.hasPrefix("http://127.0.0.1:9/ding?timestamp=1764000000000&sign=") }.count == 1, "\(urls)")
            #expect(urls.filter { $0 == "http://127.0.0.1:9/wecom" }.count == 2)
            let wecom = try JSONSerialization.jsonObject(with: Data(transport.received.withLock { $0[0].body }.utf8)) as? [String: Any]
            #expect(wecom?["msgtype"] as? String == "markdown")
        }
    }

    /// After the first pass, a pass evaluates the stations heard since and those in trouble,
    /// not every station: at national scale the rest is a core's second for no decision.
    @Test(arguments: StoreKind.available)
    func laterPassesEvaluateOnlyTheStationsHeardSinceAndThoseInTrouble(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let t0 = Timestamp(secondsSinceEpoch: 1_764_000_000)
            let clock = Mutex(t0)
            let now: @Sendable () -> Timestamp = { clock.withLock { $0 } }
            let ids = (0..<30).map { String(format: "s%02d", $0) }
            for id in ids { try await store.addStation(StationRecord(id: id, name: id, capacity: 10), tokenHash: "h" + id) }
            func beat(_ id: String, at: Timestamp) -> HeartbeatRecord {
                HeartbeatRecord(station: id, at: at, occupancy: 1, live: LiveState(
                    open: true, capacity: 10, amenities: [:], readers: [.init(name: "door", state: id == "s07" ? "down" : "up")],
                    backlog: 0, lastSeq: 0, version: "t", clockSkewSeconds: 0))
            }
            try await store.recordHeartbeats(ids.map { beat($0, at: t0) })
            var config = AlertsConfiguration()
            config.thresholds.offlineAfter = .seconds(600)
            config.thresholds.readerDownAfter = .seconds(60)
            let evaluator = AlertEvaluationService(store: store, configuration: config, offset: .china, logger: quietLogger, now: now)

            clock.withLock { $0 = t0 + .seconds(30) }
            #expect(try await evaluator.runOnce().isEmpty)
            #expect(evaluator.lastPass == .init(stations: 30, evaluated: 30))
            // (Each read goes back 15 s before the one before: heartbeats reach the store late.)
            try await store.recordHeartbeats([beat("s03", at: t0 + .seconds(40))])
            clock.withLock { $0 = t0 + .seconds(50) }
            #expect(try await evaluator.runOnce().isEmpty)
            #expect(evaluator.lastPass.evaluated == 2, "s03 heard, s07's reader down")
            clock.withLock { $0 = t0 + .seconds(100) }
            #expect(try await evaluator.runOnce() == [.open(AlertKey(station: "s07", kind: .readerDown, subject: "door"),
                                                              since: t0 + .seconds(30), detail: "reader door: down")])
            clock.withLock { $0 = t0 + .seconds(200) }
            #expect(try await evaluator.runOnce().isEmpty)
            #expect(evaluator.lastPass.evaluated == 1, "only s07, its alert open")
            // Silent past the grace: found without a heartbeat, every one of them.
            clock.withLock { $0 = t0 + .seconds(700) }
            let offline = try await evaluator.runOnce().filter { $0.key.kind == .stationOffline }
            #expect(offline.count == 30 && evaluator.lastPass.evaluated == 30, "\(offline.count) offline")
        }
    }

    @Test func passesTakeAtMostAFifthOfTheTime() {
        #expect(AlertEvaluationService.pause(after: .milliseconds(300), every: .seconds(10)) == .seconds(10))
        #expect(AlertEvaluationService.pause(after: .seconds(5), every: .seconds(10)) == .seconds(20))
    }
}
