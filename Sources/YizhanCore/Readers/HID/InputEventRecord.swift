/// `struct input_event` from linux/input.h on 64-bit Linux: a 16-byte timeval, then
/// `__u16 type`, `__u16 code`, `__s32 value` (24 bytes, little-endian on the targets we run on).
public struct InputEventRecord: Hashable, Sendable {
    public static let size = 24
    public static let evKey: UInt16 = 0x01

    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(type: UInt16, code: UInt16, value: Int32) {
        self.type = type; self.code = code; self.value = value
    }

    public init(bytes: ArraySlice<UInt8>) {
        let b = Array(bytes)
        precondition(b.count == Self.size)
        type = UInt16(b[16]) | UInt16(b[17]) << 8
        code = UInt16(b[18]) | UInt16(b[19]) << 8
        value = Int32(bitPattern: UInt32(b[20]) | UInt32(b[21]) << 8 | UInt32(b[22]) << 16 | UInt32(b[23]) << 24)
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
    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [InputEventRecord] {
        pending.append(contentsOf: bytes)
        let whole = pending.count / InputEventRecord.size * InputEventRecord.size
        var out: [InputEventRecord] = []
        var i = 0
        while i < whole {
            out.append(InputEventRecord(bytes: pending[i..<(i + InputEventRecord.size)]))
            i += InputEventRecord.size
        }
        pending.removeFirst(whole)
        return out
    }
}
