import YizhanCore

/// A district's or a province's station list from CSV (`station import`): header
/// `id,name,region,capacity,latitude,longitude,address` (any order; `id` and `name`
/// required), UTF-8, quoted fields allowed. Every bad row is named by its line and
/// nothing of the file is applied.
public enum StationImport {
    public static let columns = ["id", "name", "region", "capacity", "latitude", "longitude", "address"]
    public static let maximumRows = 200_000

    public struct Problems: Error, CustomStringConvertible {
        public var lines: [String]
        public var description: String { lines.joined(separator: "\n") }
    }

    /// An id as `station add` takes it: letters, digits, `-`, `_` or `.`, at most 64.
    public static func isValidID(_ id: String) -> Bool {
        (1...64).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    public static func parse(_ text: String) throws -> [StationRecord] {
        let rows: [CSVReader.Row]
        do { rows = try CSVReader.rows(text) } catch { throw Problems(lines: [error.description]) }
        guard let header = rows.first else { throw Problems(lines: ["the file is empty: expected a header line \(columns.joined(separator: ","))"]) }
        let names = header.fields.map { $0.trimmingSpaces.lowercased() }
        var index: [String: Int] = [:]
        var problems: [String] = []
        for (i, n) in names.enumerated() {
            guard columns.contains(n) else { problems.append("line \(header.line): unknown column \(n.debugDescription) (expected \(columns.joined(separator: ",")))"); continue }
            if index[n] != nil { problems.append("line \(header.line): column \(n) twice") }
            index[n] = i
        }
        for required in ["id", "name"] where index[required] == nil { problems.append("line \(header.line): no \(required) column") }
        guard problems.isEmpty else { throw Problems(lines: problems) }
        guard rows.count - 1 <= maximumRows else { throw Problems(lines: ["\(rows.count - 1) stations: at most \(maximumRows) in one file"]) }

        var out: [StationRecord] = []
        var seen: [String: Int] = [:]
        for row in rows.dropFirst() {
            func value(_ column: String) -> String? {
                guard let i = index[column], i < row.fields.count else { return nil }
                let v = row.fields[i].trimmingSpaces
                return v.isEmpty ? nil : v
            }
            var rowProblems: [String] = []
            if row.fields.count != names.count { rowProblems.append("\(row.fields.count) fields, the header has \(names.count)") }
            let id = value("id") ?? ""
            if !isValidID(id) { rowProblems.append("id \(id.debugDescription): letters, digits, '-', '_' or '.', at most 64") }
            if let first = seen[id] { rowProblems.append("station \(id) is also on line \(first)") }
            let name = value("name") ?? ""
            if name.isEmpty || name.count > 100 || name.unicodeScalars.contains(where: { $0.value < 0x20 }) { rowProblems.append("name: 1 to 100 characters, no control characters") }
            var region = RegionPath.nation
            if let text = value("region") {
                if let r = RegionPath(parsing: text) { region = r } else { rowProblems.append("region \(text.debugDescription): up to 6 levels separated by /, each up to 64 characters") }
            }
            var capacity = 10
            if let text = value("capacity") {
                if let c = Int(text), (1...10_000).contains(c) { capacity = c } else { rowProblems.append("capacity \(text.debugDescription): a whole number from 1 to 10000") }
            }
            let lat = value("latitude"), lon = value("longitude")
            var latitude: Double?, longitude: Double?
            if lat != nil || lon != nil {
                if let lat, let l = Double(lat), (-90...90).contains(l) { latitude = l } else { rowProblems.append("latitude \((lat ?? "").debugDescription): a number from -90 to 90, given with longitude") }
                if let lon, let l = Double(lon), (-180...180).contains(l) { longitude = l } else { rowProblems.append("longitude \((lon ?? "").debugDescription): a number from -180 to 180, given with latitude") }
            }
            let address = value("address")
            if let a = address, a.count > 200 || a.unicodeScalars.contains(where: { $0.value < 0x20 }) { rowProblems.append("address: up to 200 characters, no control characters") }
            if rowProblems.isEmpty {
                seen[id] = row.line
                out.append(StationRecord(id: id, name: name, region: region, address: address, capacity: capacity, latitude: latitude, longitude: longitude))
            } else {
                problems += rowProblems.map { "line \(row.line): \($0)" }
            }
            if problems.count >= 50 { problems.append("(stopped after 50 problems)"); break }
        }
        guard problems.isEmpty else { throw Problems(lines: problems) }
        return out
    }
}

extension String {
    /// Without spaces, tabs and ideographic spaces around it.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\u{3000}" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\u{3000}" { s = s.dropLast() }
        return String(s)
    }
}
