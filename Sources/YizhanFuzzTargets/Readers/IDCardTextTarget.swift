import YizhanCore

/// The 256-byte text block of a read (resident ID card, residence permits, the foreigner's
/// card): the input, cut or padded with UTF-16 spaces to 256 bytes, decoded as the driver
/// does (IDCardText → validated number → masked name). The raw input also goes through
/// `IDCardReadData.textBlock`, the step before it.
///
/// Checks: names carry no NUL; a number that validates is 18 characters passing the
/// MOD 11-2 check (or 3 letters and 12 digits for the 2017 foreigner's card); its hint
/// and masked name never reveal more than they should.
enum IDCardTextTarget {
    /// What ReaderDrivers.swift does with `.cardRead`; nil for a bad read.
    static func decodeLikeTheDriver(_ block: [UInt8]) -> (NormalizedCardNumber, String)? {
        guard let text = try? IDCardText(block: block), let number = try? text.validatedNumber() else { return nil }
        return (number, maskedName(text.name))
    }

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        if let block = try? IDCardReadData.textBlock(from: bytes) {
            try require(block.count == 256, .idcardText, "textBlock returned \(block.count) bytes")
        }
        var block = Array(bytes.prefix(256))
        while block.count < 256 { block += [0x20, 0x00] }
        block = Array(block.prefix(256))

        guard let text = try? IDCardText(block: block) else { return }
        try require(!text.name.contains("\0") && !text.number.contains("\0"), .idcardText, "NUL in a decoded field")
        let masked = maskedName(text.name)
        try require(masked.isEmpty || masked.dropFirst().allSatisfy { $0 == "*" }, .idcardText, "masked name shows more than one character")
        guard let number = try? text.validatedNumber() else { return }
        let value = Array(number.value)
        switch text.layout {
        case .residentID:
            try require(value.count == 18, .idcardText, "a validated ID number of \(value.count) characters")
            try require((try? ResidentIDNumber(validating: number.value)) != nil, .idcardText, "a validated ID number fails validation")
            try require(number.hint.filter { $0 == "*" }.count == 10, .idcardText, "hint \(number.hint) does not mask 10 characters")
        case .foreignPermanentResident2017:
            try require(value.count == 15 && value[0..<3].allSatisfy { $0.isASCII && $0.isLetter }
                        && value[3...].allSatisfy { $0.isASCII && $0.isNumber }, .idcardText, "foreigner's card number \(number.value)")
        }
        try require(NormalizedCardNumber(number.value) == number, .idcardText, "normalizing twice changes \(number.value)")
    }
}
