/// GA 467 serial framing shared by requests and responses:
/// `AA AA AA 96 69 | LEN_HI LEN_LO | body | CHK`, where LEN counts the body and the
/// checksum, and CHK is the XOR of the two length bytes and the body.
public enum GA467Frame {
    public static let preamble: [UInt8] = [0xAA, 0xAA, 0xAA, 0x96, 0x69]
    /// Longest frame we accept; the largest real answer (text + photo + fingerprint) is
    /// about 2.3 KB, so anything above this is a corrupt length.
    public static let maximumLength = 4096

    /// Encodes `body` as a whole frame.
    public static func encode(body: [UInt8]) -> [UInt8] {
        let length = body.count + 1
        precondition(length <= maximumLength, "GA 467 body too long")
        let hi = UInt8(length >> 8), lo = UInt8(length & 0xFF)
        var checksum = hi ^ lo
        for b in body { checksum ^= b }
        return preamble + [hi, lo] + body + [checksum]
    }
}

/// What went wrong in the byte stream. The decoder has already resynchronised when it
/// reports one of these, so decoding simply continues.
public enum GA467FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Bytes that were not part of any frame were dropped (line noise, a half frame).
    case garbage(byteCount: Int)
    /// The length field is outside 3...maximumLength.
    case badLength(Int)
    /// The checksum byte does not match.
    case badChecksum(expected: UInt8, received: UInt8)

    public var description: String {
        switch self {
        case .garbage(let n): return "skipped \(n) byte(s) outside a frame"
        case .badLength(let n): return "frame length \(n) out of range"
        case .badChecksum(let e, let r): return "bad checksum: expected \(hex(e)), received \(hex(r))"
        }
    }
}

func hex(_ b: UInt8) -> String {
    let d: [Character] = Array("0123456789ABCDEF")
    return String([d[Int(b >> 4)], d[Int(b & 0xF)]])
}

/// Incremental GA 467 frame decoder: feed it bytes as they arrive (any split), take
/// frame bodies out. Garbage before a preamble, impossible lengths and bad checksums come
/// out as typed errors, after which the decoder has resynchronised on the next preamble.
public struct GA467FrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0

    public init() {}

    /// Bytes buffered and not yet decoded.
    public var pendingByteCount: Int { buffer.count - start }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Drops everything buffered (after a timeout, a half frame will never complete).
    public mutating func reset() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
    }

    /// The next frame body, an error (after resynchronising), or nil when more bytes are needed.
    public mutating func next() -> Result<[UInt8], GA467FrameError>? {
        let available = buffer.count - start
        guard available > 0 else { return nil }
        guard let p = findPreamble() else {
            // Keep a tail that could still become a preamble.
            let keep = partialPreambleSuffixLength()
            let dropped = available - keep
            guard dropped > 0 else { return nil }
            start += dropped
            return .failure(.garbage(byteCount: dropped))
        }
        if p > start {
            let dropped = p - start
            start = p
            return .failure(.garbage(byteCount: dropped))
        }
        guard available >= 7 else { return nil }
        let length = Int(buffer[start + 5]) << 8 | Int(buffer[start + 6])
        guard length >= 3, length <= GA467Frame.maximumLength else {
            start += 1  // resync: look for the next preamble after this one's first byte
            return .failure(.badLength(length))
        }
        guard available >= 7 + length else { return nil }
        var checksum: UInt8 = 0
        for i in (start + 5)..<(start + 6 + length) { checksum ^= buffer[i] }
        let received = buffer[start + 6 + length]
        guard checksum == received else {
            start += 1
            return .failure(.badChecksum(expected: checksum, received: received))
        }
        let body = Array(buffer[(start + 7)..<(start + 6 + length)])
        start += 7 + length
        return .success(body)
    }

    private func findPreamble() -> Int? {
        let pre = GA467Frame.preamble
        var i = start
        while i + pre.count <= buffer.count {
            if buffer[i] == pre[0] && buffer[i + 1] == pre[1] && buffer[i + 2] == pre[2]
                && buffer[i + 3] == pre[3] && buffer[i + 4] == pre[4] {
                return i
            }
            i += 1
        }
        return nil
    }

    private func partialPreambleSuffixLength() -> Int {
        let pre = GA467Frame.preamble
        let available = buffer.count - start
        for n in stride(from: min(pre.count - 1, available), to: 0, by: -1) {
            if Array(buffer[(buffer.count - n)...]) == Array(pre[0..<n]) { return n }
        }
        return 0
    }
}
