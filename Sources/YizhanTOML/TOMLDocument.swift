import TOMLKit

/// A parsed TOML file that remembers where each key was written, so that semantic errors
/// ("capacity must be positive", "unknown key") point at the file and line like parse
/// errors do. TOMLKit reports positions only for syntax errors; keys are located by a
/// line scan that follows table headers. Shared by the station and the collector.
public struct TOMLDocument {
    public let file: String
    public let root: TOMLTable
    private let lines: [Substring]

    public init(file: String, text: String) throws(ConfigurationError) {
        self.file = file
        // TOML ends lines with LF or CRLF. "\r\n" is one Character in Swift, so splitting on
        // "\n" alone would make a CRLF file a single line and every key's line wrong.
        self.lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        try Self.rejectControlCharacters(text, file: file)
        do {
            self.root = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError(file: file, line: error.source.begin.line, message: "TOML syntax: \(error.description)")
        } catch {
            throw ConfigurationError(file: file, line: nil, message: "TOML syntax: \(error)")
        }
    }

    /// TOML allows no control character but tab, LF and the CR of CRLF, anywhere (strings
    /// spell them as escapes). Checked here, before TOMLKit sees the text: TOMLKit hands it to
    /// toml++ as a C string, so a NUL would silently end the file early, and toml++ 3.4
    /// fails an assertion (undefined behaviour in release builds) on a control character
    /// right after `[`. Found by fuzzing (docs/fuzzing.md).
    static func rejectControlCharacters(_ text: String, file: String) throws(ConfigurationError) {
        var line = 1, column = 0
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if previous == 0x0D && byte != 0x0A { throw controlCharacter(previous, file: file, line: line, column: column) }
            if byte & 0xC0 != 0x80 { column += 1 }  // characters, not UTF-8 continuation bytes
            switch byte {
            case 0x0A: line += 1; column = 0
            case 0x09, 0x0D: break
            case 0x00...0x1F, 0x7F: throw controlCharacter(byte, file: file, line: line, column: column)
            default: break
            }
            previous = byte
        }
        if previous == 0x0D { throw controlCharacter(previous, file: file, line: line, column: column) }
    }

    private static func controlCharacter(_ byte: UInt8, file: String, line: Int, column: Int) -> ConfigurationError {
        let code = String(byte, radix: 16, uppercase: true)
        return ConfigurationError(file: file, line: line,
                                  message: "TOML syntax: control character U+\(code.count < 2 ? "000" : "00")\(code) at column \(column) is not allowed (write it as an escape in a string)")
    }

    /// The line of `key` inside table `table` (e.g. "station", or "readers" with `index`
    /// for the n-th `[[readers]]`); the table header's line when `key` is nil.
    public func line(table: String?, index: Int? = nil, key: String?) -> Int? {
        var current: String? = nil
        var arrayCounts: [String: Int] = [:]
        var currentIndex: Int? = nil
        var headerLine: Int? = nil
        for (i, raw) in lines.enumerated() {
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            if line.hasPrefix("[[") {
                let name = line.dropFirst(2).prefix(while: { $0 != "]" }).trimmed
                current = name
                currentIndex = arrayCounts[name, default: 0]
                arrayCounts[name, default: 0] += 1
                if name == table && currentIndex == index { headerLine = i + 1; if key == nil { return i + 1 } }
                continue
            }
            if line.hasPrefix("[") {
                current = line.dropFirst().prefix(while: { $0 != "]" }).trimmed
                currentIndex = nil
                if current == table && index == nil { headerLine = i + 1; if key == nil { return i + 1 } }
                continue
            }
            guard current == table, currentIndex == index, let key else { continue }
            let name = line.prefix(while: { $0 != "=" }).trimmed.trimmingQuotes
            if name == key, line.contains("=") { return i + 1 }
        }
        return headerLine
    }

    public func error(_ message: String, table: String?, index: Int? = nil, key: String? = nil) -> ConfigurationError {
        ConfigurationError(file: file, line: line(table: table, index: index, key: key), message: message)
    }
}

/// Typed, checked access to one TOML table; records which keys were read so the rest
/// can be reported as unknown.
public struct TOMLSection {
    public let document: TOMLDocument
    public let table: TOMLTable
    public let name: String
    public let index: Int?
    public private(set) var known: Set<String> = []

