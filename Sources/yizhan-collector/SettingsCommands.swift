import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Foundation
import YizhanCollector
import YizhanCore

struct SettingsCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings", abstract: "Set and show what stations apply (capacity, opening hours, maximum stay, amenities).",
        subcommands: [SetSettings.self, ShowSettings.self])
}

/// `--region PATH | --station ID`, exactly one (settings) or at least one (notices).
struct OfficeTarget: ParsableArguments {
    @Option(help: ArgumentHelp("A region: province/city/district/street (\"\" or / for the nation).", valueName: "path"))
    var region: String?
    @Option(help: ArgumentHelp("A station (notices: repeat for several).", valueName: "id"))
    var station: [String] = []

    func scope() throws -> OfficeScope {
        switch (region, station.count) {
        case (let r?, 0):
            guard let p = RegionPath(parsing: r) else { throw ValidationError("--region: up to 6 levels separated by /") }
            return .region(p)
        case (nil, 1): return .station(station[0])
        default: throw ValidationError("give --region PATH or --station ID (one of them, once)")
        }
    }
}

/// Who acts from the command line, for the audit log: `cli:` and the login name.
func cliActor() -> String {
    if let pw = getpwuid(geteuid()), let name = pw.pointee.pw_name { return "cli:" + String(cString: name) }
    return "cli:uid\(geteuid())"
}

struct SetSettings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Set settings for a region or a station; prints the new revision alone on its last line.",
        discussion: """
            Keys: capacity (1-10000), opening_hours (06:00-22:00, 24h, several ranges comma-separated, \
            and dated exceptions such as 2026-10-01=closed or 2026-07-20=06:00-23:00), maximum_stay_minutes, \
            amenities (kinds in the kiosk's order, e.g. microwave,water_dispenser,toilet,phone_charging; none for no amenities). \
            KEY= (empty) removes the key at this scope, so the region above applies again. \
            A station's own setting wins over its regions'; a deeper region wins over a wider one.
            """)
    @OptionGroup var options: ConfigOption
    @OptionGroup var target: OfficeTarget
    @Argument(help: ArgumentHelp("KEY=VALUE", valueName: "KEY=VALUE")) var assignments: [String]

    func run() async throws {
        let c = try options.load()
        let scope = try target.scope()
        let values: [OfficeSettingKey: String?]
        do { values = try OfficeActions.parseAssignments(assignments, offset: c.utcOffset) } catch { throw failure(error.message) }
        let revision = try await withStore(c) { store in
            if case .station(let id) = scope, try await store.stationRegions()[id] == nil { throw failure("no station \(id)") }
            return try await store.setSettings(scope, values, actor: cliActor(), at: .now())
        }
        print("\(scope): \(values.keys.sorted().map { "\($0.rawValue)=\(values[$0]!.map { $0 } ?? "(removed)")" }.joined(separator: " "))")
        print(revision)
    }
}

struct ShowSettings: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Show the settings of a region or a station, what applies there, and which stations are in sync.")
    @OptionGroup var options: ConfigOption
    @OptionGroup var target: OfficeTarget

    func run() async throws {
        let c = try options.load()
        let scope: OfficeScope? = target.region == nil && target.station.isEmpty ? nil : try target.scope()
        try await withStore(c) { store in
            let rows = try await store.settingRows()
            guard let scope else {
                // Every row, widest scope first.
                for r in rows.sorted(by: { ($0.scope.kind, $0.scope.target, $0.key) < ($1.scope.kind, $1.scope.target, $1.key) }) {
                    print("\(r.scope)\t\(r.key.rawValue)=\(r.value ?? "(removed)")\trevision \(r.revision)")
                }
                return
            }
            let stations = try await store.stations()
            let region: RegionPath
            switch scope {
            case .region(let p): region = p
            case .station(let id):
                guard let s = stations.first(where: { $0.id == id }) else { throw failure("no station \(id)") }
                region = s.region
            }
            print("set here (\(scope)):")
            for r in rows where r.scope == scope { print("  \(r.key.rawValue)=\(r.value ?? "(removed)")  revision \(r.revision)") }
            let station: String
            if case .station(let id) = scope { station = id } else { station = "" }
            let effective = OfficeSettingsResolver.resolve(rows, station: station, region: region)
            print("applies there (revision \(effective.revision)):")
            for (k, v) in effective.settings.sorted(by: { $0.key < $1.key }) { print("  \(k)=\(v)") }
            print("stations:")
            for s in stations where scope.covers(station: s.id, region: s.region) {
                let sync = SettingsSync(station: s, rows: rows)
                let applied = sync.appliedRevision.map(String.init) ?? "unknown"
                var line = "  \(s.id)\tdesired \(sync.desiredRevision)\tapplied \(applied)\t\(sync.inSync ? "in sync" : "OUT OF SYNC")"
                if let e = sync.settingsError { line += "\trefused: \(e)" }
                if !sync.pinned.isEmpty { line += "\tpinned: \(sync.pinned.joined(separator: ","))" }
                print(line)
            }
        }
    }
}
