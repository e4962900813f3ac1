/// The storage bytes (schema version 1): a version/type byte, a parameter byte, a cutoff
/// byte, then the data.
///
///     byte 0   version (1) in the high nibble, type in the low: 0 UNDEFINED, 1 EMPTY,
///              2 EXPLICIT, 3 SPARSE, 4 FULL
///     byte 1   (regwidth - 1) in the top 3 bits, log2m in the low 5
///     byte 2   padding bit, sparseon, then expthresh in 6 bits (63 = -1, 0 = 0, else
///              log2(expthresh) + 1)
///     EXPLICIT the hashes as big-endian 64-bit integers, ascending as signed numbers
///     SPARSE   (log2m + regwidth)-bit words, index above value, ascending index, packed
///              from the high bit of the first byte down, zero-padded to a whole byte
///     FULL     every register as a regwidth-bit word, packed the same way
extension HyperLogLog {
    /// The bytes PostgreSQL stores for this sketch (`hll_send`, or `'\x…'::hll` in text).
    public var bytes: [UInt8] { bytes(sparseLimit: .automatic) }

    /// The bytes as the extension writes them after `hll_set_max_sparse` (the upstream test
    /// vectors were made with a fixed limit).
    public func bytes(sparseLimit: SparseLimit) -> [UInt8] {
        let p = parameters
        let type = representation(sparseLimit: sparseLimit)
        var out: [UInt8] = [
            0x10 | UInt8(type.rawValue),
            UInt8((p.regwidth - 1) << 5 | p.log2m),
            (p.sparseon ? 0x40 : 0) | p.expthreshCode,
        ]
        switch storage {
        case .undefined, .empty:
            break
        case .explicit(let elements):
            out.reserveCapacity(3 + 8 * elements.count)
            for e in elements {
                let u = UInt64(bitPattern: e)
                for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: u >> UInt64(shift))) }
            }
        case .registers(let r):
            var writer = BitWriter()
            if type == .sparse {
                let width = p.log2m + p.regwidth
                writer.out = out
                writer.out.reserveCapacity(3 + (r.filled * width + 7) / 8)
                for (i, v) in r.values.enumerated() where v != 0 {
                    writer.write(UInt64(i) << UInt64(p.regwidth) | UInt64(v), width: width)
                }
            } else {
                writer.out = out
                writer.out.reserveCapacity(3 + (p.registerCount * p.regwidth + 7) / 8)
                for v in r.values { writer.write(UInt64(v), width: p.regwidth) }
            }
            writer.flush()
            out = writer.out
        }
        return out
    }

    /// Reads stored bytes, refusing (never trapping on) what the extension would refuse:
    /// an unknown version or type, impossible parameters, a length that does not fit the
    /// type, explicit hashes out of order. Where the extension reads something odd without
    /// complaint, so does this, the same way: padding bits are ignored, and a SPARSE entry
    /// repeated for one register leaves the last value written.
    public init(bytes: some Collection<UInt8>) throws(HyperLogLogError) {
        let b = Array(bytes)
        guard b.count >= 3 else {
            throw .malformedBytes("\(b.count) byte\(b.count == 1 ? "" : "s"), a sketch has at least 3 (version, parameters, cutoff)")
        }
        let version = b[0] >> 4
        guard version == 1 else { throw .malformedBytes("schema version \(version) (byte 0 = \(hexByte(b[0]))), only version 1 exists") }
        guard let type = Representation(rawValue: Int(b[0] & 0x0f)) else {
            throw .malformedBytes("type \(b[0] & 0x0f) in byte 0, known types are 0 to 4")
        }
        let regwidth = Int(b[1] >> 5) + 1
        let log2m = Int(b[1] & 0x1f)
        let code = b[2] & 0x3f
        guard Parameters.regwidthRange.contains(regwidth) else {
            throw .malformedBytes("register width \(regwidth) in byte 1 (\(hexByte(b[1]))), must be 1 to 7")
        }
        guard Parameters.log2mRange.contains(log2m) else {
            throw .malformedBytes("log2m \(log2m) in byte 1 (\(hexByte(b[1]))), must be 4 to 17")
        }
        // The extension checks the explicit threshold strictly for EMPTY and EXPLICIT and
        // accepts any power of two for the others (older versions wrote larger ones).
        if type == .empty || type == .explicit, code != 63, code > 14 {
            throw .malformedBytes("explicit threshold 2^\(code - 1) in byte 2 (\(hexByte(b[2]))), at most 8192")
        }
        let p = Parameters(unchecked: log2m, regwidth, Parameters.expthresh(code: code), b[2] & 0x40 != 0)
        let data = b[3...]
        switch type {
        case .undefined, .empty:
            guard data.isEmpty else {
                throw .malformedBytes("\(type) sketch of \(b.count) bytes, must be exactly 3")
            }
            self.init(parameters: p, storage: type == .empty ? .empty : .undefined)
        case .explicit:
            guard data.count % 8 == 0 else {
                throw .malformedBytes("EXPLICIT data of \(data.count) bytes, not a whole number of 8-byte hashes")
            }
            guard data.count / 8 <= Parameters.explicitCapacity else {
                throw .malformedBytes("EXPLICIT sketch of \(data.count / 8) hashes, at most \(Parameters.explicitCapacity)")
            }
            var elements: [Int64] = []
            elements.reserveCapacity(data.count / 8)
            var at = 3
            while at < b.count {
                var u: UInt64 = 0
                for k in 0..<8 { u = u << 8 | UInt64(b[at + k]) }
                let e = Int64(bitPattern: u)
                if let last = elements.last, last >= e {
                    throw .malformedBytes("EXPLICIT hash at byte \(at) is \(last == e ? "a duplicate" : "smaller than the one before"); they must ascend")
                }
                elements.append(e)
                at += 8
            }
            self.init(parameters: p, storage: .explicit(elements))
        case .full:
            let expected = (p.registerCount * regwidth + 7) / 8
            guard data.count == expected else {
                throw .malformedBytes("FULL data of \(data.count) bytes, \(expected) expected for 2^\(log2m) registers of \(regwidth) bits")
            }
            var reader = BitReader(bytes: b, at: 3)
            var values = [UInt8](repeating: 0, count: p.registerCount)
            for i in 0..<values.count { values[i] = UInt8(truncatingIfNeeded: reader.read(width: regwidth)) }
            self.init(parameters: p, storage: .registers(Registers(values: values)))
        case .sparse:
            let width = log2m + regwidth
            let bits = data.count * 8
            let entries = bits / width
            guard bits - entries * width < 8 else {
                throw .malformedBytes("SPARSE data of \(data.count) bytes leaves \(bits - entries * width) bits after \(entries) entries of \(width) bits, fewer than 8 expected")
            }
            var reader = BitReader(bytes: b, at: 3)
            var values = [UInt8](repeating: 0, count: p.registerCount)
            let mask = UInt64(1) << UInt64(regwidth) - 1
            for _ in 0..<entries {
                let word = reader.read(width: width)
                values[Int(word >> UInt64(regwidth))] = UInt8(word & mask)
            }
            self.init(parameters: p, storage: .registers(Registers(values: values)))
        }
    }
}

