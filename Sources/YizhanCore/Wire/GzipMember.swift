/// The end of a gzip body (RFC 1952): after the deflate data come CRC-32 and ISIZE of the
/// inflated bytes, and nothing else. The inflater stops at the end of the deflate stream
/// without looking at what follows, so a missing or wrong trailer and junk after it are
/// caught here, by comparing the body's last eight bytes with the inflated data.
public enum GzipMember {
    public static func trailerMatches(compressed: some Collection<UInt8>, inflated: some Sequence<UInt8>) -> Bool {
        guard compressed.count >= 18 else { return false }  // 10-byte header + empty deflate + trailer
        var crc: UInt32 = 0xFFFF_FFFF
        var size: UInt32 = 0
        for byte in inflated {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
            size &+= 1
        }
        crc ^= 0xFFFF_FFFF
        let tail = Array(compressed.suffix(8))
        let le = { (i: Int) in UInt32(tail[i]) | UInt32(tail[i + 1]) << 8 | UInt32(tail[i + 2]) << 16 | UInt32(tail[i + 3]) << 24 }
        return le(0) == crc && le(4) == size
    }

    /// CRC-32 (IEEE 802.3, reflected) by table. Written here because no package we use
    /// exposes zlib's `crc32` to Swift; it runs once per uploaded batch.
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
