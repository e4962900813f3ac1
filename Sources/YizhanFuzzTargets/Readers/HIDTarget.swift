import YizhanCore

/// Keyboard-wedge readers through evdev: the input is a stream of 24-byte `input_event`
/// records. The driver stamps keys with its own clock; here a record's first two bytes
/// (the low bytes of `tv_sec`) advance the clock by that many milliseconds, and the driver
/// ticks after each record.
///
/// Checks: records come out the same however the bytes are split, one per whole 24 bytes;
/// a key gives at most two outputs (an expired burst and a finished one); cards are 4 to 20
/// digits, or 18 characters ending in X that pass the check character; no more cards
/// than Enter key presses.
enum HIDTarget {
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        var whole = InputEventRecordDecoder()
        let records = whole.feed(bytes)
        try require(records.count == bytes.count / InputEventRecord.size, .hid, "\(records.count) records from \(bytes.count) bytes")
        var split = InputEventRecordDecoder()
        let again = bytes.chunked(maximum: 50).flatMap { split.feed($0) }
        try require(again == records, .hid, "records depend on how the bytes were split")
        // The 32-bit layout (16-byte records) must not trap either.
        var small = InputEventRecordDecoder(recordSize: 16)
        _ = small.feed(bytes)

        var assembler = HIDKeyAssembler()
        var now: Duration = .seconds(1)
        var enters = 0
        var cards = 0
        for (i, r) in records.enumerated() {
            let o = i * InputEventRecord.size
            now += .milliseconds(Int(bytes[o]) | Int(bytes[o + 1]) << 8)
            var outputs: [HIDKeyAssembler.Output] = []
            if r.type == InputEventRecord.evKey {
                if r.value == 1 && (r.code == 28 || r.code == 96) { enters += 1 }
                outputs = assembler.key(code: r.code, value: r.value, now: now)
                try require(outputs.count <= 2, .hid, "\(outputs.count) outputs for one key")
            }
            let ticked = assembler.tick(now: now)
            try require(ticked.count <= 1, .hid, "\(ticked.count) outputs for one tick")
            for case .card(let number) in outputs + ticked {
                cards += 1
                let value = Array(number.value)
                try require((4...20).contains(value.count) || value.count == 10, .hid, "card of \(value.count) characters")
                let digits = value.allSatisfy { $0.isASCII && $0.isNumber }
                let idNumber = value.count == 18 && value.last == "X" && value.dropLast().allSatisfy { $0.isASCII && $0.isNumber }
                try require(digits || idNumber, .hid, "card \(number.value) is not digits or an ID number")
                if value.count == 18 {
                    try require((try? ResidentIDNumber(validating: number.value)) != nil, .hid, "invalid ID number \(number.value) accepted")
                }
            }
        }
        try require(cards <= enters, .hid, "\(cards) cards from \(enters) Enter presses")
    }
}
