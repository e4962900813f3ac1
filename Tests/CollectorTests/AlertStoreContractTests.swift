import Foundation
import GRDB
import PostgresNIO
import Synchronization
import Testing
import YizhanCore
@testable import YizhanCollector

/// Alerts and their outbox give the same answers on both stores; claims are exclusive
/// among collectors sharing a database.
@Suite struct AlertStoreContractTests {
    let t0 = Timestamp(secondsSinceEpoch: 1_764_000_000)
    let offline = AlertKey(station: "s1", kind: .stationOffline)
    let hooks = [AlertDelivery(url: "http://127.0.0.1:1/a", format: .generic, body: "{\"n\":1}"),
                 AlertDelivery(url: "http://127.0.0.1:1/b", format: .wecom, body: "{\"n\":2}")]

    func open(_ store: any CollectorStore, _ key: AlertKey, at: Timestamp, deliveries: [AlertDelivery]? = nil) async throws -> Bool {
        try await store.openAlert(key, since: at - .seconds(120), at: at, detail: "d", messageZh: "中", messageEn: "en", deliveries: deliveries ?? hooks)
    }

    /// Both stores name the alerts migration alike, after the office settings (v6, merged
    /// from its own branch), and run their migrations in the order of their names.
    @Test func bothStoresMigrateAlertsAsV7() {
        let sqlite = SQLiteCollectorStore.migrator.migrations, postgres = PostgresCollectorStore.migrations.map(\.0)
        for names in [sqlite, postgres] {
            #expect(names.contains("v7-alerts") && names.firstIndex(of: "v6-office-settings")! < names.firstIndex(of: "v7-alerts")!)
            #expect(names == names.sorted())
        }
    }

