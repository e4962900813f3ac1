/// A card number in the one form every reader type agrees on, so the same card gives the
/// same card key at an RDM6300 and at a keyboard-wedge reader:
/// - resident ID numbers: 18 characters, uppercase `X`;
/// - numeric RFID numbers of up to 10 digits: zero-padded to 10 (the number printed on
///   EM4100 cards is the 32-bit tag in decimal, zero-padded);
/// - anything else: uppercase, without spaces.
public struct NormalizedCardNumber: Hashable, Sendable {
    public let value: String

    public init(_ raw: some StringProtocol) {
        var s = String(raw).uppercased()
        s.removeAll { $0 == " " || $0 == "-" || $0 == ":" }
        if !s.isEmpty, s.count < 10, s.allSatisfy({ $0.isASCII && $0.isNumber }) {
            s = String(repeating: "0", count: 10 - s.count) + s
        }
        self.value = s
    }

    /// A hint for the manager that identifies nobody: `3301**********123X` for an ID
    /// number, `******5678` for a 10-digit card.
    public var hint: String {
        let chars = Array(value)
        if chars.count == 18 {
            return String(chars[0..<4]) + String(repeating: "*", count: 10) + String(chars[14...])
        }
        if chars.count <= 4 { return String(repeating: "*", count: chars.count) }
        return String(repeating: "*", count: chars.count - 4) + String(chars[(chars.count - 4)...])
    }
}

/// Masks a name for display (`张三` → `张*`, `欧阳娜娜` → `欧***`). Names are never stored.
public func maskedName(_ name: String) -> String {
    let trimmed = name.trimmingSpaces()
    guard let first = trimmed.first else { return "" }
    return String(first) + String(repeating: "*", count: max(1, trimmed.count - 1))
}
