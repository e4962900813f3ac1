/// The extension's hash functions: MurmurHash3 x64 128 of the value's bytes, of which the
/// first 64-bit half is the `hll_hashval`. The seed defaults to 0 as in SQL.
///
/// Card keys: the collector hashes the 32 bytes of the HMAC, not its 64 hex digits, so that
/// a key compares the same whatever case its hex was written in. In SQL that is
/// `hll_hash_bytea(decode(card_key, 'hex'))`, e.g.
/// `SELECT hll_add_agg(hll_hash_bytea(decode(card_key, 'hex'))) FROM events WHERE …`.
extension HyperLogLog {
    /// `hll_hash_bytea(bytes, seed)`.
    public static func hash(bytes: some Collection<UInt8>, seed: Int32 = 0) -> Int64 {
        let h = murmur3x64_128(Array(bytes), seed: UInt32(bitPattern: seed))
        return Int64(bitPattern: h.0)
    }

    /// `hll_hash_text(text, seed)`: the UTF-8 bytes of the text.
    public static func hash(text: String, seed: Int32 = 0) -> Int64 {
        hash(bytes: Array(text.utf8), seed: seed)
    }

    /// `hll_hash_bigint(value, seed)`: the integer's bytes in memory order, which is
    /// little-endian on every machine Yizhan runs on (PostgreSQL's result is machine-dependent).
    public static func hash(bigint: Int64, seed: Int32 = 0) -> Int64 {
        let u = UInt64(bitPattern: bigint)
        return hash(bytes: (0..<8).map { UInt8(truncatingIfNeeded: u >> UInt64(8 * $0)) }, seed: seed)
    }

    /// `hll_hash_integer(value, seed)`, little-endian as above.
    public static func hash(integer: Int32, seed: Int32 = 0) -> Int64 {
        let u = UInt32(bitPattern: integer)
        return hash(bytes: (0..<4).map { UInt8(truncatingIfNeeded: u >> UInt32(8 * $0)) }, seed: seed)
    }

    /// The hash the collector adds for a card key: `hll_hash_bytea` of the key's 32 bytes.
    public static func hash(cardKey: CardKey) throws(HyperLogLogError) -> Int64 {
        let hex = Array(cardKey.hex.utf8)
        guard hex.count == 64 else { throw .invalidCardKey(cardKey.hex) }
        var key = [UInt8](repeating: 0, count: 32)
        for i in 0..<32 {
            guard let high = hexValue(hex[2 * i]), let low = hexValue(hex[2 * i + 1]) else {
                throw .invalidCardKey(cardKey.hex)
            }
            key[i] = high << 4 | low
        }
        return hash(bytes: key)
    }
}

private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// MurmurHash3_x64_128 (Austin Appleby's public-domain design): 16-byte blocks read as two
/// little-endian 64-bit words, a tail of up to 15 bytes, then the finalisation mix.
func murmur3x64_128(_ data: [UInt8], seed: UInt32) -> (UInt64, UInt64) {
    let c1: UInt64 = 0x87c3_7b91_1142_53d5
    let c2: UInt64 = 0x4cf5_ad43_2745_937f
    var h1 = UInt64(seed)
    var h2 = UInt64(seed)

    @inline(__always) func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { x << r | x >> (64 - r) }
    @inline(__always) func mixK1(_ k: UInt64) -> UInt64 { rotl(k &* c1, 31) &* c2 }
    @inline(__always) func mixK2(_ k: UInt64) -> UInt64 { rotl(k &* c2, 33) &* c1 }
    @inline(__always) func fmix(_ k: UInt64) -> UInt64 {
        var k = k
        k ^= k >> 33
        k = k &* 0xff51_afd7_ed55_8ccd
        k ^= k >> 33
        k = k &* 0xc4ce_b9fe_1a85_ec53
        k ^= k >> 33
        return k
    }

    let blocks = data.count / 16
    data.withUnsafeBytes { raw in
        for i in 0..<blocks {
            let k1 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i, as: UInt64.self))
            let k2 = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16 * i + 8, as: UInt64.self))
            h1 ^= mixK1(k1)
            h1 = rotl(h1, 27) &+ h2
            h1 = h1 &* 5 &+ 0x52dc_e729
            h2 ^= mixK2(k2)
            h2 = rotl(h2, 31) &+ h1
            h2 = h2 &* 5 &+ 0x3849_5ab5
        }
    }

    let tail = blocks * 16
    let rest = data.count - tail
    if rest > 8 {
        var k2: UInt64 = 0
        for j in stride(from: rest - 1, through: 8, by: -1) { k2 = k2 << 8 | UInt64(data[tail + j]) }
        h2 ^= mixK2(k2)
    }
    if rest > 0 {
        var k1: UInt64 = 0
        for j in stride(from: min(rest, 8) - 1, through: 0, by: -1) { k1 = k1 << 8 | UInt64(data[tail + j]) }
        h1 ^= mixK1(k1)
    }

    let length = UInt64(data.count)
    h1 ^= length
    h2 ^= length
    h1 = h1 &+ h2
    h2 = h2 &+ h1
    h1 = fmix(h1)
    h2 = fmix(h2)
    h1 = h1 &+ h2
    h2 = h2 &+ h1
    return (h1, h2)
}