    public init(document: TOMLDocument, table: TOMLTable, name: String, index: Int? = nil) {
        self.document = document; self.table = table; self.name = name; self.index = index
    }

    public var label: String { index.map { "[[\(name)]] #\($0 + 1)" } ?? "[\(name)]" }

    public func fail(_ key: String?, _ message: String) -> ConfigurationError {
        document.error("\(label)\(key.map { " \($0)" } ?? ""): \(message)", table: name, index: index, key: key)
    }

    public mutating func string(_ key: String) throws(ConfigurationError) -> String? {
        known.insert(key)
        guard let v = table[key] else { return nil }
        guard let s = v.string else { throw fail(key, "expected a string, got \(v.type)") }
        return s
    }

    public mutating func requiredString(_ key: String) throws(ConfigurationError) -> String {
        guard let s = try string(key), !s.isEmpty else { throw fail(key, "is required (a non-empty string)") }
        return s
    }

    public mutating func int(_ key: String, range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        known.insert(key)
        guard let v = table[key] else { return nil }
        guard let i = v.int else { throw fail(key, "expected an integer, got \(v.type)") }
        guard range.contains(i) else { throw fail(key, "expected an integer in \(range.lowerBound)...\(range.upperBound), got \(i)") }
        return i
    }

    public mutating func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        known.insert(key)
        guard let v = table[key] else { return nil }
        guard let b = v.bool else { throw fail(key, "expected true or false, got \(v.type)") }
        return b
    }

    public mutating func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        known.insert(key)
        guard let v = table[key] else { return nil }
        guard let array = v.array else { throw fail(key, "expected an array of strings, got \(v.type)") }
        var out: [String] = []
        for item in array {
            guard let s = item.string else { throw fail(key, "expected an array of strings, found a \(item.type)") }
            out.append(s)
        }
        return out
    }

    public mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, _ type: T.Type) throws(ConfigurationError) -> T?
    where T.RawValue == String {
        guard let s = try string(key) else { return nil }
        guard let v = T(rawValue: s) else {
            throw fail(key, "expected one of \(T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return v
    }

    /// A `"HOST:PORT"` listen address (`[::1]:80` allowed); nil when the key is absent.
    public mutating func listenAddress(_ key: String) throws(ConfigurationError) -> (host: String, port: Int)? {
        guard let listen = try string(key) else { return nil }
        guard let colon = listen.lastIndex(of: ":"), colon != listen.startIndex,
              let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port)
        else { throw fail(key, "expected \"HOST:PORT\", got \"\(listen)\"") }
        var host = Substring(listen[..<colon])
        if host.first == "[" && host.last == "]" { host = host.dropFirst().dropLast() }
        return (String(host), port)
    }

    /// Marks a key read elsewhere (an array of nested tables) as known.
    public mutating func markKnown(_ key: String) { known.insert(key) }

    /// Fails on the first key that was never asked for: a typo must not be ignored.
    public func rejectUnknownKeys() throws(ConfigurationError) {
        for key in table.keys.sorted() where !known.contains(key) {
            let expected = known.sorted().joined(separator: ", ")
            throw document.error("\(label): unknown key \"\(key)\" (expected one of: \(expected))", table: name, index: index, key: key)
        }
    }
}

extension Substring {
    public var trimmed: String {
        String(self.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" }).reversed())
    }
}

extension String {
    public var trimmingQuotes: String {
        if count >= 2, (first == "\"" && last == "\"") || (first == "'" && last == "'") { return String(dropFirst().dropLast()) }
        return self
    }
}

extension TOMLDocument {
    /// The named top-level table as a checked section; nil when absent.
    public func section(_ name: String, required: Bool) throws(ConfigurationError) -> TOMLSection? {
        guard let value = root[name] else {
            if required { throw ConfigurationError(file: file, line: nil, message: "missing table [\(name)]") }
            return nil
        }
        guard let table = value.table else { throw error("\(name) must be a table [\(name)]", table: nil, key: name) }
        return TOMLSection(document: self, table: table, name: name)
    }

    /// Fails on a top-level key that is not one of `allowed`.
    public func rejectUnknownTables(_ allowed: [String]) throws(ConfigurationError) {
        for key in root.keys.sorted() where !allowed.contains(key) {
            throw error("unknown table or key \"\(key)\" (expected: \(allowed.joined(separator: ", ")))", table: key, key: nil)
        }
    }
}
