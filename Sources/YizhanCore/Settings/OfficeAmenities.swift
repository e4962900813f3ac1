/// The office's `amenities` setting: which amenity kinds a station offers, in the kiosk's
/// order (`microwave,water_dispenser,toilet`), or `none`.
///
/// The office names kinds, not amenities: a kind must be one the kiosk has an icon and
/// names for (`AmenityCatalogue`), since the office cannot give names. station.toml still
/// gives the details for the kinds the office lists — its `[[amenities]]` of that kind,
/// with their ids and names, several if it has several (`toilet-1`, `toilet-2`); a kind
/// station.toml does not configure is offered once, with the kind as its id.
public enum OfficeAmenities {
    /// The value for "this station offers no amenities" (an empty value removes the key).
    public static let none = "none"

    /// The kinds in the office's order, or why the value is refused. `none` is no kinds.
    public static func kinds(_ text: String) throws(OfficeSettingError) -> [String] {
        func fail(_ why: String) -> OfficeSettingError { OfficeSettingError(key: OfficeSettingKey.amenities.rawValue, value: text, reason: why) }
        let known = AmenityCatalogue.names.keys.sorted().joined(separator: ", ")
        guard text.utf8.count <= 1_000 else { throw fail("longer than 1000 bytes") }
        if text.trimmed == none { return [] }
        var kinds: [String] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            let kind = raw.trimmed
            guard !kind.isEmpty else { throw fail("an empty entry: list kinds separated by commas, or write \(none) for no amenities") }
            guard AmenityCatalogue.names[kind] != nil else { throw fail("\"\(kind)\" is not an amenity kind (\(known))") }
            guard !kinds.contains(kind) else { throw fail("\"\(kind)\" is listed twice") }
            kinds.append(kind)
        }
        return kinds
    }

    /// The normal form stored and sent: the kinds joined by commas, or `none`.
    public static func normalize(_ text: String) throws(OfficeSettingError) -> String {
        let k = try kinds(text)
        return k.isEmpty ? none : k.joined(separator: ",")
    }

    /// The amenities a station offers under the office's `kinds`: for each kind in order,
    /// station.toml's amenities of that kind (their ids and names, in station.toml's
    /// order), or one new amenity with the kind as id and the catalogue's names.
    public static func select(_ kinds: [String], from configured: [AmenityDefinition]) -> [AmenityDefinition] {
        var chosen: [AmenityDefinition] = []
        for kind in kinds {
            let own = configured.filter { $0.kind == kind }
            if !own.isEmpty { chosen += own; continue }
            // The kind as id, unless station.toml gave that id to an amenity of another kind.
            var id = kind, n = 2
            while configured.contains(where: { $0.id == id }) || chosen.contains(where: { $0.id == id }) {
                id = "\(kind.prefix(29))-\(n)"; n += 1
            }
            chosen.append(AmenityDefinition(id: id, kind: kind))
        }
        return chosen
    }

    /// The amenities a station offers under a settings document: station.toml's list
    /// (`configured`) when the office sets none or the key is pinned, else the office's
    /// selection. A wrong value is refused even when pinned (reported, not hidden).
    public static func apply(_ document: OfficeSettingsDocument, to configured: [AmenityDefinition],
                             pinned: Set<OfficeSettingKey>) throws(OfficeSettingError) -> [AmenityDefinition] {
        guard let value = document.settings[OfficeSettingKey.amenities.rawValue] else { return configured }
        let k = try kinds(value)
        return pinned.contains(.amenities) ? configured : select(k, from: configured)
    }
}

extension Substring {
    var trimmed: String { String(trimmingCharacters()) }
}
