import Foundation
import NIOCore
import PostgresNIO
import Testing
import YizhanCore
@testable import YizhanCollector

/// `HyperLogLog` against the real postgresql-hll extension (Debian's postgresql-15-hll) in
/// the test cluster: the same hashes, the same sketch bytes from `hll_add_agg`, the same
/// unions from `hll_union_agg`, the same `hll_cardinality` to the last bit, and sketches made
/// in Swift read by PostgreSQL. Like the store contract suite it fails, rather than skips,
/// without YIZHAN_TEST_POSTGRES_URL.
@Suite(.serialized) struct HLLCompatibilityTests {
    typealias HLL = HyperLogLog

    /// Deterministic randomness, so that a failure can be reproduced.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func key() -> [UInt8] {
            var out: [UInt8] = []
            out.reserveCapacity(32)
            for _ in 0..<4 {
                let r = next()
                for k in 0..<8 { out.append(UInt8(truncatingIfNeeded: r >> UInt64(8 * k))) }
            }
            return out
        }
    }

    /// A fresh database with the extension, dropped afterwards; one pinned connection.
    func withExtension(_ body: (PostgresConnection) async throws -> Void) async throws {
        let admin = try #require(StoreKind.postgresURL,
                                 "YIZHAN_TEST_POSTGRES_URL is not set: run the tests inside a PostgreSQL cluster (scripts/test-postgres.sh swift test; make test does)")
        let name = "yizhan_hll_\(UInt32.random(in: 0...UInt32.max))"
        try await onClient(admin) { try await $0.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
        let url = admin.replacingOccurrences(of: "@/postgres?", with: "@/\(name)?")
        do {
            try await onClient(url) { client in
                try await client.withConnection { connection in
                    // Debian's postgresql-15-hll must be installed (make deps installs it).
                    try await connection.query("CREATE EXTENSION IF NOT EXISTS hll", logger: quietLogger)
                    try await body(connection)
                }
            }
        } catch {
            try? await onClient(admin) { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)")) }
            throw error
        }
        try await onClient(admin) { try await $0.query(PostgresQuery(unsafeSQL: "DROP DATABASE \(name) WITH (FORCE)")) }
    }

    func onClient(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(configuration: try PostgresCollectorStore.configuration(url: url), backgroundLogger: quietLogger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await body(client)
            group.cancelAll()
        }
    }

    /// Doubles equal to the bit, NaN included (the extension returns NaN past the
    /// large-range correction's domain, and for register widths 6 and 7).
    func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        default: false
        }
    }

    func hex(_ bytes: [UInt8]) -> String { "\\x" + Hex.encode(bytes) }

    /// The extension's sketch (`hll_add_agg(hll_hash_bytea(key), …)`) of the keys, and its
    /// cardinality; an empty set gives `hll_empty(…)` (the aggregate alone gives NULL).
    func extensionSketch(_ c: PostgresConnection, _ keys: [[UInt8]], _ p: HLL.Parameters) async throws -> ([UInt8], Double?) {
        var packed = ByteBuffer()
        for k in keys { packed.writeBytes(k) }
        let (m, w, e, s) = (p.log2m, p.regwidth, Int(p.expthresh), p.sparseon ? 1 : 0)
        let rows = try await c.query("""
            SELECT s, hll_cardinality(s) FROM (
              SELECT coalesce(hll_add_agg(hll_hash_bytea(substring(\(packed)::bytea from i * 32 + 1 for 32)), \(m)::int, \(w)::int, \(e)::bigint, \(s)::int),
                              hll_empty(\(m)::int, \(w)::int, \(e)::bigint, \(s)::int)) AS s
              FROM generate_series(0, \(keys.count)::int - 1) AS i) AS t
            """, logger: quietLogger)
        for try await (sketch, cardinality) in rows.decode((ByteBuffer, Double?).self) {
            return (Array(sketch.readableBytesView), cardinality)
        }
        Issue.record("no row")
        return ([], nil)
    }

    func swiftSketch(_ keys: [[UInt8]], _ p: HLL.Parameters = .default) -> HLL {
        var s = HLL(parameters: p)
        for k in keys { s.add(hashedValue: HLL.hash(bytes: k)) }
        return s
    }

    /// What PostgreSQL makes of bytes written in Swift: its cardinality, and the bytes it
    /// stores for them.
    func readBack(_ c: PostgresConnection, _ bytes: [UInt8]) async throws -> ([UInt8], Double?) {
        let rows = try await c.query("SELECT h, hll_cardinality(h) FROM (SELECT \(hex(bytes))::hll AS h) AS t", logger: quietLogger)
        for try await (b, cardinality) in rows.decode((ByteBuffer, Double?).self) { return (Array(b.readableBytesView), cardinality) }
        return ([], nil)
    }

    @Test func hashesMatch() async throws {
        try await withExtension { c in
            var rng = Random(state: 1)
            var compared = 0
            for length in 0...100 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let text = String((0..<length / 3).map { _ in "aé驿站z0".randomElement(using: &rng)! })
                let seed = [0, 0, 1, 12487, Int32.max, -1].randomElement(using: &rng)!
                var buffer = ByteBuffer()
                buffer.writeBytes(bytes)
                let rows = try await c.query("""
                    SELECT hll_hash_bytea(\(buffer)::bytea, \(seed)::int)::text::bigint, hll_hash_text(\(text)::text, \(seed)::int)::text::bigint,
                           hll_hash_bigint(\(Int64(length) &* 0x1234_5678_9ABC)::bigint, \(seed)::int)::text::bigint
                    """, logger: quietLogger)
                for try await (b, t, i) in rows.decode((Int64, Int64, Int64).self) {
                    #expect(b == HLL.hash(bytes: bytes, seed: seed), "\(length) bytes, seed \(seed)")
                    #expect(t == HLL.hash(text: text, seed: seed), "\(text), seed \(seed)")
                    #expect(i == HLL.hash(bigint: Int64(length) &* 0x1234_5678_9ABC, seed: seed))
                    compared += 1
                }
            }
            // A card key as the collector hashes it.
            let key = CardKey(hex: Hex.encode(rng.key()))
            let rows = try await c.query("SELECT hll_hash_bytea(decode(\(key.hex), 'hex'))::text::bigint", logger: quietLogger)
            for try await h in rows.decode(Int64.self) { #expect(h == (try HLL.hash(cardKey: key))) }
            #expect(compared == 101)
        }
    }

    /// Sizes at every promotion of the defaults: EXPLICIT holds 160 hashes, SPARSE 639 set
    /// registers (found by adding until the Swift sketch turns FULL), then 10^4 and 10^5.
    @Test func sketchesAndCardinalitiesMatchAtEverySize() async throws {
        try await withExtension { c in
            var rng = Random(state: 2)
            var sets: [[[UInt8]]] = []
            for n in [0, 1, 2, 3, 7, 100, 159, 160, 161, 162, 300, 2000, 10_000, 100_000] {
                sets.append((0..<n).map { _ in rng.key() })
            }
            // Around SPARSE → FULL: the last keys before and the first after the switch.
            var keys: [[UInt8]] = []
            var s = HLL()
            while s.representation != .full {
                let k = rng.key()
                keys.append(k)
                s.add(hashedValue: HLL.hash(bytes: k))
            }
            for back in 0...3 { sets.append(Array(keys.dropLast(back))) }
            sets.append(keys + [rng.key()])
            // Repeated keys count once.
            sets.append(Array(repeating: sets[4][0], count: 50) + sets[4])

            var representations = Set<HLL.Representation>()
            for keys in sets {
                let swift = swiftSketch(keys)
                representations.insert(swift.representation)
                let (bytes, cardinality) = try await extensionSketch(c, keys, .default)
                #expect(swift.bytes == bytes, "\(keys.count) keys: \(swift.representation)")
                #expect(same(swift.cardinality, cardinality), "\(keys.count) keys: \(String(describing: swift.cardinality)) vs \(String(describing: cardinality))")
                let (stored, readCardinality) = try await readBack(c, swift.bytes)
                #expect(stored == swift.bytes)
                #expect(same(readCardinality, swift.cardinality))
                #expect(try HLL(bytes: bytes) == swift)
            }
            #expect(representations == [.empty, .explicit, .sparse, .full])
        }
    }

    /// Station-hour sketches united: `hll_union_agg` and `hll_union` against `formUnion`,
    /// over sketches of every representation, with overlapping keys.
    @Test func unionsMatch() async throws {
        try await withExtension { c in
            var rng = Random(state: 3)
            let pool = (0..<30_000).map { _ in rng.key() }
            for round in 0..<25 {
                let parts = Int.random(in: 1...12, using: &rng)
                var sketches: [HLL] = []
                for _ in 0..<parts {
                    let n = [0, 1, 5, 80, 160, 161, 400, 700, 3000, 20_000].randomElement(using: &rng)!
                    sketches.append(swiftSketch((0..<n).map { _ in pool.randomElement(using: &rng)! }))
                }
                let swift = try #require(try HLL.union(of: sketches))
                let texts = sketches.map { hex($0.bytes) }
                let rows = try await c.query("""
                    SELECT u, hll_cardinality(u) FROM (SELECT hll_union_agg(x::hll) AS u FROM unnest(\(texts)::text[]) AS x) AS t
                    """, logger: quietLogger)
                for try await (u, cardinality) in rows.decode((ByteBuffer, Double?).self) {
                    #expect(Array(u.readableBytesView) == swift.bytes, "round \(round): \(sketches.map(\.representation))")
                    #expect(same(cardinality, swift.cardinality), "round \(round)")
                }
                if sketches.count >= 2 {
                    let pair = try sketches[0].union(sketches[1])
                    let rows = try await c.query("SELECT hll_union(\(texts[0])::hll, \(texts[1])::hll)", logger: quietLogger)
                    for try await u in rows.decode(ByteBuffer.self) {
                        #expect(Array(u.readableBytesView) == pair.bytes, "round \(round): \(sketches[0].representation) ∪ \(sketches[1].representation)")
                    }
                }
            }
        }
    }

    /// Other parameters, the estimator's corners included: register widths 6 and 7 (whose
    /// large-range correction the extension computes with an overflowing shift), 16, 32 and
    /// 64 registers (their own constants), expthresh 0 and powers of two, sparse off.
    @Test func otherParametersMatch() async throws {
        try await withExtension { c in
            var rng = Random(state: 4)
            let parameterSets: [HLL.Parameters] = [
                try .init(log2m: 4, regwidth: 1, expthresh: 0), try .init(log2m: 5, regwidth: 3, expthresh: 1),
                try .init(log2m: 6, regwidth: 4, expthresh: 8, sparseon: false), try .init(log2m: 10, regwidth: 6),
                try .init(log2m: 11, regwidth: 7, expthresh: 256), try .init(log2m: 12, regwidth: 5, expthresh: 0, sparseon: false),
                try .init(log2m: 14, regwidth: 5, expthresh: 8192), try .init(log2m: 17, regwidth: 2),
            ]
            for p in parameterSets {
                for n in [0, 1, 9, 300, 5000, 60_000] {
                    let keys = (0..<n).map { _ in rng.key() }
                    let swift = swiftSketch(keys, p)
                    let (bytes, cardinality) = try await extensionSketch(c, keys, p)
                    #expect(swift.bytes == bytes, "\(p), \(n) keys")
                    #expect(same(swift.cardinality, cardinality), "\(p), \(n) keys: \(String(describing: swift.cardinality)) vs \(String(describing: cardinality))")
                }
            }
        }
    }

    /// Register arrays no real data makes (every value up to the width's maximum) written
    /// in Swift and estimated by PostgreSQL: every branch of the estimator, to the bit.
    @Test func craftedRegistersEstimateTheSame() async throws {
        try await withExtension { c in
            var rng = Random(state: 5)
            var compared = 0
            for log2m in [4, 5, 6, 7, 11] {
                for regwidth in 1...7 {
                    for fill in [0.0, 0.05, 0.5, 1.0] {
                        let p = try HLL.Parameters(log2m: log2m, regwidth: regwidth, sparseon: false)
                        let maxValue = (1 << regwidth) - 1
                        let low = [0, 20, 26, maxValue].randomElement(using: &rng)!
                        var full: [UInt8] = [0x14, UInt8((regwidth - 1) << 5 | log2m), 0x3F]
                        var bits: [Int] = []
                        for _ in 0..<(1 << log2m) {
                            let v = Double.random(in: 0..<1, using: &rng) < fill ? Int.random(in: min(low, maxValue)...maxValue, using: &rng) : 0
                            for b in stride(from: regwidth - 1, through: 0, by: -1) { bits.append(v >> b & 1) }
                        }
                        while bits.count % 8 != 0 { bits.append(0) }
                        for i in stride(from: 0, to: bits.count, by: 8) { full.append(UInt8(bits[i..<i + 8].reduce(0) { $0 << 1 | $1 })) }
                        let swift = try HLL(bytes: full)
                        #expect(swift.parameters == p)
                        let (stored, cardinality) = try await readBack(c, full)
                        #expect(stored == full)
                        #expect(same(swift.cardinality, cardinality), "log2m \(log2m) regwidth \(regwidth) fill \(fill): \(String(describing: swift.cardinality)) vs \(String(describing: cardinality))")
                        compared += 1
                    }
                }
            }
            #expect(compared == 140)
        }
    }
}
