import TOMLKit
import YizhanCore
import YizhanTOML

/// Configuration files: the input as UTF-8 text through `TOMLDocument` (TOMLKit and
/// toml++ underneath) and then every accessor the station's and the collector's loaders
/// use, on every table, array-of-tables element and key, the way StationConfiguration and
/// CollectorConfiguration call them. (Those two live in the daemon and collector modules,
/// which are too large to instrument for every fuzz build; the regression test runs this
/// corpus through both of them as well.)
///
/// Checks: every error names a line that exists in the file; a file written with CRLF
/// line ends parses the same and locates every key on the same line as with LF.
public enum TOMLTarget {
    /// Probed per table and per array, so that the work stays linear in the input.
    static let maximumKeys = 24
    static let maximumElements = 8

    struct Probe: Hashable {
        var table: String
        var index: Int?
        var key: String?
    }

    static func run(_ bytes: [UInt8]) throws(InvariantViolation) {
        let text = String(decoding: bytes, as: UTF8.self)
        if hitsKnownTOMLPlusPlusAssertion(text) { return }
        let lineCount = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        let parsed = try load(text, lineCount: lineCount)

        // TOML line ends are LF or CRLF: both spellings of a file must mean the same, and
        // errors must point at the same lines.
        // Only where every CR ends a line: dropping the CR of "\r\r\n" would make a new CRLF.
        let utf8 = Array(text.utf8)
        guard utf8.contains(0x0D), utf8.indices.allSatisfy({ utf8[$0] != 0x0D || ($0 + 1 < utf8.count && utf8[$0 + 1] == 0x0A) }) else { return }
        let lf = text.split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n")
        guard lf != text else { return }
        let other = try load(lf, lineCount: lf.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) })
        switch (parsed, other) {
        case (.success(let a), .success(let b)):
            try require(a == b, .toml, "keys are located on other lines with CRLF than with LF: \(diff(a, b))")
        case (.failure(let a), .failure(let b)):
            try require(a.line == b.line, .toml, "a syntax error is on line \(a.line ?? 0) with CRLF, \(b.line ?? 0) with LF")
        case (.success, .failure(let e)):
            throw InvariantViolation(target: .toml, message: "parses with CRLF, not with LF: \(e)")
        case (.failure(let e), .success):
            throw InvariantViolation(target: .toml, message: "parses with LF, not with CRLF: \(e)")
        }
    }

    /// toml++ 3.4.0 (inside TOMLKit 0.6.0) asserts, and in release builds assumes
    /// (`__builtin_assume`: undefined behaviour when false), things about its input that a
    /// malformed file breaks. A debug build aborts on them, so inputs that could reach the
    /// ones found so far are skipped, by this target and by the regression test, until
    /// TOMLKit ships a fixed toml++; docs/fuzzing.md has the reproducers:
    /// - a table header whose name starts with a character that cannot start a key:
    ///   `[,a]`, `[[=`, `[[[x]]]`, `[` alone (parse_key; marzer/tomlplusplus#301, fixed upstream);
    /// - `}` where an array expects a value: `a = [}`, `a = [1,}` (parse_value);
    /// - a date and `T` followed by no digit: `a = 1979-05-27T:07` (parse_time);
    /// - a date-like word, one space and a digit that do not make a date-time:
    ///   `a = 1979-05-27 7`, `a = 1979-05-2= 1` (parse_value).
    public static func hitsKnownTOMLPlusPlusAssertion(_ text: String) -> Bool {
        var bytes = Array(text.utf8)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // toml++ skips a BOM
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        // Table headers.
        for line in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
            var rest = line.drop { $0 == 0x20 || $0 == 0x09 }
            guard rest.first == UInt8(ascii: "[") else { continue }
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "[") { rest = rest.dropFirst() }
            rest = rest.drop { $0 == 0x20 || $0 == 0x09 }
            guard let c = rest.first else { return true }  // `[` and the end of the line
            let startsKey = (0x30...0x39).contains(c) || (0x41...0x5A).contains(c) || (0x61...0x7A).contains(c)
                || c == UInt8(ascii: "_") || c == UInt8(ascii: "-") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "'")
            if !startsKey { return true }
        }
        // `}` right after `[` or `,` (whitespace, newlines and comments between).
        var last: UInt8 = 0
        var inComment = false
        for c in bytes {
            if inComment { if c == 0x0A { inComment = false }; continue }
            if c == UInt8(ascii: "#") { inComment = true; continue }
            if isSpace(c) { continue }
            if c == UInt8(ascii: "}") && (last == UInt8(ascii: "[") || last == UInt8(ascii: ",")) { return true }
            last = c
        }
        // A date, `T` and something other than a digit.
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        for i in bytes.indices where i + 11 < bytes.count && (bytes[i + 10] == UInt8(ascii: "T") || bytes[i + 10] == UInt8(ascii: "t")) {
            if [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ isDigit(i + $0) }), bytes[i + 4] == UInt8(ascii: "-"), bytes[i + 7] == UInt8(ascii: "-"),
               !isDigit(i + 11) {
                return true
            }
        }
        // A word (no whitespace) that starts with a digit and has a `-`, one space, a digit.
        var i = 0
        while i < bytes.count {
            guard isDigit(i), i == 0 || isSpace(bytes[i - 1]) || "=[,{".utf8.contains(bytes[i - 1]) else { i += 1; continue }
            var j = i, dash = false
            while j < bytes.count, !isSpace(bytes[j]) { dash = dash || bytes[j] == UInt8(ascii: "-"); j += 1 }
            if dash, j + 1 < bytes.count, bytes[j] == 0x20, isDigit(j + 1) { return true }
            i = j + 1
        }
        return false
    }

    static func diff(_ a: [Probe: Int?], _ b: [Probe: Int?]) -> String {
        let different = a.keys.filter { a[$0] != b[$0] }.prefix(3)
        return different.map { "\($0.table)\($0.index.map { "#\($0)" } ?? "") \($0.key ?? "(header)"): \(String(describing: a[$0] ?? nil)) vs \(String(describing: b[$0] ?? nil))" }
            .joined(separator: "; ")
    }

    /// Parses and probes; the line of every probed key (for the CRLF comparison), or the syntax error.
    static func load(_ text: String, lineCount: Int) throws(InvariantViolation) -> Result<[Probe: Int?], ConfigurationError> {
        func inRange(_ e: ConfigurationError) throws(InvariantViolation) {
            if let line = e.line {
                try require((1...lineCount).contains(line), .toml, "error on line \(line) of a \(lineCount)-line file: \(e.message)")
            }
            try require(e.file == "fuzz.toml", .toml, "error names the file \(e.file)")
        }
        let doc: TOMLDocument
        do {
            doc = try TOMLDocument(file: "fuzz.toml", text: text)
        } catch {
            try inRange(error)
            return .failure(error)
        }
        var lines: [Probe: Int?] = [:]
        func locate(_ p: Probe) throws(InvariantViolation) {
            let line = doc.line(table: p.table, index: p.index, key: p.key)
            if let line { try require((1...lineCount).contains(line), .toml, "\(p) located on line \(line) of \(lineCount)") }
            lines[p] = line
        }
        do { try doc.rejectUnknownTables(["station", "http", "readers"]) } catch { try inRange(error) }

        for name in doc.root.keys.sorted().prefix(maximumKeys) {
            try locate(Probe(table: name, index: nil, key: nil))
            var section: TOMLSection?
            do { section = try doc.section(name, required: false) } catch { try inRange(error) }
            if let section { try probe(section, lineCount: lineCount, inRange: inRange, locate: locate) }
            // `[[readers]]`, `[[amenities]]`: each element its own section.
            if let array = doc.root[name]?.array {
                for (index, element) in array.prefix(maximumElements).enumerated() {
                    guard let table = element.table else { continue }
                    try locate(Probe(table: name, index: index, key: nil))
                    try probe(TOMLSection(document: doc, table: table, name: name, index: index),
                              lineCount: lineCount, inRange: inRange, locate: locate)
                }
            }
        }
        return .success(lines)
    }

    /// Every accessor on every key (each on a fresh copy, since each marks the key as read).
    static func probe(_ section: TOMLSection, lineCount: Int,
                      inRange: (ConfigurationError) throws(InvariantViolation) -> Void,
                      locate: (Probe) throws(InvariantViolation) -> Void) throws(InvariantViolation) {
        let keys = section.table.keys.sorted().prefix(maximumKeys)
        var partial = section
        for (n, key) in keys.enumerated() {
            try locate(Probe(table: section.name, index: section.index, key: key))
            var s = section
            do { _ = try s.string(key) } catch { try inRange(error) }
            do { _ = try s.requiredString(key) } catch { try inRange(error) }
            do { _ = try s.int(key, range: 1...10_000) } catch { try inRange(error) }
            do { _ = try s.bool(key) } catch { try inRange(error) }
            do { _ = try s.strings(key) } catch { try inRange(error) }
            do { _ = try s.listenAddress(key) } catch { try inRange(error) }
            do { _ = try s.choice(key, LineDecoder.Framing.Terminator.self) } catch { try inRange(error) }
            if n % 2 == 0 { _ = try? partial.string(key) }
            do { try s.rejectUnknownKeys() } catch { try inRange(error) }
        }
        do { try partial.rejectUnknownKeys() } catch { try inRange(error) }
        try inRange(section.fail(nil, "probe"))
    }
}
