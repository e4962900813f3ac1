import Testing
import YizhanTestSupport
@testable import YizhanCore

/// `SketchAccumulator` (the questions' merge of stored bytes into one register array) against
/// what it replaced: each row decoded into a `HyperLogLog` and merged pairwise.
@Suite struct SketchAccumulatorTests {
    typealias HLL = HyperLogLog

    /// The old read: bytes decoded (a damaged row reads as an empty sketch), merged with `merge`.
    static func decoded(_ bytes: [UInt8]) -> HLL { (try? HLL(bytes: bytes)) ?? HLL() }

    /// Stored bytes of every kind a rollup row can hold, and some it should not.
    struct Rows {
        var rng: SplitMix64
        /// Hashes drawn from a pool, so that sketches overlap (unions meet duplicates).
        let pool: [Int64]

        init(seed: UInt64) {
            rng = SplitMix64(seed: seed)
            var r = SplitMix64(seed: seed ^ 0xABCD)
            // Some hashes whose bits above the register index are zero: they set no register.
            pool = (0..<4000).map { _ in Int64(bitPattern: r.next()) } + (0..<40).map { Int64($0 * 37 % 2048) }
        }

        mutating func hashes(_ n: Int) -> [Int64] { (0..<n).map { _ in pool[Int(rng.next() % UInt64(pool.count))] } }

        mutating func sketch(_ n: Int, _ p: HLL.Parameters = .default) -> HLL {
            var s = HLL(parameters: p)
            for h in hashes(n) { s.add(hashedValue: h) }
            return s
        }

        /// One row's bytes: EXPLICIT around the promotion threshold (160 hashes), SPARSE, FULL,
        /// register arrays written in the other form, EMPTY, UNDEFINED, other parameters, junk.
        mutating func next() -> [UInt8] {
            switch rng.next() % 20 {
            case 0...4: return sketch(Int(rng.next() % 170)).bytes                                  // mostly EXPLICIT, some just promoted
            case 5...7: return sketch(170 + Int(rng.next() % 700)).bytes                            // SPARSE
            case 8...10: return sketch(900 + Int(rng.next() % 4000)).bytes                          // SPARSE near 639 registers, FULL
            case 11: return sketch(170 + Int(rng.next() % 400)).bytes(sparseLimit: .registers(0))  // few registers written FULL
            case 12: return sketch(3000).bytes(sparseLimit: .registers(2048))                       // many registers written SPARSE
            case 13: return HLL().bytes
            case 14: return [0x10, 0x8B, 0x7F]                                                      // UNDEFINED, default parameters
            case 15: return sketch(Int(rng.next() % 3000), try! HLL.Parameters(log2m: 10)).bytes    // other parameters
            case 16: return sketch(200 + Int(rng.next() % 2000), try! HLL.Parameters(log2m: 12, regwidth: 6)).bytes
            case 17: return (0..<Int(rng.next() % 12)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }  // not a sketch
            default: return sketch(Int(rng.next() % 2)).bytes                                        // EMPTY or one hash
            }
        }
    }

