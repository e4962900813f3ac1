import Foundation
import Testing
import YizhanTestSupport
import YizhanCore
@testable import YizhanCollector

/// One contract, two stores: every test here runs against SQLite and PostgreSQL.
@Suite struct StoreContractTests {
    static let kinds = StoreKind.available

    @Test(arguments: kinds) func provisioningAndLookups(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(StationRecord(id: "b-2", name: "乙站", district: "普陀", capacity: 8, latitude: 29.95, longitude: 122.3),
                                       tokenHash: "hash-b")
            try await store.addStation(StationRecord(id: "a-1", name: "甲站", capacity: 12), tokenHash: "hash-a")
            await #expect(throws: CollectorStoreError.self) { try await store.addStation(StationRecord(id: "a-1", name: "x", capacity: 1), tokenHash: "other") }
            #expect(try await store.station(forTokenHash: "hash-b") == "b-2")
            #expect(try await store.station(forTokenHash: "nope") == nil)
            let all = try await store.stations()
            #expect(all.map(\.id) == ["a-1", "b-2"])
            #expect(all[1] == StationRecord(id: "b-2", name: "乙站", district: "普陀", capacity: 8, latitude: 29.95, longitude: 122.3))

            try await store.addUser(UserRecord(name: "li", role: .manager, stations: ["b-2", "a-1"]), passwordHash: "$2b$x", tokenHash: "u1")
            await #expect(throws: CollectorStoreError.self) { try await store.addUser(UserRecord(name: "li", role: .office, stations: []), passwordHash: "x", tokenHash: "u2") }
            await #expect(throws: CollectorStoreError.self) { try await store.addUser(UserRecord(name: "wang", role: .manager, stations: ["zz"]), passwordHash: "x", tokenHash: "u3") }
            #expect(try await store.user(forTokenHash: "u1") == UserRecord(name: "li", role: .manager, stations: ["a-1", "b-2"]))
            #expect(try await store.user(forTokenHash: "u3") == nil, "a failed add leaves nothing behind")
            let named = try await store.user(named: "li")
            #expect(named?.user == UserRecord(name: "li", role: .manager, stations: ["a-1", "b-2"]) && named?.passwordHash == "$2b$x")
            #expect(try await store.user(named: "nobody") == nil)
        }
    }

    /// Browser sessions live in the store: a second collector on the same data (behind a
    /// load balancer, or after a restart) reads what the first wrote.
    @Test(arguments: kinds) func sessionsAreSharedAndExpire(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            let now = Timestamp(secondsSinceEpoch: 1_790_000_000)
            try await store.putSession(key: "k1", value: Array("{\"a\":1}".utf8), expires: now + .seconds(60))
            try await store.putSession(key: "k2", value: [0, 1, 2, 255], expires: now - .seconds(1))
            try await withSecondStore(url) { second in
                let read = try await second.session(key: "k1")
                #expect(read?.value == Array("{\"a\":1}".utf8) && read?.expires == now + .seconds(60))
                // Overwritten in place, then purged by expiry and removed by key.
                try await second.putSession(key: "k1", value: [9], expires: now + .seconds(120))
                #expect(try await store.session(key: "k1")?.value == [9])
                try await store.purgeSessions(expiredBefore: now)
                #expect(try await store.session(key: "k2") == nil)
                #expect(try await store.session(key: "k1") != nil)
                try await second.removeSession(key: "k1")
                #expect(try await store.session(key: "k1") == nil)
            }
        }
    }

    @Test(arguments: kinds) func ingestCountsEachEventOnceEvenFromTwoCollectorsAtOnce(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, url in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 12), tokenHash: "h")
            let events = Scenario(seed: 1).events(for: "s").map(\.ingested)
            #expect(try await store.ingest(station: "s", events: Array(events[0..<100])) == 100)
            #expect(try await store.ingest(station: "s", events: Array(events[0..<100])) == 0, "a replayed batch adds nothing")
            // A second collector on the same data; both get the same overlapping batches at once.
            let batches = stride(from: 50, to: events.count, by: 120).map { Array(events[$0..<min($0 + 150, events.count)]) }
            let (na, nb) = try await withSecondStore(url) { second in
                async let a: Int = { var n = 0; for b in batches { n += try await store.ingest(station: "s", events: b) }; return n }()
                async let b: Int = { var n = 0; for b in batches.reversed() { n += try await second.ingest(station: "s", events: b) }; return n }()
                return try await (a, b)
            }
            #expect(na + nb == events.count - 100)
            #expect(try await store.eventCount(station: "s") == events.count)
            let s = try #require(try await store.stations().first)
            #expect(s.lastAck == events.last!.seq && s.occupancy == events.last!.occupancy, "the newest event sets the live state")
            // Absent values stay absent (PostgreSQL gets them through sentinels).
            let stored = try await store.rebuildInput(station: "s", from: 0, to: 4_000_000_000_000).inRange
            #expect(stored == events.map { UsageEvent($0, station: "s") })
        }
    }

    /// A station's sequence number names one event whatever time it comes with (SPEC: idempotent
    /// by station id + sequence number), even in another month's partition on PostgreSQL, and
    /// even after a batch that came out of order (its highest number is what the store keeps
    /// as `last_ack`, and what the PostgreSQL replay guard trusts).
    @Test(arguments: kinds) func aSequenceNumberIsOneEventWhateverItsTime(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 12), tokenHash: "h")
            func event(_ seq: Int64, _ day: String, occupancy: Int = 1) -> IngestedEvent {
                IngestedEvent(seq: seq, time: RFC3339.parse("2026-\(day)T12:00:00+08:00", defaultOffset: .utc)!, kind: "check_in",
                              cardKey: String(repeating: "a", count: 64), reader: "door", occupancy: occupancy, staySeconds: nil, detail: nil)
            }
            // Out of order: 10 then 5. The live state is the highest number's.
            #expect(try await store.ingest(station: "s", events: [event(10, "08-10", occupancy: 3), event(5, "08-09", occupancy: 2)]) == 2)
            var s = try #require(try await store.stations().first)
            #expect(s.lastAck == 10 && s.occupancy == 3)
            // The same numbers at other times, months later: nothing new.
            #expect(try await store.ingest(station: "s", events: [event(10, "11-10")]) == 0)
            #expect(try await store.ingest(station: "s", events: [event(5, "10-01"), event(10, "09-01")]) == 0)
            // A new number in the same group of a batch as an old one: only the new one counts.
            #expect(try await store.ingest(station: "s", events: [event(5, "11-11"), event(11, "11-11", occupancy: 4)]) == 1)
            #expect(try await store.eventCount(station: "s") == 3)
            s = try #require(try await store.stations().first)
            #expect(s.lastAck == 11 && s.occupancy == 4)
            let all = (Timestamp(secondsSinceEpoch: 0), Timestamp(secondsSinceEpoch: 4_000_000_000))
            let days = try await store.rollupRows(.stations(["s"]), level: .day, from: all.0, to: all.1)
            #expect(days.map(\.figures.visits).reduce(0, +) == 3, "the rollups count each number once")
        }
    }

    /// `station import`'s store side: thousands at once (more than one of PostgreSQL's
    /// statements), absent fields kept absent, existing stations updated with their tokens
    /// kept, moves reported, and a station listed twice added then updated.
    @Test(arguments: kinds) func importingAListAddsUpdatesAndReportsMoves(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(StationRecord(id: "old-1", name: "旧站", region: RegionPath(parsing: "浙江省/舟山市/普陀区")!, capacity: 5),
                                       tokenHash: "hash-old")
            let count = PostgresCollectorStore.importChunk + 300
            func record(_ i: Int, region: String = "浙江省/杭州市/西湖区") -> StationRecord {
                StationRecord(id: "s-\(i)", name: "站\(i)", district: i % 2 == 0 ? "西湖" : nil, region: RegionPath(parsing: region)!,
                              address: i % 3 == 0 ? "文三路 \(i) 号, 一楼" : nil, capacity: 1 + i % 40,
                              latitude: i % 5 == 0 ? nil : 30 + Double(i) / 10_000, longitude: i % 5 == 0 ? nil : 120 + Double(i) / 10_000)
            }
            var list = (0..<count).map { record($0) }
            list.insert(StationRecord(id: "old-1", name: "旧站（新名）", region: RegionPath(parsing: "浙江省/舟山市/定海区")!, capacity: 7), at: 17)
            // Listed twice: the second entry is what stays.
            list.append(record(1, region: "浙江省/杭州市/上城区"))
            let hashes = Dictionary(uniqueKeysWithValues: (0..<count).map { ("s-\($0)", "hash-\($0)") })
            let results = try await store.importStations(list, tokenHashes: hashes)
            #expect(results.map(\.id) == list.map(\.id), "one result per row, in order")
            #expect(results.filter(\.added).count == count)
            #expect(results[17] == StationImportResult(id: "old-1", added: false, movedFrom: RegionPath(parsing: "浙江省/舟山市/普陀区")!))
            #expect(results.last == StationImportResult(id: "s-1", added: false, movedFrom: RegionPath(parsing: "浙江省/杭州市/西湖区")!))
            let stored = Dictionary(uniqueKeysWithValues: try await store.stations().map { ($0.id, $0) })
            #expect(stored.count == count + 1)
            for i in [0, 2, 3, 5, 6, 15, count - 1] {
                #expect(stored["s-\(i)"] == record(i), "s-\(i)")
            }
            #expect(stored["s-1"]?.region == RegionPath(parsing: "浙江省/杭州市/上城区")!)
            #expect(stored["old-1"]?.name == "旧站（新名）" && stored["old-1"]?.capacity == 7)
            #expect(try await store.station(forTokenHash: "hash-old") == "old-1", "an updated station keeps its token")
            #expect(try await store.station(forTokenHash: "hash-\(count - 1)") == "s-\(count - 1)")
            // A new station without a token: refused, and nothing of the list applied.
            await #expect(throws: CollectorStoreError.self) {
                try await store.importStations([record(0, region: "浙江省/宁波市"), StationRecord(id: "no-token", name: "x", capacity: 1)], tokenHashes: [:])
            }
            #expect(try await store.stations().first { $0.id == "s-0" }?.region == RegionPath(parsing: "浙江省/杭州市/西湖区")!)
        }
    }

    @Test(arguments: kinds) func heartbeatsSetLiveStateAndNeverGoBack(_ kind: StoreKind) async throws {
        try await withStore(kind) { store, _ in
            try await store.addStation(StationRecord(id: "s", name: "s", capacity: 12), tokenHash: "h")
            let live = LiveState(open: true, capacity: 10, amenities: ["microwave": .outOfOrder, "ac": .ok],
                                 readers: [.init(name: "door", state: "up")], backlog: 3, lastSeq: 9, version: "1.0", clockSkewSeconds: -2)
            let t = Timestamp(secondsSinceEpoch: 1_795_000_000)
            try await store.recordHeartbeats([HeartbeatRecord(station: "s", at: t, occupancy: 4, live: live),
                                              HeartbeatRecord(station: "unknown", at: t, occupancy: 1, live: live)])
            var older = live; older.open = false
            try await store.recordHeartbeats([HeartbeatRecord(station: "s", at: t - .seconds(60), occupancy: 9, live: older)])
            let s = try #require(try await store.stations().first)
            #expect(s.occupancy == 4 && s.lastSeen == t && s.live == live)
        }
    }
}

