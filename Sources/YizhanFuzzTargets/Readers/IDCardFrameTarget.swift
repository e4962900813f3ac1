import YizhanCore

/// GA 467 frames as the serial line delivers them: the input is the byte stream.
///
/// Checks, for any bytes:
/// - the decoded frames and the corrupt-frame errors are the same whether the bytes come
///   all at once, one at a time or in random chunks (a serial read splits anywhere);
/// - every byte is accounted for: skipped as garbage, the first byte of a rejected frame,
///   part of a decoded frame, or still pending;
/// - what stays buffered is less than one largest frame (the decoder cannot grow without bound);
/// - every body re-encodes to the frame it came from.
enum IDCardFrameTarget {
    struct Outcome: Equatable {
        var bodies: [[UInt8]] = []
        var frameErrors: [GA467FrameError] = []
        var garbageBytes = 0
        var pending = 0
    }

    static func decode(_ chunks: [ArraySlice<UInt8>]) throws(InvariantViolation) -> Outcome {
        var decoder = GA467FrameDecoder()
        var o = Outcome()
        for chunk in chunks {
            decoder.append(chunk)
            // Each call consumes at least one byte or returns nil: at most one result per byte, plus the final nil.
            var calls = 0
            while let result = decoder.next() {
                calls += 1
                try require(calls <= chunk.count + GA467Frame.maximumLength + 8, .idcardFrame, "next() does not make progress")
                switch result {
                case .success(let body): o.bodies.append(body)
                case .failure(.garbage(let n)):
                    try require(n > 0, .idcardFrame, "garbage of \(n) bytes reported")
                    o.garbageBytes += n
                case .failure(let e): o.frameErrors.append(e)
                }
            }
            try require(decoder.pendingByteCount < 7 + GA467Frame.maximumLength, .idcardFrame,
                        "\(decoder.pendingByteCount) bytes pending, more than a whole frame")
        }
        o.pending = decoder.pendingByteCount
        return o
    }

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let whole = try decode([bytes[...]])
        let single = try decode(bytes.indices.map { bytes[$0...$0] })
        let chunked = try decode(bytes.chunked(maximum: 40))
        for other in [single, chunked] {
            try require(other.bodies == whole.bodies, .idcardFrame, "frames depend on how the bytes were split")
            try require(other.frameErrors == whole.frameErrors, .idcardFrame, "frame errors depend on how the bytes were split")
            try require(other.garbageBytes == whole.garbageBytes && other.pending == whole.pending, .idcardFrame,
                        "garbage/pending depend on how the bytes were split")
        }
        let accounted = whole.garbageBytes + whole.frameErrors.count + whole.bodies.reduce(0) { $0 + $1.count + 8 } + whole.pending
        try require(accounted == bytes.count, .idcardFrame, "\(accounted) bytes accounted for, \(bytes.count) fed")
        for body in whole.bodies {
            try require((2..<GA467Frame.maximumLength).contains(body.count), .idcardFrame, "body of \(body.count) bytes")
            var again = GA467FrameDecoder()
            again.append(GA467Frame.encode(body: body))
            try require(again.next() == .success(body) && again.next() == nil, .idcardFrame, "a decoded body does not re-encode")
            // What the driver does next with a body: never a trap.
            if let response = IDCardResponse(body: body) {
                _ = response.isStatus(.success)
                _ = try? IDCardReadData.textBlock(from: response.data)
            }
        }
    }
}
