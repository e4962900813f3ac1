/// Assembles key presses from a keyboard-wedge reader into card numbers: digits (and `X`
/// for ID numbers) followed by Enter within `window`. Anything else is garbage and comes
/// out as a bad read, never as a card.
public struct HIDKeyAssembler: Sendable {
    public enum Output: Hashable, Sendable {
        case card(NormalizedCardNumber)
        case error(HIDBurstError)
    }

    public var window: Duration
    public var lengthRange: ClosedRange<Int>
    private var burst: [Character] = []
    private var burstStart: Duration?
    private var invalidKeys = 0

    public init(window: Duration = .milliseconds(500), lengthRange: ClosedRange<Int> = 4...20) {
        self.window = window
        self.lengthRange = lengthRange
    }

    // Linux input-event-codes.h
    static let enterKeys: Set<UInt16> = [28, 96]
    static let shiftKeys: Set<UInt16> = [42, 54]
    static let keyX: UInt16 = 45

    static func character(for code: UInt16) -> Character? {
        switch code {
        case 2...10: return Character(String(code - 1))  // KEY_1..KEY_9
        case 11: return "0"
        case 71: return "7"
        case 72: return "8"
        case 73: return "9"
        case 75: return "4"
        case 76: return "5"
        case 77: return "6"
        case 79: return "1"
        case 80: return "2"
        case 81: return "3"
        case 82: return "0"
        case keyX: return "X"
        default: return nil
        }
    }

    /// Evdev key codes for a card number followed by Enter (simulated reader, tests).
    public static func keyCodes(for number: String) -> [UInt16] {
        var codes: [UInt16] = []
        for c in number.uppercased() {
            switch c {
            case "0": codes.append(11)
            case "1"..."9": codes.append(UInt16(c.wholeNumberValue!) + 1)
            case "X": codes.append(keyX)
            default: codes.append(30)  // KEY_A: garbage on purpose
            }
        }
        return codes + [28]
    }

    /// A key event (`EV_KEY`). Only key-down (`value == 1`) counts.
    public mutating func key(code: UInt16, value: Int32, now: Duration) -> [Output] {
        guard value == 1 else { return [] }
        var out = expire(now: now)
        if Self.shiftKeys.contains(code) { return out }
        if Self.enterKeys.contains(code) {
            if let o = finish() { out.append(o) }
            return out
        }
        if burstStart == nil { burstStart = now }
        if let c = Self.character(for: code) {
            burst.append(c)
        } else {
            invalidKeys += 1
        }
        return out
    }

    /// Clock tick: a burst older than the window without Enter is garbage.
    public mutating func tick(now: Duration) -> [Output] { expire(now: now) }

    public var hasPartialBurst: Bool { burstStart != nil }

    private mutating func expire(now: Duration) -> [Output] {
        guard let start = burstStart, now - start > window else { return [] }
        let count = burst.count + invalidKeys
        clear()
        return [.error(.incomplete(keyCount: count))]
    }

    private mutating func finish() -> Output? {
        defer { clear() }
        guard burstStart != nil else { return nil }  // a lone Enter: ignore
        if invalidKeys > 0 { return .error(.unexpectedKeys(count: invalidKeys)) }
        let text = String(burst)
        guard lengthRange.contains(text.count) else { return .error(.badLength(text.count)) }
        if text.contains("X") && !(text.count == 18 && text.last == "X" && text.dropLast().allSatisfy(\.isNumber)) {
            return .error(.unexpectedKeys(count: 1))
        }
        if ResidentIDNumber.looksLikeIDNumber(text), (try? ResidentIDNumber(validating: text)) == nil {
            return .error(.invalidIDNumber)
        }
        return .card(NormalizedCardNumber(text))
    }

    private mutating func clear() {
        burst.removeAll(keepingCapacity: true)
        burstStart = nil
        invalidKeys = 0
    }
}

public enum HIDBurstError: Error, Hashable, Sendable, CustomStringConvertible {
    case incomplete(keyCount: Int), unexpectedKeys(count: Int), badLength(Int), invalidIDNumber
    public var description: String {
        switch self {
        case .incomplete(let n): return "burst of \(n) key(s) without Enter in time"
        case .unexpectedKeys(let n): return "burst with \(n) key(s) that are not digits or X"
        case .badLength(let n): return "burst of \(n) characters is not a card number"
        case .invalidIDNumber: return ResidentIDNumberError.badCheckCharacter.description
        }
    }
}
