/// Decoder for serial readers that print the card number as an ASCII line.
public struct LineDecoder: Sendable {
    public struct Framing: Hashable, Sendable {
        public enum Terminator: String, Hashable, Sendable, CaseIterable {
            /// CR, LF or CRLF all end a line (the default; empty lines are skipped).
            case any, cr, lf, crlf
        }
        public var terminator: Terminator = .any
        public var prefix: String = ""
        public var suffix: String = ""
        public var maximumLength: Int = 64
        public init(terminator: Terminator = .any, prefix: String = "", suffix: String = "", maximumLength: Int = 64) {
            self.terminator = terminator; self.prefix = prefix; self.suffix = suffix; self.maximumLength = maximumLength
        }
    }

    public enum Output: Hashable, Sendable {
        case card(NormalizedCardNumber)
        case error(LineError)
    }

    public let framing: Framing
    private var line: [UInt8] = []
    private var overflowed = false
    private var lastWasCR = false

    public init(framing: Framing = Framing()) { self.framing = framing }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Output] {
        var out: [Output] = []
        for b in bytes {
            let ends: Bool
            switch framing.terminator {
            case .any: ends = b == 0x0D || b == 0x0A
            case .cr: ends = b == 0x0D
            case .lf: ends = b == 0x0A
            case .crlf: ends = b == 0x0A && lastWasCR
            }
            lastWasCR = b == 0x0D
            if ends {
                if let o = finishLine() { out.append(o) }
                continue
            }
            if framing.terminator == .crlf && b == 0x0D { continue }
            if line.count >= framing.maximumLength { overflowed = true; continue }
            line.append(b)
        }
        return out
    }

    public mutating func reset() { line.removeAll(); overflowed = false; lastWasCR = false }

    private mutating func finishLine() -> Output? {
        defer { line.removeAll(keepingCapacity: true); overflowed = false }
        if overflowed { return .error(.tooLong(framing.maximumLength)) }
        guard !line.isEmpty else { return nil }
        guard line.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else { return .error(.notPrintable) }
        var text = Substring(String(decoding: line, as: UTF8.self))
        if !framing.prefix.isEmpty {
            guard text.hasPrefix(framing.prefix) else { return .error(.missingPrefix) }
            text = text.dropFirst(framing.prefix.count)
        }
        if !framing.suffix.isEmpty {
            guard text.hasSuffix(framing.suffix) else { return .error(.missingSuffix) }
            text = text.dropLast(framing.suffix.count)
        }
        let trimmed = String(String(text).trimmingSpaces())
        guard !trimmed.isEmpty, trimmed.allSatisfy({ $0.isLetter || $0.isNumber }) else { return .error(.notACardNumber) }
        if ResidentIDNumber.looksLikeIDNumber(trimmed), (try? ResidentIDNumber(validating: trimmed)) == nil {
            return .error(.invalidIDNumber)
        }
        return .card(NormalizedCardNumber(trimmed))
    }
}

public enum LineError: Error, Hashable, Sendable, CustomStringConvertible {
    case tooLong(Int), notPrintable, missingPrefix, missingSuffix, notACardNumber, invalidIDNumber
    public var description: String {
        switch self {
        case .tooLong(let n): return "line longer than \(n) bytes"
        case .notPrintable: return "line has non-printable bytes"
        case .missingPrefix: return "line lacks the configured prefix"
        case .missingSuffix: return "line lacks the configured suffix"
        case .notACardNumber: return "line is not a card number"
        case .invalidIDNumber: return ResidentIDNumberError.badCheckCharacter.description
        }
    }
}
