/// The 256-byte text block of a resident ID card (UTF-16LE, fields padded with spaces),
/// reduced to what a check-in needs: the card number and a name to mask. Nothing here is
/// stored; the caller turns it into a card key and a masked name at once.
public struct IDCardText: Sendable {
    public enum Layout: Hashable, Sendable {
        /// Resident ID card, and the Hong Kong / Macau / Taiwan residence permit (type `J`),
        /// both with an 18-character number at offset 122.
        case residentID
        /// Foreigner's permanent residence card of 2017 (type `I`): a 15-character number.
        case foreignPermanentResident2017
    }

    public let layout: Layout
    /// Display name as printed on the card (Chinese name, or the English name for `I` cards).
    public let name: String
    /// The card number, not yet validated.
    public let number: String

    public init(block: [UInt8]) throws(IDCardTextError) {
        guard block.count == 256 else { throw .unexpectedTextLength(block.count) }
        func field(_ offset: Int, _ length: Int) throws(IDCardTextError) -> String {
            var units: [UInt16] = []
            var i = offset
            while i + 1 < offset + length {
                units.append(UInt16(block[i]) | UInt16(block[i + 1]) << 8)
                i += 2
            }
            var decoded = ""
            var iterator = units.makeIterator()
            var utf16 = Unicode.UTF16()
            decoding: while true {
                switch utf16.decode(&iterator) {
                case .scalarValue(let scalar): decoded.unicodeScalars.append(scalar)
                case .emptyInput: break decoding
                case .error: throw .invalidText
                }
            }
            return String(decoded.trimmingSpaces().filter { $0 != "\0" })
        }
        let type = try field(248, 2)
        if type == "I" {
            layout = .foreignPermanentResident2017
            name = try field(158, 30).isEmpty ? try field(0, 120) : try field(158, 30)
            number = try field(122, 30)
        } else {
            layout = .residentID
            name = try field(0, 30)
            number = try field(122, 36)
        }
    }

    /// Validates the number for this layout: MOD 11-2 for 18-character numbers, three
    /// letters and twelve digits for the 2017 foreigner card.
    public func validatedNumber() throws(IDCardTextError) -> NormalizedCardNumber {
        switch layout {
        case .residentID:
            do {
                return NormalizedCardNumber(try ResidentIDNumber(validating: number).value)
            } catch {
                throw .invalidNumber(error)
            }
        case .foreignPermanentResident2017:
            let chars = Array(number.uppercased())
            guard chars.count == 15, chars[0..<3].allSatisfy({ $0.isASCII && $0.isLetter }),
                  chars[3...].allSatisfy({ $0.isASCII && $0.isNumber })
            else { throw .invalidNumber(.wrongLength(chars.count)) }
            return NormalizedCardNumber(String(chars))
        }
    }

    /// Builds a resident-ID text block (for the simulated reader and the tests).
    public static func encodeResidentID(
        name: String, number: String, gender: String = "1", ethnicity: String = "01",
        birthDate: String = "19900307", address: String = "浙江省舟山市普陀区沈家门街道",
        authority: String = "舟山市公安局普陀分局", validFrom: String = "20200101", validTo: String = "20400101",
        cardType: String = " "
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 256)
        func put(_ text: String, _ offset: Int, _ length: Int) {
            var units = Array(text.utf16)
            while units.count * 2 < length { units.append(0x20) }
            for (i, u) in units.prefix(length / 2).enumerated() {
                block[offset + 2 * i] = UInt8(u & 0xFF)
                block[offset + 2 * i + 1] = UInt8(u >> 8)
            }
        }
        put(name, 0, 30); put(gender, 30, 2); put(ethnicity, 32, 4); put(birthDate, 36, 16)
        put(address, 52, 70); put(number, 122, 36); put(authority, 158, 30)
        put(validFrom, 188, 16); put(validTo, 204, 16); put("", 220, 28); put(cardType, 248, 2); put("", 250, 6)
        return block
    }
}

public enum IDCardTextError: Error, Hashable, Sendable, CustomStringConvertible {
    case truncated(Int)
    case unexpectedTextLength(Int)
    case invalidText
    case invalidNumber(ResidentIDNumberError)

    public var description: String {
        switch self {
        case .truncated(let n): return "read data truncated at \(n) bytes"
        case .unexpectedTextLength(let n): return "text block of \(n) bytes, expected 256"
        case .invalidText: return "text block is not valid UTF-16"
        case .invalidNumber(let e): return e.description
        }
    }
}