extension UsageEvent {
    init(_ e: IngestedEvent, station: String) {
        self.init(station: station, seq: e.seq, time: e.time, kind: e.kind, cardKey: e.cardKey, occupancy: e.occupancy,
                  staySeconds: e.staySeconds, detail: e.detail)
    }
}

/// Three days of a few stations, generated from a seed: visits with stays, full-house
/// refusals, bad reads, amenities breaking and mended, fault reports and ratings.
struct Scenario {
    struct Generated { var ingested: IngestedEvent }

    let seed: UInt64
    let day0 = RFC3339.parse("2026-11-20T00:00:00+08:00", defaultOffset: .utc)!
    var now: Timestamp { day0 + .seconds(3 * 86_400 - 3600) }

    func events(for station: String) -> [Generated] {
        var rng = SplitMix64(seed: seed &+ UInt64(station.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var out: [Generated] = []
        var t = day0 + .seconds(6 * 3600)
        var inside: [(card: String, since: Timestamp)] = []
        var seq: Int64 = 0
        var amenities = ["microwave": AmenityStatus.ok, "water": .ok]
        func add(_ kind: String, card: String? = nil, stay: Int64? = nil, detail: String? = nil) {
            seq += 1
            out.append(Generated(ingested: IngestedEvent(seq: seq, time: t, kind: kind, cardKey: card, reader: kind == "check_in" ? "door" : nil,
                                                         occupancy: inside.count, staySeconds: stay, detail: detail)))
        }
        while t < now + .seconds(3000) {
            t = t + .seconds(Int64(rng.next() % 1500) + 30)
            let roll = rng.next() % 100
            if roll < 40, !inside.isEmpty {
                let (card, since) = inside.remove(at: Int(rng.next() % UInt64(inside.count)))
                add(roll < 35 ? "check_out" : "auto_check_out", card: card, stay: (t - since).components.seconds)
                if rng.next() % 4 == 0 { add("rating", detail: "score=\(rng.next() % 5 + 1)") }
            } else if roll < 85 {
                let card = String(repeating: Hex.encode([UInt8(rng.next() % 40)]), count: 32)
                if inside.contains(where: { $0.card == card }) { continue }
                if inside.count >= 6 { add("rejected_full", card: card); continue }
                inside.append((card, t))
                add("check_in", card: card)
            } else if roll < 90 {
                add("bad_read")
            } else if roll < 96 {
                let name = rng.next() % 2 == 0 ? "microwave" : "water"
                let status = AmenityStatus.allCases[Int(rng.next() % 4)]
                guard status != amenities[name] else { continue }
                amenities[name] = status
                add("amenity", detail: AmenityEventDetail.change(amenity: name, status: status, note: rng.next() % 2 == 0 ? "坏了 no heat" : nil).detail)
            } else {
                add("fault_report", detail: AmenityEventDetail.faultReport(amenity: "water", note: "漏水").detail)
            }
        }
        return out
    }
}

