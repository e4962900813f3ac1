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