    @Test(arguments: StoreKind.available)
    func aTransitionIsWrittenWithItsDeliveriesAndOpensOncePerKey(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            #expect(try await open(store, offline, at: t0))
            #expect(try await open(store, offline, at: t0 + .seconds(5)) == false, "one open alert per key")
            #expect(try await open(store, AlertKey(station: "s1", kind: .readerDown, subject: "door"), at: t0))
            let opened = try await store.alerts(.open, limit: 10)
            #expect(opened.count == 2)
            let a = try #require(opened.first { $0.key == offline })
            #expect(a.since == t0 - .seconds(120) && a.openedAt == t0 && a.resolvedAt == nil && a.messageZh == "中")
            #expect(a.pendingDeliveries == 2 && a.failedDeliveries == 0)

            #expect(try await store.resolveAlert(offline, at: t0 + .seconds(60), deliveries: hooks))
            #expect(try await store.resolveAlert(offline, at: t0 + .seconds(61), deliveries: hooks) == false)
            #expect(try await store.alerts(.open, limit: 10).map(\.key) == [AlertKey(station: "s1", kind: .readerDown, subject: "door")])
            let resolved = try await store.alerts(.resolved, limit: 10)
            #expect(resolved.map(\.resolvedAt) == [t0 + .seconds(60)])
            #expect(resolved.first?.pendingDeliveries == 4, "its opening and its recovery, to two channels")
            #expect(try await store.alertsResolved(since: t0) == [offline: t0 + .seconds(60)])
            #expect(try await store.alerts(.all, limit: 10).count == 2)
            // A new alert for the key may open once the last one is resolved.
            #expect(try await open(store, offline, at: t0 + .seconds(600)))
        }
    }

    @Test(arguments: StoreKind.available)
    func claimsAreLeasedInOrderRetriedAndGivenUp(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            _ = try await open(store, offline, at: t0)
            _ = try await store.resolveAlert(offline, at: t0 + .seconds(1), deliveries: hooks)
            let first = try await store.claimDeliveries(owner: "A", now: t0 + .seconds(2), lease: .seconds(60), limit: 10)
            #expect(first.map(\.state) == [.open, .open], "the recovery waits for its opening on each channel")
            #expect(first.map(\.attempts) == [1, 1])
            #expect(try await store.claimDeliveries(owner: "B", now: t0 + .seconds(3), lease: .seconds(60), limit: 10).isEmpty, "leased to A")
            #expect(try await store.deliveryDone(first[0].id, owner: "B", at: t0 + .seconds(3)) == false, "B holds no lease")
            #expect(try await store.deliveryDone(first[0].id, owner: "A", at: t0 + .seconds(3)))
            // Channel a: the recovery is due now; channel b: A fails, retried later.
            try await store.deliveryFailed(first[1].id, owner: "A", error: "HTTP 500", at: t0 + .seconds(3), retryAt: t0 + .seconds(30))
            let next = try await store.claimDeliveries(owner: "B", now: t0 + .seconds(4), lease: .seconds(60), limit: 10)
            #expect(next.map(\.state) == [.resolved] && next.first?.delivery.url == hooks[0].url)
            #expect(try await store.alerts(.all, limit: 1).first?.lastDeliveryError == "HTTP 500")
            let retried = try await store.claimDeliveries(owner: "B", now: t0 + .seconds(30), lease: .seconds(60), limit: 10)
            #expect(retried.map(\.id) == [first[1].id] && retried.first?.attempts == 2)
            // A lease that runs out (its collector died mid-request) is taken over.
            let taken = try await store.claimDeliveries(owner: "C", now: t0 + .seconds(91), lease: .seconds(60), limit: 10)
            #expect(Set(taken.map(\.id)) == Set([next[0].id, first[1].id]))
            try await store.deliveryFailed(first[1].id, owner: "C", error: "HTTP 404: no such hook", at: t0 + .seconds(92), retryAt: nil)
            #expect(try await store.deliveryDone(next[0].id, owner: "C", at: t0 + .seconds(92)))
            let a = try #require(try await store.alerts(.all, limit: 1).first)
            #expect(a.failedDeliveries == 1, "given up, kept visible")
            #expect(a.pendingDeliveries == 1, "b's recovery is due after its opening failed for good")
            #expect(a.lastDeliveryError?.contains("404") == true)
        }
    }

    /// A transition and its deliveries are one transaction: when writing a delivery fails
    /// (a trigger refuses it here), the alert is not opened or resolved either.
    @Test(arguments: StoreKind.available)
    func aFailedDeliveryRowUndoesItsTransition(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            switch kind {
            case .sqlite:
                try await DatabaseQueue(path: String(url.dropFirst("sqlite://".count))).write { db in
                    try db.execute(sql: "CREATE TRIGGER boom BEFORE INSERT ON alert_outbox WHEN NEW.url = 'boom' BEGIN SELECT RAISE(ABORT, 'boom'); END")
                }
            case .postgres:
                let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await client.run() }
                    try await client.query("""
                        CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$
                        BEGIN IF NEW.url = 'boom' THEN RAISE EXCEPTION 'boom'; END IF; RETURN NEW; END $$
                        """)
                    try await client.query("CREATE TRIGGER boom BEFORE INSERT ON alert_outbox FOR EACH ROW EXECUTE FUNCTION boom()")
                    group.cancelAll()
                }
            }
            let boom = AlertDelivery(url: "boom", format: .generic, body: "{}")
            await #expect(throws: (any Error).self) { _ = try await open(store, offline, at: t0, deliveries: [hooks[0], boom]) }
            #expect(try await store.alerts(.all, limit: 10).isEmpty, "no alert without its deliveries")
            #expect(try await store.claimDeliveries(owner: "A", now: t0, lease: .seconds(60), limit: 10).isEmpty, "and no delivery without its alert")
            #expect(try await open(store, offline, at: t0))
            await #expect(throws: (any Error).self) { _ = try await store.resolveAlert(offline, at: t0 + .seconds(1), deliveries: [boom]) }
            #expect(try await store.alerts(.open, limit: 10).count == 1, "still open: the recovery is not lost")
        }
    }

    /// Two collectors claim from one outbox at once: every delivery is claimed by exactly one.
    @Test(arguments: StoreKind.available)
    func twoConcurrentClaimersTakeEachDeliveryOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            for i in 0..<60 {
                _ = try await open(store, AlertKey(station: "s\(i)", kind: .clockSkew), at: t0, deliveries: [hooks[0]])
            }
            try await withSecondStore(url) { second in
                final class Claimed: Sendable { let ids = Mutex<[Int64]>([]) }
                let claimed = Claimed()
                let t0 = self.t0
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (name, s) in [("A", store), ("B", second)] as [(String, any CollectorStore)] {
                        group.addTask {
                            while true {
                                let got = try await s.claimDeliveries(owner: name, now: t0, lease: .seconds(60), limit: 3)
                                if got.isEmpty { return }
                                claimed.ids.withLock { $0 += got.map(\.id) }
                                for c in got { #expect(try await s.deliveryDone(c.id, owner: name, at: t0)) }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let ids = claimed.ids.withLock { $0 }
                #expect(ids.count == 60 && Set(ids).count == 60, "each claimed once")
            }
            #expect(try await store.alerts(.all, limit: 100).allSatisfy { $0.pendingDeliveries == 0 })
        }
    }

    /// Two collectors evaluating at once open one alert.
    @Test(arguments: StoreKind.available)
    func twoConcurrentOpenersOpenOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            try await withSecondStore(url) { second in
                for i in 0..<20 {
                    let key = AlertKey(station: "s\(i)", kind: .stationOffline)
                    async let a = open(store, key, at: t0)
                    async let b = open(second, key, at: t0)
                    let (x, y) = try await (a, b)
                    #expect(x != y, "exactly one opens \(key)")
                }
            }
            let all = try await store.alerts(.open, limit: 100)
            #expect(all.count == 20 && all.allSatisfy { $0.pendingDeliveries == 2 })
        }
    }

    /// A list of some stations' alerts reads the newest alerts in growing batches: the
    /// newest of theirs, however many others' are newer, and never more than asked.
    @Test(arguments: StoreKind.available)
    func aStationsAlertsAreFoundBehindManyOthers(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            let mine = StationRecord(id: "mine", name: "我的站", region: RegionPath(parsing: "浙江省/舟山市")!, capacity: 5)
            let others = (0..<150).map { StationRecord(id: "o\($0)", name: "o", capacity: 5) }
            // Mine first (oldest), then 150 others' newer ones, then one more of mine newest.
            _ = try await open(store, AlertKey(station: "mine", kind: .stationOffline), at: t0, deliveries: [])
            _ = try await open(store, AlertKey(station: "mine", kind: .readerDown, subject: "door"), at: t0 + .seconds(1), deliveries: [])
            for (i, o) in others.enumerated() {
                _ = try await open(store, AlertKey(station: o.id, kind: .stationOffline), at: t0 + .seconds(10 + Int64(i)), deliveries: [])
            }
            _ = try await open(store, AlertKey(station: "mine", kind: .clockSkew), at: t0 + .seconds(500), deliveries: [])
            let list = try await AlertView.list(store, stations: [mine], state: .open, limit: 3, offset: .china)
            #expect(list.map(\.alert) == [.clockSkew, .readerDown, .stationOffline], "behind 150 newer ones of others (read 12, then 48, then 192)")
            #expect(list.allSatisfy { $0.station == "mine" && $0.stationName == "我的站" && $0.region == "浙江省/舟山市" })
            let two = try await AlertView.list(store, stations: [mine] + others, state: .open, limit: 2, offset: .china)
            #expect(two.map(\.station) == ["mine", "o149"], "everyone's: the newest two")
            #expect(try await AlertView.list(store, stations: [mine], state: .resolved, limit: 3, offset: .china).isEmpty)
            #expect(try await AlertView.list(store, stations: [], state: .open, limit: 3, offset: .china).isEmpty)
        }
    }
}