    func same(_ a: Double?, _ b: Double?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (x?, y?): x.bitPattern == y.bitPattern || (x.isNaN && y.isNaN)
        default: false
        }
    }

    func expectSame(_ acc: SketchAccumulator, _ old: HLL, _ note: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(acc.sketch == old, "\(note)", sourceLocation: sourceLocation)
        #expect(acc.bytes == old.bytes, "\(note)", sourceLocation: sourceLocation)
        #expect(same(acc.cardinality, old.cardinality), "\(note): \(String(describing: acc.cardinality)) vs \(String(describing: old.cardinality))",
                sourceLocation: sourceLocation)
        #expect(acc.isExact == old.isExact, "\(note)", sourceLocation: sourceLocation)
        // (A saturated register array's estimate is NaN, which `distinctCount` cannot round.)
        if old.cardinality?.isFinite ?? true {
            #expect(acc.distinctCount == old.distinctCount, "\(note)", sourceLocation: sourceLocation)
        }
    }

    @Test func aRowReadsAsItsDecodedSketch() {
        var rows = Rows(seed: 1)
        for i in 0..<600 {
            let b = rows.next()
            expectSame(SketchAccumulator(bytes: b), Self.decoded(b), "row \(i): \(b.prefix(3))")
        }
    }

    @Test func foldsEqualThePairwiseMergeAfterEveryRow() {
        for seed in 0..<40 as Range<UInt64> {
            var rows = Rows(seed: seed)
            var acc = SketchAccumulator()
            var old = HLL()
            for i in 0..<(5 + Int(seed % 7) * 10) {
                let b = rows.next()
                acc.merge(bytes: b)
                old.merge(Self.decoded(b))
                expectSame(acc, old, "seed \(seed), after row \(i) (\(b.prefix(3)))")
            }
        }
    }

    /// As the usage report merges: rows into buckets, then buckets into the total, each side
    /// being an accumulator in any state (stored bytes, registers, small).
    @Test func accumulatorsMergeLikeSketches() {
        for seed in 100..<130 as Range<UInt64> {
            var rows = Rows(seed: seed)
            var buckets = [SketchAccumulator](repeating: .empty, count: 6)
            var oldBuckets = [HLL](repeating: .empty, count: 6)
            for _ in 0..<30 {
                let b = rows.next()
                let i = Int(rows.rng.next() % 6)
                buckets[i].merge(SketchAccumulator(bytes: b))
                oldBuckets[i].merge(Self.decoded(b))
            }
            var total = SketchAccumulator(), oldTotal = HLL()
            for i in 0..<6 {
                expectSame(buckets[i], oldBuckets[i], "seed \(seed), bucket \(i)")
                total.merge(buckets[i])
                oldTotal.merge(oldBuckets[i])
                expectSame(total, oldTotal, "seed \(seed), total after bucket \(i)")
            }
            // And merged from a decoded sketch, as a bucket's state.
            var fromSketch = SketchAccumulator(oldBuckets[0])
            fromSketch.merge(SketchAccumulator(oldBuckets[1]))
            var expected = oldBuckets[0]
            expected.merge(oldBuckets[1])
            expectSame(fromSketch, expected, "seed \(seed), from sketches")
        }
    }

    /// `merge(counting:)` (one pass over the other's bytes: counted and merged) is `merge`
    /// followed by the other's `distinctCount`, whatever either side holds, entries out of
    /// order included.
    @Test func mergeCountingIsMergeThenCount() throws {
        let entries: [UInt16] = [7 << 5 | 9, 7 << 5 | 3, 5 << 5 | 2, 100 << 5 | 0]
        let outOfOrder: [UInt8] = [0x13, 0x8B, 0x7F] + entries.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        var fused = 0
        for seed in 300..<340 as Range<UInt64> {
            var rows = Rows(seed: seed)
            // Self as stored bytes, as a register array (two rows merged), or small.
            var selves = [SketchAccumulator(bytes: rows.next()), SketchAccumulator(bytes: rows.sketch(2500).bytes)]
            var merged = SketchAccumulator(bytes: rows.sketch(900).bytes)
            merged.merge(bytes: rows.sketch(1200).bytes)
            selves.append(merged)
            for other in [rows.next(), rows.next(), rows.sketch(400).bytes, rows.sketch(3500).bytes, outOfOrder] {
                for start in selves {
                    let b = SketchAccumulator(bytes: other)
                    var viaCounting = start, viaMerge = start
                    let count = viaCounting.merge(counting: b)
                    viaMerge.merge(b)
                    if b.cardinality?.isFinite ?? true {
                        #expect(count == b.distinctCount, "seed \(seed): \(other.prefix(3)) into \(start.bytes.prefix(3))")
                    }
                    expectSame(viaCounting, viaMerge.sketch, "seed \(seed): \(other.prefix(3)) into \(start.bytes.prefix(3))")
                    // The one-pass path: other is one stored row, self a register array or stored.
                    switch (start.state, b.state) {
                    case (.stored, .stored), (.registers, .stored): if start.parameters == b.parameters { fused += 1 }
                    default: break
                    }
                }
            }
        }
        #expect(fused > 100, "the one-pass path was taken \(fused) times")
    }

    @Test func explicitPromotionThresholdIsTheSame() {
        // Two EXPLICIT sketches whose union holds exactly 160, then 161 hashes.
        var rows = Rows(seed: 9)
        let hashes = Array(Set(rows.hashes(400))).prefix(161)
        for total in [160, 161] {
            let a = HLL.of(hashes: hashes.prefix(100)), b = HLL.of(hashes: hashes.prefix(total).suffix(total - 60))
            #expect(a.representation == .explicit && b.representation == .explicit)
            var acc = SketchAccumulator(bytes: a.bytes)
            acc.merge(bytes: b.bytes)
            expectSame(acc, try! a.union(b), "union of \(total)")
            #expect(acc.isExact == (total == 160))
        }
    }

    /// SPARSE bytes whose entries do not ascend (the extension never writes them, but reads
    /// them: a repeated register keeps the last value written).
    @Test func sparseEntriesOutOfOrderReadAsDecoded() throws {
        // Entries of 16 bits (index << 5 | value): register 7 written 9 then 3; 5 after 7.
        let entries: [UInt16] = [7 << 5 | 9, 7 << 5 | 3, 5 << 5 | 2, 100 << 5 | 0]
        let bytes: [UInt8] = [0x13, 0x8B, 0x7F] + entries.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
        let decoded = try HLL(bytes: bytes)
        expectSame(SketchAccumulator(bytes: bytes), decoded, "alone")
        var rows = Rows(seed: 3)
        let full = rows.sketch(3000)
        var acc = SketchAccumulator(bytes: full.bytes)
        acc.merge(bytes: bytes)
        expectSame(acc, try full.union(decoded), "into FULL registers")
    }

    /// Every register width and count: stored bytes read like `HyperLogLog(bytes:)`.
    @Test func everyWidthReadsAsDecoded() throws {
        var rows = Rows(seed: 11)
        for log2m in [4, 5, 7, 11, 14] {
            for regwidth in 1...7 {
                let p = try HLL.Parameters(log2m: log2m, regwidth: regwidth, expthresh: 0)
                let s = rows.sketch(Int(rows.rng.next() % 5000) + 1, p)
                for bytes in [s.bytes(sparseLimit: .registers(0)), s.bytes(sparseLimit: .registers(1 << 17))] {
                    expectSame(SketchAccumulator(bytes: bytes), try HLL(bytes: bytes), "hll(\(log2m), \(regwidth)) \(bytes[0])")
                    var acc = SketchAccumulator(bytes: bytes)
                    let other = rows.sketch(300, p)
                    acc.merge(bytes: other.bytes(sparseLimit: .registers(0)))
                    expectSame(acc, try s.union(other), "hll(\(log2m), \(regwidth)) merged")
                }
            }
        }
    }

    /// Counting register values gives the bits of adding them in order (where it is used).
    @Test func histogramEstimateIsBitForBitTheOrderedSum() throws {
        var rng = SplitMix64(seed: 5)
        for log2m in [4, 8, 11, 17] {
            for regwidth in 1...5 {
                let p = try HLL.Parameters(log2m: log2m, regwidth: regwidth)
                for fill in [0.0, 0.01, 0.3, 0.9, 1.0] {
                    let values = (0..<(1 << log2m)).map { _ in
                        Double(rng.next() % 1000) / 1000 < fill ? UInt8(rng.next() % UInt64(p.maxRegisterValue + 1)) : 0
                    }
                    let a = HLL.estimate(values, p), b = HLL.estimateInOrder(values, p)
                    #expect(same(a, b), "hll(\(log2m), \(regwidth)) fill \(fill): \(a) vs \(b)")
                }
            }
        }
    }

    /// The usage report from accumulators equals the one from decoded sketches.
    @Test func usageReportsAreTheSame() throws {
        let period = try UsagePeriod(from: Timestamp(millisecondsSinceEpoch: 0), to: Timestamp(millisecondsSinceEpoch: 48 * 3_600_000),
                                     bucket: .hour, offset: .china)
        for seed in 200..<210 as Range<UInt64> {
            var rows = Rows(seed: seed)
            var stored: [RollupRow<SketchAccumulator>] = [], decoded: [RollupRow<HLL>] = []
            for _ in 0..<120 {
                let b = rows.next()
                let start = Int64(rows.rng.next() % 48) * 3_600_000
                var f = RollupFigures()
                f.visits = Int64(rows.rng.next() % 50)
                stored.append(RollupRow(start: start, figures: f, workers: SketchAccumulator(bytes: b)))
                decoded.append(RollupRow(start: start, figures: f, workers: Self.decoded(b)))
            }
            let now = Timestamp(millisecondsSinceEpoch: 100 * 3_600_000)
            let a = UsageReportBuilder.report(period, rows: stored, outages: [], now: now, peakIsSummed: true)
            let b = UsageReportBuilder.report(period, rows: decoded, outages: [], now: now, peakIsSummed: true)
            #expect(a == b, "seed \(seed)")
        }
    }
}

extension HyperLogLog {
    static func of(hashes: some Sequence<Int64>) -> HyperLogLog {
        var s = HyperLogLog()
        for h in hashes { s.add(hashedValue: h) }
        return s
    }
}
