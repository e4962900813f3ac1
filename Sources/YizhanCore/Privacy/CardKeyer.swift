// SymmetricKey is an immutable value; Crypto has not annotated it Sendable yet.
@preconcurrency import Crypto

/// A pseudonymous, stable key for a card: HMAC-SHA256 under the region key, in hex.
/// The stations of one office share the region key, so the office counts unique workers
/// across stations without learning who they are; without the key the number cannot be
/// recovered by hashing all 10^17 candidate ID numbers.
public struct CardKey: Hashable, Sendable, Codable, CustomStringConvertible {
    public let hex: String
    public init(hex: String) { self.hex = hex }
    public var description: String { hex }
}

/// Turns raw card numbers into card keys and masked hints. The raw number lives only in
/// memory for the duration of this call.
public struct CardKeyer: Sendable {
    private let key: SymmetricKey

    /// `regionKey` must be at least 16 bytes of secret material.
    public init(regionKey: [UInt8]) throws(CardKeyerError) {
        guard regionKey.count >= 16 else { throw CardKeyerError.regionKeyTooShort(regionKey.count) }
        self.key = SymmetricKey(data: regionKey)
    }

    public func key(for number: NormalizedCardNumber) -> CardKey {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(number.value.utf8), using: key)
        return CardKey(hex: Hex.encode(mac))
    }
}

public enum CardKeyerError: Error, Hashable, Sendable, CustomStringConvertible {
    case regionKeyTooShort(Int)
    public var description: String {
        switch self {
        case .regionKeyTooShort(let n):
            return "region key has \(n) bytes, need at least 16 (generate one with: head -c 32 /dev/urandom > region.key)"
        }
    }
}
