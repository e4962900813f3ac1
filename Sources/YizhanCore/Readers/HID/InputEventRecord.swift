/// `struct input_event` from linux/input.h: a timeval (16 bytes on 64-bit Linux, 8 on
/// 32-bit with a 32-bit time_t), then `__u16 type`, `__u16 code`, `__s32 value`,
/// little-endian on the targets we run on. The adapter passes the platform's size.
public struct InputEventRecord: Hashable, Sendable {
    /// The 64-bit layout (also what the tests and the simulator write).
    public static let size = 24
    public static let evKey: UInt16 = 0x01

    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(type: UInt16, code: UInt16, value: Int32) {
        self.type = type; self.code = code; self.value = value
    }

    /// Decodes one record of any size ≥ 8: type, code and value are its last 8 bytes.
    public init(bytes: ArraySlice<UInt8>) {
        let b = Array(bytes)
        precondition(b.count >= 8)
        let o = b.count - 8
        type = UInt16(b[o]) | UInt16(b[o + 1]) << 8
        code = UInt16(b[o + 2]) | UInt16(b[o + 3]) << 8
        value = Int32(bitPattern: UInt32(b[o + 4]) | UInt32(b[o + 5]) << 8 | UInt32(b[o + 6]) << 16 | UInt32(b[o + 7]) << 24)
    }

    /// Encodes the record with a zero timestamp (readers of it use their own clock).
    public var bytes: [UInt8] {
        var b = [UInt8](repeating: 0, count: 16)
        b += [UInt8(type & 0xFF), UInt8(type >> 8), UInt8(code & 0xFF), UInt8(code >> 8)]
        let v = UInt32(bitPattern: value)
        b += [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        return b
    }
}

/// Splits a byte stream into whole `input_event` records; a partial record waits.
public struct InputEventRecordDecoder: Sendable {
    private var pending: [UInt8] = []
    public let recordSize: Int
    public init(recordSize: Int = InputEventRecord.size) { self.recordSize = max(8, recordSize) }

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [InputEventRecord] {
        pending.append(contentsOf: bytes)
        let whole = pending.count / recordSize * recordSize
        var out: [InputEventRecord] = []
        var i = 0
        while i < whole {
            out.append(InputEventRecord(bytes: pending[i..<(i + recordSize)]))
            i += recordSize
        }
        pending.removeFirst(whole)
        return out
    }
}
