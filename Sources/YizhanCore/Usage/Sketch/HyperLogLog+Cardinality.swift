extension HyperLogLog {
    /// `hll_cardinality`: the same double the extension returns, bit for bit (it is not
    /// rounded to an integer there either). EXPLICIT sketches are exact. Nil where the
    /// extension returns NULL: for an UNDEFINED sketch.
    public var cardinality: Double? {
        switch storage {
        case .undefined: nil
        case .empty: 0
        case .explicit(let elements): Double(elements.count)
        case .registers(let r): Self.estimate(r.values, parameters)
        }
    }

    /// The estimator of the extension's `multiset_card`, operation for operation so that the
    /// rounding is the same: the raw HyperLogLog estimate; linear counting while some
    /// registers are zero and the estimate is below 5m/2; the large-range correction above
    /// 2^L/30 with L = (2^regwidth - 2) + log2m.
    ///
    /// Two of its shifts are undefined in C once a register or L reaches 64 (L does for a
    /// register width of 6 or 7); the compiled extension gets what the CPU's shift gives,
    /// the count taken modulo 64 (x86-64 and arm64 alike), and so does this (`&<<`).
    static func estimate(_ registers: [UInt8], _ p: Parameters) -> Double {
        if p.maxRegisterValue + p.log2m <= 52 {
            // Counting values is faster than adding doubles one by one, and exact here
            // (`estimate(histogram:)` says why).
            var counts = [Int](repeating: 0, count: p.maxRegisterValue + 1)
            counts.withUnsafeMutableBufferPointer { c in
                for v in registers { c[Int(v)] += 1 }
            }
            return estimate(histogram: counts, p)!
        }
        return estimateInOrder(registers, p)
    }

    /// `estimate` adding the registers' inverse powers of two one by one, in index order, as
    /// the extension does.
    static func estimateInOrder(_ registers: [UInt8], _ p: Parameters) -> Double {
        var sum = 0.0
        var zeros = 0
        inversePowersOfTwo.withUnsafeBufferPointer { inverse in
            for v in registers {
                sum += inverse[Int(v)]
                if v == 0 { zeros += 1 }
            }
        }
        return estimate(sum: sum, zeros: zeros, p)
    }

    /// The rest of `multiset_card` once the registers' inverse powers of two are summed.
    static func estimate(sum: Double, zeros: Int, _ p: Parameters) -> Double {
        let m = p.registerCount
        let maxRegisterValue = (UInt64(1) << UInt64(p.regwidth)) - 1
        let totalBits = (maxRegisterValue - 1) + UInt64(p.log2m)
        let twoToL = UInt64(1) &<< totalBits
        let largeEstimatorCutoff = Double(twoToL) / 30.0

        let estimator = gammaRegisterCountSquared(m) / sum
        if zeros != 0 && estimator < 5.0 * Double(m) / 2.0 {
            return Double(m) * naturalLog(Double(m) / Double(zeros))
        }
        if estimator <= largeEstimatorCutoff {
            return estimator
        }
        return Double(-1 &* Int64(bitPattern: twoToL)) * naturalLog(1.0 - estimator / Double(twoToL))
    }

    /// The extension's `1.0 / (1L << register)` for every register value.
    static let inversePowersOfTwo: [Double] = (0..<256).map { 1.0 / Double(Int64(1) &<< Int64($0)) }

    /// α·m², written as the extension writes it (the order of the operations matters).
    static func gammaRegisterCountSquared(_ m: Int) -> Double {
        let n = Double(m)
        switch m {
        case 16: return 0.673 * n * n
        case 32: return 0.697 * n * n
        case 64: return 0.709 * n * n
        default: return (0.7213 / (1.0 + 1.079 / n)) * n * n
        }
    }
}

/// The C library's natural logarithm: the function the extension's `multiset_card` calls.
/// It is not correctly rounded (glibc's differs from the correctly rounded result in the last
/// bit for about one argument in a thousand that linear counting passes), so no logarithm
/// written here could give the same bits; this one does, on the same C library.
/// Declared by symbol because the core imports no Glibc; it is arithmetic, not I/O, and
/// every program linking the core links libm.
@_silgen_name("log")
func naturalLog(_ x: Double) -> Double
