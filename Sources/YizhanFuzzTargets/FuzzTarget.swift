/// The libFuzzer targets of docs/fuzzing.md: one per decoder that a device or the network
/// feeds. Each takes arbitrary bytes, drives the real decoder with them and checks what
/// must hold for every input. The same functions run under libFuzzer (`make fuzz`, the
/// `yizhan-fuzz` executable) and over the committed corpora in `make test`
/// (Tests/FuzzRegressionTests).
///
/// Every target is time-bounded by construction: its loops run over the input, never
/// until a decoder "settles".
public enum FuzzTarget: String, CaseIterable, Sendable, CustomStringConvertible {
    case idcardFrame = "idcard-frame"
    case idcardSession = "idcard-session"
    case idcardText = "idcard-text"
    case rdm6300
    case line
    case hid
    case toml
    case ingestJSON = "ingest-json"
    case heartbeatJSON = "heartbeat-json"
    case rfc3339
    case gzip
    case form
    case cookie

    public var description: String { rawValue }

    /// What the target feeds and checks (printed by `yizhan-fuzz` for an unknown name).
    public var summary: String {
        switch self {
        case .idcardFrame: "GA 467 frame decoder: same frames however the bytes are split, every byte accounted for, bounded buffer"
        case .idcardSession: "GA 467 reader session driven by a script of reader bytes and clock ticks: request order, bounded actions, one visit per presentation"
        case .idcardText: "the 256-byte ID card text block: names without NUL, numbers that validate"
        case .rdm6300: "RDM6300 decoder: split-independent, tags that re-encode, repeats suppressed inside the window"
        case .line: "line reader decoder under every framing: split-independent, printable alphanumeric card numbers"
        case .hid: "input_event records and the keyboard-wedge burst assembler"
        case .toml: "configuration files: TOMLDocument, sections and every accessor; lines in range, CRLF the same as LF"
        case .ingestJSON: "an ingest body: JSONDecoder, EventBatch, IngestValidation; figures within IngestLimits, the hand-written encoder round-trips"
        case .heartbeatJSON: "a heartbeat body: JSONDecoder, Heartbeat, IngestValidation; figures within IngestLimits"
        case .rfc3339: "RFC 3339 parsing, lenient and strict: strict implies lenient, parse-format-parse round-trips"
        case .gzip: "gzip bodies: inflate bounded by its limit, the trailer check on any bytes and on real members"
        case .form: "login and manager forms through Hummingbird's URLEncodedFormDecoder and the password rules"
        case .cookie: "Cookie headers through Hummingbird's Cookies: names found are the names asked for"
        }
    }

    /// Feeds `bytes` to the target; throws when an invariant does not hold. A decoder that
    /// traps (an index out of range, an overflow) crashes the process, which is a finding too.
    public func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        switch self {
        case .idcardFrame: try IDCardFrameTarget.run(bytes)
        case .idcardSession: try IDCardSessionTarget.run(bytes)
        case .idcardText: try IDCardTextTarget.run(bytes)
        case .rdm6300: try RDM6300Target.run(bytes)
        case .line: try LineTarget.run(bytes)
        case .hid: try HIDTarget.run(bytes)
        case .toml: try TOMLTarget.run(bytes)
        case .ingestJSON: try IngestJSONTarget.run(bytes)
        case .heartbeatJSON: try HeartbeatJSONTarget.run(bytes)
        case .rfc3339: try RFC3339Target.run(bytes)
        case .gzip: try GzipTarget.run(bytes)
        case .form: try FormTarget.run(bytes)
        case .cookie: try CookieTarget.run(bytes)
        }
    }
}

/// An invariant that did not hold for an input: the fuzzer aborts with it, the regression
/// test records it.
public struct InvariantViolation: Error, CustomStringConvertible, Sendable {
    public var target: FuzzTarget
    public var message: String
    public var description: String { "\(target): invariant violated: \(message)" }
}

/// Throws an `InvariantViolation` when `condition` is false.
@inline(__always)
func require(_ condition: Bool, _ target: FuzzTarget, _ message: @autoclosure () -> String) throws(InvariantViolation) {
    if !condition { throw InvariantViolation(target: target, message: message()) }
}

/// Reads a fuzz input as a little program: op bytes and their operands. Running off the
/// end yields nil/empty, never a trap, so any input is a valid script.
struct ByteScript {
    let bytes: [UInt8]
    private(set) var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { position >= bytes.count }

    mutating func next() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    /// Up to `count` bytes (fewer at the end).
    mutating func take(_ count: Int) -> ArraySlice<UInt8> {
        let end = min(bytes.count, position + max(0, count))
        defer { position = end }
        return bytes[position..<end]
    }
}

/// Deterministic chunk sizes for split-independence checks (1...maximum), from a tiny
/// xorshift seeded by the input: the same input always splits the same way.
struct ChunkSizes {
    private var state: UInt32

    init(seed: [UInt8]) {
        var h: UInt32 = 2_166_136_261
        for b in seed.prefix(64) { h = (h ^ UInt32(b)) &* 16_777_619 }
        state = h | 1
    }

    mutating func next(maximum: Int) -> Int {
        state ^= state << 13
        state ^= state >> 17
        state ^= state << 5
        return Int(state % UInt32(max(1, maximum))) + 1
    }
}

extension Array where Element == UInt8 {
    /// Splits into chunks of pseudo-random sizes in 1...maximum.
    func chunked(maximum: Int) -> [ArraySlice<UInt8>] {
        var sizes = ChunkSizes(seed: self)
        var out: [ArraySlice<UInt8>] = []
        var i = 0
        while i < count {
            let end = Swift.min(count, i + sizes.next(maximum: maximum))
            out.append(self[i..<end])
            i = end
        }
        return out
    }
}
