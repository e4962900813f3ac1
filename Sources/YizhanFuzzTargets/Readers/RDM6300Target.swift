import YizhanCore

/// RDM6300 readers: the input is the serial byte stream.
///
/// Checks: the cards and frame errors are the same whether the bytes come at once, one at
/// a time or in random chunks (at one instant); every card is a tag of at most 32 bits,
/// ten digits, whose frame decodes back to it; and, fed in chunks with the clock running,
/// the same card is never reported twice within the repeat window unless another card
/// came between.
enum RDM6300Target {
    struct Outcome: Equatable {
        var cards: [String] = []
        var errors: [RDM6300Error] = []
        var garbageBytes = 0
    }

    static let window: Duration = .milliseconds(1500)

    static func decode(_ chunks: [ArraySlice<UInt8>], step: Duration) throws(InvariantViolation) -> Outcome {
        var decoder = RDM6300Decoder(repeatWindow: window)
        var o = Outcome()
        var now: Duration = .seconds(100)
        var lastCard: (number: String, at: Duration)?
        for chunk in chunks {
            let outputs = decoder.feed(chunk, now: now)
            try require(outputs.count <= chunk.count + 2 * RDM6300Decoder.frameLength, .rdm6300, "\(outputs.count) outputs for \(chunk.count) bytes")
            for output in outputs {
                switch output {
                case .card(let number):
                    if let last = lastCard, last.number == number.value {
                        try require(now - last.at >= window, .rdm6300, "card \(number.value) repeated inside the window")
                    }
                    lastCard = (number.value, now)
                    o.cards.append(number.value)
                case .error(.garbage(let n)):
                    try require(n > 0, .rdm6300, "garbage of \(n) bytes")
                    o.garbageBytes += n
                case .error(let e):
                    o.errors.append(e)
                }
            }
            now += step
        }
        return o
    }

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let whole = try decode([bytes[...]], step: .zero)
        let single = try decode(bytes.indices.map { bytes[$0...$0] }, step: .zero)
        let chunked = try decode(bytes.chunked(maximum: 20), step: .zero)
        for other in [single, chunked] {
            try require(other == whole, .rdm6300, "output depends on how the bytes were split")
        }
        for card in whole.cards {
            guard let tag = UInt32(card), card.count == 10 else {
                throw InvariantViolation(target: .rdm6300, message: "card \(card) is not a 10-digit 32-bit tag")
            }
            try require(RDM6300Decoder.decode(frame: RDM6300Decoder.encode(tag: tag)) == .success(tag), .rdm6300, "tag \(tag) does not re-encode")
        }
        // With time running: 0.5 s per chunk, so repeats fall both inside and outside the window.
        _ = try decode(bytes.chunked(maximum: 14), step: .milliseconds(500))
    }
}
