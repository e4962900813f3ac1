import YizhanCore

/// RFC 3339 times: `parseStrict` (what stations send) and `parse` (what people type to
/// `yizhanctl --since` and the office's query strings), on the input as UTF-8 text.
///
/// Checks: whatever `parseStrict` accepts, `parse` accepts with the same instant; a parsed
/// instant printed by `format` (UTC and +08:00) reads back as the same instant, strictly
/// and leniently, whenever its year has four digits; an offset's description parses back.
enum RFC3339Target {
    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        let strict = RFC3339.parseStrict(text)
        let lenientChina = RFC3339.parse(text, defaultOffset: .china)
        let lenientUTC = RFC3339.parse(text, defaultOffset: .utc)
        if let strict {
            try require(lenientChina == strict && lenientUTC == strict, .rfc3339,
                        "\(text.debugDescription): strict \(strict), lenient \(String(describing: lenientChina))")
        }
        for t in [strict, lenientChina, lenientUTC].compactMap({ $0 }) {
            for offset in [UTCOffset.utc, .china] {
                let year = CivilTime(t, offset: offset).year
                let printed = RFC3339.format(t, offset: offset)
                guard (0...9999).contains(year) else { continue }
                try require(RFC3339.parse(printed, defaultOffset: .utc) == t, .rfc3339, "\(printed) (from \(text.debugDescription)) does not read back")
                if year >= 1970 {
                    try require(RFC3339.parseStrict(printed) == t, .rfc3339, "\(printed) (from \(text.debugDescription)) does not read back strictly")
                }
            }
        }
        // The offset alone, as UTCOffset reads it.
        if let offset = UTCOffset(parsing: text) {
            try require(UTCOffset(parsing: offset.description) == offset, .rfc3339, "offset \(offset) does not read back")
        }
    }
}
