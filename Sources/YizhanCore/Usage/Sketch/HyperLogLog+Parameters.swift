extension HyperLogLog {
    /// The extension's type modifiers, `hll(log2m, regwidth, expthresh, sparseon)`.
    ///
    /// The defaults are the extension's own (`hll_add_agg(x)` without modifiers): 2^11 = 2048
    /// registers of 5 bits, so a relative standard error of 1.04/√2048 ≈ 2.3 %; exact
    /// (EXPLICIT) up to 160 hashes, SPARSE up to 639 set registers, FULL (1,283 bytes) beyond.
    /// Yizhan uses them: the error is inside the 2.5 % asked for, and anything else would have
    /// to be spelled out in every SQL aggregate.
    public struct Parameters: Hashable, Sendable, CustomStringConvertible {
        /// log2 of the number of registers: 4...17.
        public let log2m: Int
        /// Bits per register: 1...7.
        public let regwidth: Int
        /// Most hashes kept exactly before going to registers: -1 means "while the list is no
        /// larger than the FULL registers would be", 0 never, else a power of two.
        public let expthresh: Int64
        /// Whether register arrays are stored SPARSE while that is smaller than FULL.
        public let sparseon: Bool

        public static let `default` = Parameters(unchecked: 11, 5, -1, true)

        /// The extension keeps at most this many explicit hashes (its 128 KiB buffer).
        static let explicitCapacity = 16_383
        static let log2mRange = 4...17
        static let regwidthRange = 1...7

        /// Checks the modifiers as `hll_empty(log2m, regwidth, expthresh, sparseon)` does,
        /// except that fewer than 16 registers are refused: the extension accepts them but
        /// then cannot estimate a cardinality from them.
        public init(log2m: Int = 11, regwidth: Int = 5, expthresh: Int64 = -1, sparseon: Bool = true) throws(HyperLogLogError) {
            guard Self.log2mRange.contains(log2m) else {
                throw .invalidParameters("log2m \(log2m) is outside \(Self.log2mRange)")
            }
            guard Self.regwidthRange.contains(regwidth) else {
                throw .invalidParameters("regwidth \(regwidth) is outside \(Self.regwidthRange)")
            }
            guard expthresh == -1 || expthresh == 0
                || (expthresh > 0 && expthresh <= Int64(Self.explicitCapacity) && expthresh & (expthresh - 1) == 0)
            else {
                throw .invalidParameters("expthresh \(expthresh) is not -1, 0 or a power of two up to 8192")
            }
            self.init(unchecked: log2m, regwidth, expthresh, sparseon)
        }

        init(unchecked log2m: Int, _ regwidth: Int, _ expthresh: Int64, _ sparseon: Bool) {
            self.log2m = log2m
            self.regwidth = regwidth
            self.expthresh = expthresh
            self.sparseon = sparseon
        }

        public var registerCount: Int { 1 << log2m }
        var maxRegisterValue: Int { (1 << regwidth) - 1 }

        /// How many hashes an EXPLICIT sketch holds before it turns into registers
        /// (the extension's `expthresh_value`, capped at its buffer as its union code is).
        public var explicitLimit: Int {
            if expthresh == -1 {
                let fullBytes = (regwidth * registerCount + 7) / 8
                return min(fullBytes / 8, Self.explicitCapacity)
            }
            return Int(min(expthresh, Int64(Self.explicitCapacity)))
        }

        /// The 6-bit form in the cutoff byte: 63 for -1, 0 for 0, else log2(expthresh) + 1.
        var expthreshCode: UInt8 {
            if expthresh == -1 { return 63 }
            if expthresh == 0 { return 0 }
            return UInt8(63 - expthresh.leadingZeroBitCount + 1)
        }

        static func expthresh(code: UInt8) -> Int64 {
            code == 63 ? -1 : code == 0 ? 0 : Int64(1) << (code - 1)
        }

        /// SPARSE or FULL for a register array with `filled` registers set.
        func packsSparse(filled: Int, limit: SparseLimit) -> Bool {
            guard sparseon else { return false }
            switch limit {
            case .automatic: return filled * (log2m + regwidth) < registerCount * regwidth
            case .registers(let n): return filled <= n
            }
        }

        public var description: String {
            "hll(\(log2m), \(regwidth), \(expthresh), \(sparseon ? 1 : 0))"
        }
    }

    /// When a register array is stored SPARSE. The extension's session setting
    /// `hll_set_max_sparse(n)`: -1 (the default) is `.automatic`, n ≥ 0 is `.registers(n)`.
    public enum SparseLimit: Hashable, Sendable {
        /// SPARSE while it takes fewer bits than FULL.
        case automatic
        /// SPARSE while at most this many registers are set.
        case registers(Int)
    }
}
