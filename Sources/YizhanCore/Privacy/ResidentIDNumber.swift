/// The 18-character number of a second-generation resident ID card (and of the residence
/// permits that share its format), validated with its ISO 7064 MOD 11-2 check character.
public struct ResidentIDNumber: Hashable, Sendable {
    /// Uppercase, 17 digits and a check character (digit or `X`).
    public let value: String

    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checkCharacters: [Character] = Array("10X98765432")

    /// The check character for 17 leading digits.
    public static func checkCharacter(forDigits digits: some Collection<Character>) -> Character? {
        guard digits.count == 17 else { return nil }
        var sum = 0
        for (i, c) in digits.enumerated() {
            guard let d = c.wholeNumberValue, c.isASCII else { return nil }
            sum += d * weights[i]
        }
        return checkCharacters[sum % 11]
    }

    public init(validating text: some StringProtocol) throws(ResidentIDNumberError) {
        let upper = String(text).uppercased()
        guard upper.count == 18 else { throw .wrongLength(upper.count) }
        let chars = Array(upper)
        guard let expected = Self.checkCharacter(forDigits: chars[0..<17]) else { throw .notDigits }
        guard chars[17] == expected else { throw .badCheckCharacter }
        self.value = upper
    }

    /// True for 18-character strings that look like an ID number: 17 digits and a digit or X.
    public static func looksLikeIDNumber(_ text: String) -> Bool {
        let chars = Array(text.uppercased())
        return chars.count == 18 && chars[0..<17].allSatisfy { $0.isASCII && $0.isNumber }
            && (chars[17] == "X" || (chars[17].isASCII && chars[17].isNumber))
    }
}

public enum ResidentIDNumberError: Error, Hashable, Sendable, CustomStringConvertible {
    case wrongLength(Int)
    case notDigits
    case badCheckCharacter

    public var description: String {
        switch self {
        case .wrongLength(let n): return "ID number has \(n) characters, expected 18"
        case .notDigits: return "ID number has a non-digit among its first 17 characters"
        case .badCheckCharacter: return "ID number fails its check character (ISO 7064 MOD 11-2)"
        }
    }
}
