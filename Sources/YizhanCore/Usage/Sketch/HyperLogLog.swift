/// A HyperLogLog sketch of a set of 64-bit hashes that makes the same bytes and the same
/// cardinality answers as the PostgreSQL extension postgresql-hll (its `hll` type, storage
/// schema version 1, as specified in aggregateknowledge/hll-storage-spec).
///
/// The collector keeps one per station and hour (the card keys seen) and unions them across
/// stations and periods; a sketch made here on SQLite and one made by `hll_add_agg` inside
/// PostgreSQL are interchangeable, byte for byte.
///
/// As in postgresql-hll a sketch is, in memory, either EMPTY, EXPLICIT (the sorted hashes
/// themselves, exact, up to `Parameters.explicitLimit` of them) or a register array. The
/// register array is stored as SPARSE (index/value pairs of the set registers) while that is
/// smaller than FULL (every register), then as FULL: SPARSE and FULL differ only in bytes.
/// UNDEFINED is the extension's "no answer" value; it is never made here, only read.
public struct HyperLogLog: Hashable, Sendable {
    public let parameters: Parameters
    var storage: Storage

    enum Storage: Hashable, Sendable {
        case undefined
        case empty
        /// Ascending as signed integers (the extension compares them signed), no duplicates.
        case explicit([Int64])
        case registers(Registers)
    }

    /// An empty sketch; `hll_empty()` with the extension's defaults.
    public init(parameters: Parameters = .default) {
        self.parameters = parameters
        self.storage = .empty
    }

    init(parameters: Parameters, storage: Storage) {
        self.parameters = parameters
        self.storage = storage
    }

    /// The storage type the bytes will carry (the low nibble of the first byte).
    public enum Representation: Int, Hashable, Sendable, CustomStringConvertible {
        case undefined = 0, empty = 1, explicit = 2, sparse = 3, full = 4
        public var description: String {
            switch self {
            case .undefined: "UNDEFINED"
            case .empty: "EMPTY"
            case .explicit: "EXPLICIT"
            case .sparse: "SPARSE"
            case .full: "FULL"
            }
        }
    }

    public var representation: Representation { representation(sparseLimit: .automatic) }

    func representation(sparseLimit: SparseLimit) -> Representation {
        switch storage {
        case .undefined: .undefined
        case .empty: .empty
        case .explicit: .explicit
        case .registers(let r): parameters.packsSparse(filled: r.filled, limit: sparseLimit) ? .sparse : .full
        }
    }

    /// Adds an already hashed value, as `hll_add(sketch, hll_hashval(value))` does; hash card
    /// keys with `HyperLogLog.hash(cardKey:)` first.
    public mutating func add(hashedValue: Int64) {
        switch storage {
        case .undefined:
            return
        case .empty:
            if parameters.explicitLimit == 0 {
                var r = Registers(count: parameters.registerCount)
                r.add(hashedValue, parameters)
                storage = .registers(r)
            } else {
                storage = .explicit([hashedValue])
            }
        case .explicit(var elements):
            let at = elements.insertionIndex(of: hashedValue)
            if at < elements.count && elements[at] == hashedValue { return }
            storage = .empty  // lets `elements` be mutated in place
            if elements.count >= parameters.explicitLimit {
                var r = Registers(count: parameters.registerCount)
                for e in elements { r.add(e, parameters) }
                r.add(hashedValue, parameters)
                storage = .registers(r)
            } else {
                elements.insert(hashedValue, at: at)
                storage = .explicit(elements)
            }
        case .registers(var r):
            storage = .empty
            r.add(hashedValue, parameters)
            storage = .registers(r)
        }
    }

    /// `hll_union(self, other)`: the sketch of the union of the two sets. Sketches made with
    /// different parameters cannot be united (the extension refuses too).
    public func union(_ other: HyperLogLog) throws(HyperLogLogError) -> HyperLogLog {
        var u = self
        try u.formUnion(other)
        return u
    }

