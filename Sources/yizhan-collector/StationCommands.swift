import ArgumentParser
import Foundation
import YizhanCollector
import YizhanCore
import YizhanWeb

struct StationCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "station", abstract: "Manage stations.",
                                                    subcommands: [AddStation.self, ImportStations.self])
}

func failure(_ message: String) -> ExitCode {
    FileHandle.standardError.write(Data("yizhan-collector: \(message)\n".utf8))
    return ExitCode.failure
}

struct AddStation: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Register a station; prints its token alone on the last line (only a hash is stored).")
    @OptionGroup var options: ConfigOption
    @Option var id: String
    @Option var name: String
    @Option var district: String?
    @Option(help: ArgumentHelp("province/city/district/street, e.g. 浙江省/舟山市/普陀区/沈家门街道.", valueName: "path"))
    var region: String?
    @Option var address: String?
    @Option var capacity: Int = 10
    @Option var lat: Double?
    @Option var lon: Double?

    func run() async throws {
        let c = try options.load()
        guard StationImport.isValidID(id) else { throw ValidationError("--id: letters, digits, '-', '_' or '.', at most 64") }
        guard capacity > 0 else { throw ValidationError("--capacity must be positive") }
        let path = try region.map { text in
            guard let p = RegionPath(parsing: text) else { throw ValidationError("--region: up to 6 levels separated by /, each up to 64 characters") }
            return p
        } ?? .nation
        let token = Tokens.generate(prefix: "yzs_")
        try await withStore(c) { store in
            do {
                try await store.addStation(StationRecord(id: id, name: name, district: district, region: path, address: address, capacity: capacity,
                                                         latitude: lat, longitude: lon), tokenHash: Tokens.hash(token))
            } catch let e as CollectorStoreError {
                throw failure("\(e)")
            }
        }
        print("station \(id) added; put this token in the station's token_file:")
        print(token)
    }
}

struct ImportStations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Add or update many stations from a CSV file (id,name,region,capacity,latitude,longitude,address).",
        discussion: """
            New stations get a token, written to the --tokens file as id,token lines (mode 0600); \
            stations that exist are updated and keep their tokens. A bad row is named by its line \
            and nothing of the file is applied.
            """)
    @OptionGroup var options: ConfigOption
    @Option(help: ArgumentHelp("The station list (UTF-8 CSV with a header line).", valueName: "path")) var file: String
    @Option(help: ArgumentHelp("Where the new stations' tokens go (created, mode 0600; must not exist).", valueName: "path")) var tokens: String

    func run() async throws {
        let c = try options.load()
        guard let data = FileManager.default.contents(atPath: file) else { throw failure("cannot read \(file)") }
        guard let text = String(validating: data, as: UTF8.self) else { throw failure("\(file) is not UTF-8 text") }
        let stations: [StationRecord]
        do { stations = try StationImport.parse(text) } catch { throw failure("\(file):\n\(error)") }
        // The token file is made first, empty and private, so no token is ever readable by others.
        let fd = open(tokens, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw failure("cannot create \(tokens): \(String(cString: strerror(errno))) (it must not exist)") }
        let out = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var newTokens: [String: String] = [:]
        for s in stations { newTokens[s.id] = Tokens.generate(prefix: "yzs_") }
        let results: [StationImportResult]
        do {
            results = try await withStore(c) { store in
                let r = try await store.importStations(stations, tokenHashes: newTokens.mapValues(Tokens.hash))
                // A station that moved counts in other regions now: fold those again.
                let moved = r.filter { $0.movedFrom != nil }
                if !moved.isEmpty {
                    var regions = Set<String>()
                    for m in moved { for p in m.movedFrom!.selfAndAncestors { regions.insert(p.description) } }
                    let movedIDs = Set(moved.map(\.id))
                    for s in stations where movedIDs.contains(s.id) { for p in s.region.selfAndAncestors { regions.insert(p.description) } }
                    try await store.refoldRegions(regions.sorted(), from: Int64.min / 4, to: Int64.max / 4)
                }
                return r
            }
        } catch {
            unlink(tokens)
            throw error
        }
        var csv = "id,token\n"
        for r in results where r.added { csv += "\(r.id),\(newTokens[r.id]!)\n" }
        out.write(Data(csv.utf8))
        let added = results.filter(\.added).count
        print("\(results.count) station(s): \(added) added (tokens in \(tokens)), \(results.count - added) updated")
    }
}
