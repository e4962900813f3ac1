/// The unique-worker sketch of a question: the rollup rows' stored bytes merged into one
/// register array, without decoding each row into a `HyperLogLog` first.
///
/// A question reads hundreds of rows, each with a sketch; a region's are SPARSE or FULL
/// (over a kilobyte). A row's SPARSE or FULL bytes stay as they were read until something
/// needs them: its cardinality is counted from the bytes, and merging it raises the
/// accumulator's registers straight from the bytes. Only EMPTY, EXPLICIT and UNDEFINED
/// sketches (a few hashes) are decoded.
///
/// Every answer is the one the pairwise `HyperLogLog.merge` gives for the same sketches
/// in the same order, byte for byte (the sketch tests compare them on random EXPLICIT,
/// SPARSE and FULL rows, promotions included): a merge of sketches with other parameters
/// is ignored, and bytes that are not a sketch read as an empty one, as the stores read
/// them.
public struct SketchAccumulator: WorkerSketch, Sendable {
    public private(set) var parameters: HyperLogLog.Parameters
    var state: State

    enum State: Sendable {
        /// EMPTY, EXPLICIT or UNDEFINED: never a register array.
        case small(HyperLogLog)
        /// One row's SPARSE or FULL bytes, checked, not decoded.
        case stored(HyperLogLog.StoredRegisters)
        /// Register values, one byte each.
        case registers([UInt8])
    }

    /// Empty, with the extension's default parameters.
    public init() {
        parameters = .default
        state = .small(HyperLogLog())
    }

    public init(_ sketch: HyperLogLog) {
        parameters = sketch.parameters
        if case .registers(let r) = sketch.storage {
            state = .registers(r.values)
        } else {
            state = .small(sketch)
        }
    }

    /// A stored sketch (postgresql-hll's bytes). Bytes that are not a sketch read as an
    /// empty one: a question never fails on one damaged row.
    public init(bytes: [UInt8]) {
        if let stored = HyperLogLog.StoredRegisters(bytes) {
            self.init(parameters: stored.parameters, state: .stored(stored))
        } else if let sketch = try? HyperLogLog(bytes: bytes) {
            self.init(sketch)
        } else {
            self.init()
        }
    }

    init(parameters: HyperLogLog.Parameters, state: State) {
        self.parameters = parameters
        self.state = state
    }

    public static var empty: SketchAccumulator { SketchAccumulator() }

    /// `hll_union`, in place. A sketch with other parameters is left out (the collector never
    /// writes one; the extension would refuse the union).
    public mutating func merge(_ other: SketchAccumulator) {
        guard parameters == other.parameters else { return }
        // Self's state is matched only where it is small, so that a register array taken
        // out of it is not shared with a copy (it is then raised in place).
        if case .small(let a) = state {
            merge(small: a, other)
            return
        }
        switch other.state {
        case .small(let b):
            switch b.storage {
            case .undefined: state = .small(HyperLogLog(parameters: parameters, storage: .undefined))
            case .empty: return
            case .explicit(let elements):
                var values = takeRegisterValues()
                Self.add(elements, to: &values, parameters)
                state = .registers(values)
            case .registers: preconditionFailure("a register array is never .small")
            }
        case .stored(let s):
            var values = takeRegisterValues()
            let raised = values.withUnsafeMutableBufferPointer { s.raise($0) }
            if !raised { Self.raise(&values, to: s.registerValues()) }
            state = .registers(values)
        case .registers(let r):
            var values = takeRegisterValues()
            Self.raise(&values, to: r)
            state = .registers(values)
        }
    }

    /// `merge(other)`, returning `other.distinctCount`: in one pass over other's bytes where
    /// other is one stored row and self already a register array (a question's buckets are
    /// counted one by one and merged into the period's sketch; for a region's hours each
    /// bucket is one row). Merging twice is merging once, so the fallback may redo it.
    public mutating func merge(counting other: SketchAccumulator) -> Int {
        if parameters == other.parameters, case .stored(let s) = other.state {
            switch state {
            case .stored, .registers:
                var values = takeRegisterValues()
                let counts = values.withUnsafeMutableBufferPointer { s.raiseCounting($0) }
                state = .registers(values)
                if let counts, let e = HyperLogLog.estimate(histogram: counts, parameters) { return Int(e.rounded()) }
            case .small:
                break
            }
        }
        merge(other)
        return other.distinctCount
    }

    /// `merge` while self is EMPTY, EXPLICIT or UNDEFINED.
    private mutating func merge(small a: HyperLogLog, _ other: SketchAccumulator) {
        switch (a.storage, other.state) {
        case (_, .small(let b)):
            var a = a
            state = .small(HyperLogLog())
            do throws(HyperLogLogError) { try a.formUnion(b) } catch {}
            self = SketchAccumulator(a)
        case (.undefined, _):
            return
        case (.empty, _):
            state = other.state  // shares the row's bytes; nothing decoded
        case (.explicit(let elements), _):
            var values = other.registerValues()
            Self.add(elements, to: &values, parameters)
            state = .registers(values)
        case (.registers, _):
            preconditionFailure("a register array is never .small")
        }
    }

    /// `hll_union` of stored bytes, in place (`merge(SketchAccumulator(bytes:))`).
    public mutating func merge(bytes: [UInt8]) { merge(SketchAccumulator(bytes: bytes)) }

    /// The merged sketch.
    public var sketch: HyperLogLog {
        switch state {
        case .small(let h): h
        case .stored, .registers: HyperLogLog(parameters: parameters, storage: .registers(HyperLogLog.Registers(values: registerValues())))
        }
    }

    /// Its storage bytes, as `HyperLogLog.bytes` writes them.
    public var bytes: [UInt8] { sketch.bytes }

    /// `hll_cardinality`, bit for bit; nil for UNDEFINED.
    public var cardinality: Double? {
        switch state {
        case .small(let h): return h.cardinality
        case .registers(let r): return HyperLogLog.estimate(r, parameters)
        case .stored(let s):
            if let counts = s.histogram(), let e = HyperLogLog.estimate(histogram: counts, parameters) { return e }
            return HyperLogLog.estimate(s.registerValues(), parameters)
        }
    }

    public var distinctCount: Int { cardinality.map { Int($0.rounded()) } ?? 0 }

    /// EMPTY or EXPLICIT: an exact count.
    public var isExact: Bool {
        if case .small(let h) = state { return h.representation == .empty || h.representation == .explicit }
        return false
    }

    // MARK: registers

    /// The register values of a `.stored` or `.registers` state (a copy).
    func registerValues() -> [UInt8] {
        switch state {
        case .stored(let s): s.registerValues()
        case .registers(let r): r
        case .small: preconditionFailure("no register array")
        }
    }

    /// The register values, moved out of `state` so they can be changed in place.
    mutating func takeRegisterValues() -> [UInt8] {
        if case .registers(let r) = state {
            state = .small(HyperLogLog())
            return r
        }
        return registerValues()
    }

    static func raise(_ values: inout [UInt8], to other: [UInt8]) {
        values.withUnsafeMutableBufferPointer { a in
            other.withUnsafeBufferPointer { b in
                for i in 0..<a.count { a[i] = max(a[i], b[i]) }
            }
        }
    }

    /// `Registers.add` for each hash.
    static func add(_ hashes: [Int64], to values: inout [UInt8], _ p: HyperLogLog.Parameters) {
        var r = HyperLogLog.Registers(count: 0)
        swap(&r.values, &values)
        for h in hashes { r.add(h, p) }
        swap(&r.values, &values)
    }
}