private func hexByte(_ b: UInt8) -> String {
    "0x" + String(Hex.digits[Int(b >> 4)]) + String(Hex.digits[Int(b & 15)]).uppercased()
}

/// Writes words high bit first into bytes, high bit first.
struct BitWriter {
    var out: [UInt8] = []
    private var pending: UInt64 = 0
    private var pendingBits = 0

    @inline(__always)
    mutating func write(_ value: UInt64, width: Int) {
        pending = pending &<< UInt64(width) | value
        pendingBits += width
        while pendingBits >= 8 {
            pendingBits -= 8
            out.append(UInt8(truncatingIfNeeded: pending >> UInt64(pendingBits)))
        }
    }

    /// Pads the last byte with zero bits.
    mutating func flush() {
        if pendingBits > 0 {
            out.append(UInt8(truncatingIfNeeded: pending << UInt64(8 - pendingBits)))
            pendingBits = 0
        }
    }
}

/// Reads words high bit first; the caller has checked that the bytes hold them all.
struct BitReader {
    let bytes: [UInt8]
    private var next: Int
    private var pending: UInt64 = 0
    private var pendingBits = 0

    init(bytes: [UInt8], at offset: Int) {
        self.bytes = bytes
        self.next = offset
    }

    @inline(__always)
    mutating func read(width: Int) -> UInt64 {
        while pendingBits < width {
            pending = pending &<< 8 | UInt64(bytes[next])
            next += 1
            pendingBits += 8
        }
        pendingBits -= width
        return (pending >> UInt64(pendingBits)) & (UInt64(1) << UInt64(width) - 1)
    }
}
