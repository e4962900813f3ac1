/// Host → reader commands of GA 467 chapter 7 that a check-in terminal needs.
public enum IDCardCommand: Hashable, Sendable, CaseIterable, CustomStringConvertible {
    case samStatus, findCard, selectCard, readText

    public var commandBytes: (UInt8, UInt8) {
        switch self {
        case .samStatus: return (0x11, 0xFF)
        case .findCard: return (0x20, 0x01)
        case .selectCard: return (0x20, 0x02)
        case .readText: return (0x30, 0x01)
        }
    }

    /// The whole request frame, e.g. `AA AA AA 96 69 00 03 20 01 22` for find card.
    public var frame: [UInt8] {
        let (cmd, para) = commandBytes
        return GA467Frame.encode(body: [cmd, para])
    }

    /// Recognises a decoded request body (used by the simulated reader).
    public init?(body: [UInt8]) {
        guard body.count >= 2,
              let c = Self.allCases.first(where: { $0.commandBytes == (body[0], body[1]) })
        else { return nil }
        self = c
    }

    public var description: String {
        switch self {
        case .samStatus: return "SAM status"
        case .findCard: return "find card"
        case .selectCard: return "select card"
        case .readText: return "read text"
        }
    }
}

/// SW3 of a reader response.
public struct IDCardStatus: Hashable, Sendable, CustomStringConvertible {
    public var code: UInt8
    public init(_ code: UInt8) { self.code = code }

    public static let success = IDCardStatus(0x90)
    public static let cardPresent = IDCardStatus(0x9F)
    public static let noCard = IDCardStatus(0x80)
    public static let selectFailed = IDCardStatus(0x81)
    public static let readFailed = IDCardStatus(0x41)
    public static let checksumError = IDCardStatus(0x10)
    public static let lengthError = IDCardStatus(0x11)
    public static let unknownCommand = IDCardStatus(0x21)
    public static let notAuthorised = IDCardStatus(0x23)
    public static let samSelfTestFailed = IDCardStatus(0x60)
    public static let samNotAuthorised = IDCardStatus(0x66)

    public var description: String {
        let meaning: String
        switch code {
        case 0x90: meaning = "success"
        case 0x9F: meaning = "card present"
        case 0x80: meaning = "no card"
        case 0x81: meaning = "select failed"
        case 0x41: meaning = "read failed"
        case 0x10: meaning = "checksum error"
        case 0x11: meaning = "length error"
        case 0x21: meaning = "unknown command"
        case 0x23: meaning = "not authorised"
        case 0x31, 0x32, 0x33: meaning = "authentication failed"
        case 0x60: meaning = "SAM self-test failed"
        case 0x66: meaning = "SAM not authorised"
        default: meaning = "unknown status"
        }
        return "\(meaning) (SW3 \(hex(code)))"
    }
}

/// Reader → host answer: `SW1 SW2 SW3 [data]`.
public struct IDCardResponse: Hashable, Sendable {
    public var sw1: UInt8, sw2: UInt8
    public var status: IDCardStatus
    public var data: [UInt8]

    public init(status: IDCardStatus, data: [UInt8] = [], sw1: UInt8 = 0, sw2: UInt8 = 0) {
        self.sw1 = sw1; self.sw2 = sw2; self.status = status; self.data = data
    }

    public init?(body: [UInt8]) {
        guard body.count >= 3 else { return nil }
        self.init(status: IDCardStatus(body[2]), data: Array(body[3...]), sw1: body[0], sw2: body[1])
    }

    public var frame: [UInt8] { GA467Frame.encode(body: [sw1, sw2, status.code] + data) }

    /// True when SW1 = SW2 = 00 and SW3 is `code`.
    public func isStatus(_ s: IDCardStatus) -> Bool { sw1 == 0 && sw2 == 0 && status == s }
}

/// The data of a successful "read text + photo" answer: text length, photo length, text,
/// photo. Only the 256-byte text block is kept; the photo bytes are dropped here.
public enum IDCardReadData {
    public static func textBlock(from data: [UInt8]) throws(IDCardTextError) -> [UInt8] {
        guard data.count >= 4 else { throw .truncated(data.count) }
        let textLength = Int(data[0]) << 8 | Int(data[1])
        let photoLength = Int(data[2]) << 8 | Int(data[3])
        guard textLength == 256 else { throw .unexpectedTextLength(textLength) }
        guard data.count >= 4 + textLength + photoLength else { throw .truncated(data.count) }
        return Array(data[4..<(4 + textLength)])
    }

    /// Builds read data for a text block and a photo of `photoLength` filler bytes
    /// (used by the simulated reader).
    public static func encode(textBlock: [UInt8], photoLength: Int = 1024) -> [UInt8] {
        [UInt8(textBlock.count >> 8), UInt8(textBlock.count & 0xFF), UInt8(photoLength >> 8), UInt8(photoLength & 0xFF)]
            + textBlock + [UInt8](repeating: 0x57, count: photoLength)
    }
}
