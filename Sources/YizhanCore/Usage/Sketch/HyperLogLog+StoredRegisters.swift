/// SPARSE and FULL storage bytes read straight into a register array or a histogram of
/// register values, without a `HyperLogLog` in between: what `SketchAccumulator` merges a
/// question's rows with. Reads exactly what `HyperLogLog(bytes:)` reads (the same checks,
/// the same values), only faster; the sketch tests compare the two.
extension HyperLogLog {
    /// Checked SPARSE or FULL bytes: the header read, the length fitting the type.
    struct StoredRegisters: Sendable {
        let bytes: [UInt8]
        let parameters: Parameters
        let isSparse: Bool
        /// SPARSE entries (0 for FULL).
        let entries: Int
        /// FULL, or SPARSE with register indices ascending (as the extension and the collector
        /// write them): raising and counting then need no decoding. Checked once here, since
        /// a question counts a row and merges it (two passes that would each check it).
        private(set) var ascending = true

        /// Nil unless `bytes` is a SPARSE or FULL sketch `HyperLogLog(bytes:)` would read.
        init?(_ bytes: [UInt8]) {
            guard bytes.count >= 3, bytes[0] >> 4 == 1 else { return nil }
            let type = bytes[0] & 0x0f
            guard type == 3 || type == 4 else { return nil }
            let regwidth = Int(bytes[1] >> 5) + 1
            let log2m = Int(bytes[1] & 0x1f)
            guard Parameters.regwidthRange.contains(regwidth), Parameters.log2mRange.contains(log2m) else { return nil }
            let p = Parameters(unchecked: log2m, regwidth, Parameters.expthresh(code: bytes[2] & 0x3f), bytes[2] & 0x40 != 0)
            let dataBits = (bytes.count - 3) * 8
            if type == 4 {
                guard bytes.count - 3 == (p.registerCount * regwidth + 7) / 8 else { return nil }
                entries = 0
            } else {
                let n = dataBits / (log2m + regwidth)
                guard dataBits - n * (log2m + regwidth) < 8 else { return nil }
                entries = n
            }
            self.bytes = bytes
            self.parameters = p
            self.isSparse = type == 3
            if isSparse { ascending = sparseAscends() }
        }

        /// Raises `registers` (one byte each, `parameters.registerCount` of them) to these
        /// values: the union of the two register arrays. Returns false, changing nothing,
        /// for a SPARSE sketch whose indices do not ascend (the caller decodes it the slow
        /// way: there a repeated register keeps the last value written, not the highest).
        @discardableResult
        func raise(_ registers: UnsafeMutableBufferPointer<UInt8>) -> Bool {
            guard ascending else { return false }
            if isSparse {
                forEachSparse { i, v in if registers[i] < v { registers[i] = v } }
            } else {
                forEachFull { i, v in if registers[i] < v { registers[i] = v } }
            }
            return true
        }

        /// How many registers hold each value (index = value), or nil where that is not
        /// exact (a SPARSE sketch whose indices do not ascend).
        func histogram() -> [Int]? {
            guard ascending else { return nil }
            return count(raising: nil)
        }

        /// `raise` and `histogram` in one pass over the bytes (a question's bucket is most
        /// often one region row, counted and then merged into the period's sketch). Nil,
        /// changing nothing, where `raise` would return false.
        func raiseCounting(_ registers: UnsafeMutableBufferPointer<UInt8>) -> [Int]? {
            guard ascending else { return nil }
            return count(raising: registers)
        }

        /// The histogram, raising `registers` on the way if given. Values are counted into
        /// four interleaved tables: most are the same few small numbers, and with one table
        /// every count would wait for the one before (a load and a store on one address).
        /// Measured: counting was a fifth of the province's month by hour.
        @inline(__always)
        private func count(raising registers: UnsafeMutableBufferPointer<UInt8>?) -> [Int] {
            let stride = parameters.maxRegisterValue + 1
            var tables = [Int](repeating: 0, count: 4 * stride)
            tables.withUnsafeMutableBufferPointer { t in
                var lane = 0
                func visit(_ i: Int, _ v: UInt8) {
                    t[lane &+ Int(v) &* 4] &+= 1
                    lane = (lane &+ 1) & 3
                    if let r = registers { r[i] = max(r[i], v) }  // no branch on the data
                }
                if isSparse { forEachSparse(visit) } else { forEachFull(visit) }
            }
            var counts = [Int](repeating: 0, count: stride)
            for v in 0..<stride { counts[v] = tables[4 * v] + tables[4 * v + 1] + tables[4 * v + 2] + tables[4 * v + 3] }
            if isSparse {
                // The registers no entry names, and the entries of value 0, stay at 0.
                counts[0] = parameters.registerCount - (entries - counts[0])
            }
            return counts
        }

