/// The one CSV writer: RFC 4180 (CRLF, every text field quoted, quotes doubled), safe to
/// open in a spreadsheet (a text starting with `= + - @`, tab or CR gets a leading `'`, so
/// it is never run as a formula), and for downloads a UTF-8 byte-order mark so Chinese
/// Excel reads the file as UTF-8.
public enum CSV {
    public static let byteOrderMark = "\u{FEFF}"

    /// A text field; nil is an empty field.
    public static func field(_ value: String?) -> String {
        guard var v = value else { return "" }
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(v) == nil { v = "'" + v }
        var out = "\""
        for c in v.unicodeScalars {
            if c == "\"" { out += "\"\"" } else { out.unicodeScalars.append(c) }
        }
        return out + "\""
    }

    /// A number (never quoted, never guarded).
    public static func number(_ value: (some BinaryInteger)?) -> String { value.map { "\($0)" } ?? "" }
    public static func number(_ value: Double?) -> String { value.map { "\($0)" } ?? "" }

    /// One line of already formatted fields.
    public static func line(_ fields: [String]) -> String { fields.joined(separator: ",") + "\r\n" }

    /// A header line: names are plain ASCII identifiers, left bare.
    public static func header(_ names: [String]) -> String { line(names) }
}

/// The one CSV reader (RFC 4180: fields separated by commas, optionally quoted with `"`,
/// quotes doubled inside; LF or CRLF line ends; a UTF-8 byte-order mark skipped). Written
/// by hand: no CSV package is available, and a station list is small.
public struct CSVReader: Sendable {
    public struct Row: Hashable, Sendable {
        /// The line the row starts on (1-based; a quoted field may span lines).
        public var line: Int
        public var fields: [String]
    }

    public enum Problem: Error, Hashable, CustomStringConvertible {
        case unterminatedQuote(line: Int)
        case textAfterQuote(line: Int)
        public var description: String {
            switch self {
            case .unterminatedQuote(let l): return "line \(l): a quoted field is not closed"
            case .textAfterQuote(let l): return "line \(l): text after a closing quote (a quote inside a field is written twice)"
            }
        }
    }

    /// Every non-empty row.
    public static func rows(_ text: String) throws(Problem) -> [Row] {
        var scalars = Array(text.unicodeScalars)
        if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
        var rows: [Row] = []
        var fields: [String] = []
        var field = String.UnicodeScalarView()
        var line = 1, rowLine = 1
        var i = 0
        var quoted = false, afterQuote = false
        func endField() { fields.append(String(field)); field = String.UnicodeScalarView(); afterQuote = false }
        func endRow() {
            endField()
            if !(fields.count == 1 && fields[0].isEmpty) { rows.append(Row(line: rowLine, fields: fields)) }
            fields = []
        }
        while i < scalars.count {
            let c = scalars[i]
            if quoted {
                if c == "\"" {
                    if i + 1 < scalars.count && scalars[i + 1] == "\"" { field.append("\""); i += 2; continue }
                    quoted = false; afterQuote = true
                } else {
                    if c == "\n" { line += 1 }
                    field.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case ",": endField()
            case "\r" where i + 1 < scalars.count && scalars[i + 1] == "\n": break
            case "\n": endRow(); line += 1; rowLine = line
            case "\"" where field.isEmpty && !afterQuote: quoted = true
            default:
                if afterQuote { throw .textAfterQuote(line: line) }
                field.append(c)
            }
            i += 1
        }
        if quoted { throw .unterminatedQuote(line: rowLine) }
        endRow()
        return rows
    }
}
