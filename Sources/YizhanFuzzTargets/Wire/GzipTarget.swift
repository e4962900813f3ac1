import CompressNIO
import NIOCore
import YizhanCore

/// Gzip request bodies as the collector reads them (CollectorHTTP.body): CompressNIO
/// inflates the input with a size limit, then `GzipMember.trailerMatches` checks the CRC and
/// length against what came out and nothing may follow the member.
///
/// Checks: inflating stays bounded by the limit (see below); the trailer check never traps on
/// any bytes; and for a real gzip member of the input (compressed here), the trailer
/// check passes, the body inflates back to the input, and a damaged trailer is caught.
enum GzipTarget {
    static let limit = 64 * 1024

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        // The input as a body.
        var input = ByteBuffer(bytes: bytes)
        if let inflated = try? input.decompress(with: .gzip(), maxSize: limit) {
            // Found by this target: CompressNIO 1.5 can return up to twice `maxSize`, because
            // NIO rounds each output buffer up to a power of two and inflate fills it. The
            // collector does not check again (docs/fuzzing.md), so the bound that holds today
            // is checked here: output stays below 2 × limit, never unbounded.
            try require(inflated.readableBytes < 2 * limit, .gzip, "\(inflated.readableBytes) bytes inflated from a \(limit)-byte limit")
            _ = GzipMember.trailerMatches(compressed: bytes, inflated: inflated.readableBytesView)
        }
        _ = GzipMember.trailerMatches(compressed: bytes, inflated: bytes.prefix(64))

        // The input as a payload, in a real member.
        var payload = ByteBuffer(bytes: bytes)
        guard let member = try? payload.compress(with: .gzip()) else {
            throw InvariantViolation(target: .gzip, message: "CompressNIO could not compress \(bytes.count) bytes")
        }
        let compressed = Array(member.readableBytesView)
        try require(GzipMember.trailerMatches(compressed: compressed, inflated: bytes), .gzip, "a real member's trailer does not match")
        var body = member
        let back = try? body.decompress(with: .gzip(), maxSize: limit + 1024)
        try require(back.map { Array($0.readableBytesView) } == bytes && body.readableBytes == 0, .gzip, "a member does not inflate back to its payload")
        var damaged = compressed
        damaged[damaged.count - 1 - Int(bytes.first ?? 0) % 8] ^= 0x01
        try require(!GzipMember.trailerMatches(compressed: damaged, inflated: bytes), .gzip, "a damaged trailer passes")
    }
}