        /// The register values, decoded.
        func registerValues() -> [UInt8] {
            var values = [UInt8](repeating: 0, count: parameters.registerCount)
            values.withUnsafeMutableBufferPointer { r in
                if isSparse {
                    forEachSparse { i, v in r[i] = v }  // the last value written wins, as in `HyperLogLog(bytes:)`
                } else {
                    forEachFull { i, v in r[i] = v }
                }
            }
            return values
        }

        /// Whether every SPARSE entry's register index is above the one before.
        func sparseAscends() -> Bool {
            var last = -1
            var ascending = true
            forEachSparse { i, _ in
                if i <= last { ascending = false }
                last = i
            }
            return ascending
        }

        @inline(__always)
        func forEachFull(_ body: (Int, UInt8) -> Void) {
            let w = parameters.regwidth
            let m = parameters.registerCount
            bytes.withUnsafeBufferPointer { b in
                let data = UnsafeBufferPointer(rebasing: b[3...])
                if w == 5 {
                    // The defaults: every 5 bytes hold 8 registers (m is a multiple of 8).
                    var at = 0
                    var i = 0
                    while i < m {
                        var word: UInt64 = 0
                        for k in 0..<5 { word = word << 8 | UInt64(data[at + k]) }
                        for k in 0..<8 { body(i + k, UInt8(truncatingIfNeeded: word &>> UInt64(35 - 5 * k)) & 0x1f) }
                        at += 5
                        i += 8
                    }
                    return
                }
                // Any width up to 7: a register spans at most two bytes.
                let mask: UInt16 = (1 << UInt16(w)) - 1
                for i in 0..<m {
                    let bit = i * w
                    let byte = bit >> 3
                    let high = UInt16(data[byte]) << 8
                    let low = byte + 1 < data.count ? UInt16(data[byte + 1]) : 0
                    body(i, UInt8(truncatingIfNeeded: ((high | low) >> UInt16(16 - w - (bit & 7))) & mask))
                }
            }
        }

        @inline(__always)
        func forEachSparse(_ body: (Int, UInt8) -> Void) {
            let w = parameters.regwidth
            let width = parameters.log2m + w
            let valueMask = (UInt64(1) << UInt64(w)) - 1
            bytes.withUnsafeBufferPointer { b in
                let data = UnsafeBufferPointer(rebasing: b[3...])
                if width == 16 {
                    // The defaults (11 + 5 bits): every entry is two bytes.
                    for e in 0..<entries {
                        let word = UInt64(data[2 &* e]) &<< 8 | UInt64(data[2 &* e &+ 1])
                        body(Int(word &>> UInt64(w)), UInt8(truncatingIfNeeded: word & valueMask))
                    }
                    return
                }
                // Up to 24 bits an entry: it spans at most four bytes.
                let entryMask = (UInt64(1) << UInt64(width)) - 1
                for e in 0..<entries {
                    let bit = e * width
                    let byte = bit >> 3
                    var chunk: UInt64 = 0
                    for k in 0..<4 { chunk = chunk << 8 | (byte + k < data.count ? UInt64(data[byte + k]) : 0) }
                    let word = (chunk >> UInt64(32 - width - (bit & 7))) & entryMask
                    body(Int(word >> UInt64(w)), UInt8(truncatingIfNeeded: word & valueMask))
                }
            }
        }
    }

    /// `estimate` from a histogram of register values (`counts[v]` registers hold v). The
    /// same double as summing register by register in index order, as the extension does:
    /// every partial sum of the inverse powers of two is a multiple of 2^-maxValue below
    /// 2^log2m + 1, which a double holds exactly while maxValue + log2m ≤ 52 (the defaults:
    /// 31 + 11), so the order of the additions cannot change a bit. Nil beyond that.
    static func estimate(histogram counts: [Int], _ p: Parameters) -> Double? {
        guard p.maxRegisterValue + p.log2m <= 52 else { return nil }
        var sum = 0.0
        for v in counts.indices where counts[v] != 0 { sum += Double(counts[v]) * inversePowersOfTwo[v] }
        return estimate(sum: sum, zeros: counts[0], p)
    }
}
