import YizhanCore

/// Plain line readers. The first byte picks the framing an operator could configure
/// (terminator, prefix, suffix, maximum length); the rest is the serial byte stream.
///
/// Checks: the output is the same whether the bytes come at once, one at a time or in
/// random chunks; at most one output per terminator byte; every card is printable,
/// alphanumeric ASCII (after normalization) without the configured prefix and suffix,
/// and an 18-character ID number among them passes its check character.
enum LineTarget {
    static let prefixes = ["", "ID:", "\u{02}", "CARD "]
    static let suffixes = ["", ";", "\u{03}", " OK"]

    static func framing(_ selector: UInt8) -> LineDecoder.Framing {
        let terminators = LineDecoder.Framing.Terminator.allCases
        return LineDecoder.Framing(
            terminator: terminators[Int(selector & 3)],
            prefix: prefixes[Int(selector >> 2 & 3)],
            suffix: suffixes[Int(selector >> 4 & 3)],
            maximumLength: selector & 0x40 == 0 ? 64 : 12)
    }

    static func decode(_ chunks: [ArraySlice<UInt8>], framing: LineDecoder.Framing) -> [LineDecoder.Output] {
        var decoder = LineDecoder(framing: framing)
        return chunks.flatMap { decoder.feed($0) }
    }

    static func run(_ input: [UInt8]) throws(InvariantViolation) {
        guard let selector = input.first else { return }
        let f = framing(selector)
        let bytes = Array(input.dropFirst())
        let whole = decode([bytes[...]], framing: f)
        try require(decode(bytes.indices.map { bytes[$0...$0] }, framing: f) == whole, .line, "output depends on byte-at-a-time feeding")
        try require(decode(bytes.chunked(maximum: 16), framing: f) == whole, .line, "output depends on how the bytes were split")
        let terminators = bytes.filter { $0 == 0x0A || $0 == 0x0D }.count
        try require(whole.count <= terminators, .line, "\(whole.count) outputs for \(terminators) terminator bytes")
        for case .card(let number) in whole {
            let value = number.value
            try require(!value.isEmpty && value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) },
                        .line, "card \(value.debugDescription) is not uppercase ASCII letters and digits")
            try require(value.count <= max(f.maximumLength, 10), .line, "card of \(value.count) characters")
            if ResidentIDNumber.looksLikeIDNumber(value) {
                try require((try? ResidentIDNumber(validating: value)) != nil, .line, "invalid ID number \(value) accepted")
            }
        }
    }
}