    public mutating func formUnion(_ other: HyperLogLog) throws(HyperLogLogError) {
        guard parameters == other.parameters else {
            throw .mismatchedParameters(parameters, other.parameters)
        }
        switch (storage, other.storage) {
        case (.undefined, _), (_, .undefined):
            storage = .undefined
        case (_, .empty):
            return
        case (.empty, _):
            storage = other.storage
        case (.explicit(let a), .explicit(let b)):
            let merged = Self.mergeSorted(a, b)
            // Adding b's elements one by one promotes as soon as a new element arrives while
            // the set already holds `explicitLimit` elements.
            if merged.count > a.count && merged.count > parameters.explicitLimit {
                var r = Registers(count: parameters.registerCount)
                for e in merged { r.add(e, parameters) }
                storage = .registers(r)
            } else {
                storage = .explicit(merged)
            }
        case (.explicit(let a), .registers(var r)):
            for e in a { r.add(e, parameters) }
            storage = .registers(r)
        case (.registers(var r), .explicit(let b)):
            storage = .empty
            for e in b { r.add(e, parameters) }
            storage = .registers(r)
        case (.registers(var r), .registers(let s)):
            storage = .empty
            r.formMaximum(s)
            storage = .registers(r)
        }
    }

    /// `hll_union_agg`: nil for no sketches (the aggregate's NULL).
    public static func union(of sketches: some Sequence<HyperLogLog>) throws(HyperLogLogError) -> HyperLogLog? {
        var result: HyperLogLog?
        for s in sketches {
            if result == nil { result = s } else { try result!.formUnion(s) }
        }
        return result
    }

    static func mergeSorted(_ a: [Int64], _ b: [Int64]) -> [Int64] {
        var out: [Int64] = []
        out.reserveCapacity(a.count + b.count)
        var i = 0, j = 0
        while i < a.count && j < b.count {
            if a[i] < b[j] { out.append(a[i]); i += 1 }
            else if b[j] < a[i] { out.append(b[j]); j += 1 }
            else { out.append(a[i]); i += 1; j += 1 }
        }
        out.append(contentsOf: a[i...])
        out.append(contentsOf: b[j...])
        return out
    }
}

extension HyperLogLog {
    /// The register array: one byte per register in memory, whatever the stored width.
    struct Registers: Hashable, Sendable {
        var values: [UInt8]
        /// How many registers are non-zero (decides SPARSE or FULL).
        var filled: Int

        init(count: Int) {
            values = Array(repeating: 0, count: count)
            filled = 0
        }

        init(values: [UInt8]) {
            self.values = values
            self.filled = values.reduce(0) { $0 + ($1 == 0 ? 0 : 1) }
        }

        /// The register index is the low log2m bits; the value is one more than the number of
        /// trailing zeros of the remaining bits (0 when they are all zero), capped at the
        /// largest value the register width holds.
        @inline(__always)
        mutating func add(_ hashed: Int64, _ p: Parameters) {
            let element = UInt64(bitPattern: hashed)
            let index = Int(truncatingIfNeeded: element & UInt64(values.count - 1))
            let rest = element >> UInt64(p.log2m)
            let rank = rest == 0 ? 0 : min(rest.trailingZeroBitCount + 1, p.maxRegisterValue)
            let old = values[index]
            if old < UInt8(rank) {
                if old == 0 { filled += 1 }
                values[index] = UInt8(rank)
            }
        }

        mutating func formMaximum(_ other: Registers) {
            values.withUnsafeMutableBufferPointer { a in
                other.values.withUnsafeBufferPointer { b in
                    for i in 0..<a.count { a[i] = max(a[i], b[i]) }
                }
            }
            // Counted in a separate pass, which keeps the maximum loop vectorised (pmaxub).
            var filled = 0
            for v in values where v != 0 { filled += 1 }
            self.filled = filled
        }
    }
}

extension Array where Element == Int64 {
    /// The first index whose element is not less than `value` (the array is ascending).
    func insertionIndex(of value: Int64) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = low + (high - low) / 2
            if self[mid] < value { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

public enum HyperLogLogError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Parameters the extension would refuse (or could not estimate with).
    case invalidParameters(String)
    /// A union of sketches made with different parameters.
    case mismatchedParameters(HyperLogLog.Parameters, HyperLogLog.Parameters)
    /// Stored bytes that are not a valid sketch: what is wrong, and at which byte when known.
    case malformedBytes(String)
    /// A card key that is not 64 hex digits.
    case invalidCardKey(String)

    public var description: String {
        switch self {
        case .invalidParameters(let s): "hll parameters: \(s)"
        case .mismatchedParameters(let a, let b): "hll union of sketches with different parameters: \(a) and \(b)"
        case .malformedBytes(let s): "malformed hll bytes: \(s)"
        case .invalidCardKey(let s): "card key is not 64 hex digits: \(s.prefix(80))"
        }
    }
}
