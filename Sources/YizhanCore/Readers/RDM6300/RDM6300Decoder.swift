/// Decoder for RDM6300-style 125 kHz readers (EM4100 cards), 9600 8N1:
/// `02 | 10 ASCII hex (version + 32-bit tag) | 2 ASCII hex checksum | 03`,
/// checksum = XOR of the 5 bytes the 10 hex characters encode.
///
/// The reader repeats the frame while the card stays in the field; a frame for the same
/// tag within `repeatWindow` of the previous one is a repeat, not a new swipe.
public struct RDM6300Decoder: Sendable {
    public static let frameLength = 14

    public enum Output: Hashable, Sendable {
        /// A new card: the tag as printed on the card (10 decimal digits).
        case card(NormalizedCardNumber)
        case error(RDM6300Error)
    }

    public var repeatWindow: Duration
    private var buffer: [UInt8] = []
    private var lastTag: UInt32?
    private var lastTagSeen: Duration = .zero

    public init(repeatWindow: Duration = .milliseconds(1500)) {
        self.repeatWindow = repeatWindow
    }

    public mutating func reset() { buffer.removeAll() }

    public mutating func feed(_ bytes: some Sequence<UInt8>, now: Duration) -> [Output] {
        buffer.append(contentsOf: bytes)
        var out: [Output] = []
        while !buffer.isEmpty {
            guard let stx = buffer.firstIndex(of: 0x02) else {
                out.append(.error(.garbage(byteCount: buffer.count)))
                buffer.removeAll()
                break
            }
            if stx > 0 {
                out.append(.error(.garbage(byteCount: stx)))
                buffer.removeFirst(stx)
            }
            guard buffer.count >= Self.frameLength else { break }
            let frame = Array(buffer[0..<Self.frameLength])
            switch Self.decode(frame: frame) {
            case .success(let tag):
                buffer.removeFirst(Self.frameLength)
                let isRepeat = tag == lastTag && now - lastTagSeen < repeatWindow
                lastTag = tag
                lastTagSeen = now
                if !isRepeat { out.append(.card(Self.cardNumber(tag: tag))) }
            case .failure(let error):
                out.append(.error(error))
                buffer.removeFirst()  // resync on the next STX
            }
        }
        return out
    }

    /// The tag of one whole 14-byte frame.
    public static func decode(frame: [UInt8]) -> Result<UInt32, RDM6300Error> {
        guard frame.count == frameLength, frame[0] == 0x02 else { return .failure(.badFraming) }
        guard frame[13] == 0x03 else { return .failure(.badFraming) }
        var values: [UInt8] = []
        var i = 1
        while i < 13 {
            guard let hi = hexValue(frame[i]), let lo = hexValue(frame[i + 1]) else { return .failure(.notHex) }
            values.append(hi << 4 | lo)
            i += 2
        }
        let checksum = values[0..<5].reduce(0, ^)
        guard checksum == values[5] else { return .failure(.badChecksum(expected: checksum, received: values[5])) }
        return .success(values[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
    }

    /// Encodes a frame for a version byte and tag (simulated reader, tests).
    public static func encode(version: UInt8 = 0x01, tag: UInt32) -> [UInt8] {
        let values = [version, UInt8(tag >> 24), UInt8((tag >> 16) & 0xFF), UInt8((tag >> 8) & 0xFF), UInt8(tag & 0xFF)]
        let checksum = values.reduce(0, ^)
        let digits = Array("0123456789ABCDEF".utf8)
        var frame: [UInt8] = [0x02]
        for v in values + [checksum] { frame.append(digits[Int(v >> 4)]); frame.append(digits[Int(v & 0xF)]) }
        frame.append(0x03)
        return frame
    }

    public static func cardNumber(tag: UInt32) -> NormalizedCardNumber {
        NormalizedCardNumber(String(tag))
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}

public enum RDM6300Error: Error, Hashable, Sendable, CustomStringConvertible {
    case garbage(byteCount: Int)
    case badFraming
    case notHex
    case badChecksum(expected: UInt8, received: UInt8)

    public var description: String {
        switch self {
        case .garbage(let n): return "skipped \(n) byte(s) outside a frame"
        case .badFraming: return "frame without STX/ETX in place"
        case .notHex: return "frame has non-hex characters"
        case .badChecksum(let e, let r): return "bad checksum: expected \(hex(e)), received \(hex(r))"
        }
    }
}
