import Foundation
import Testing
import YizhanCollector
import YizhanFuzzTargets
import YizhanStation

/// Every file of Fuzz/Corpus/<target>/ through its fuzz target once: what the fuzzers found
/// (and what was fixed) stays found. See docs/fuzzing.md.
@Suite struct CorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/Corpus")

    static func files(_ target: String) throws -> [URL] {
        let dir = corpus.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test(arguments: FuzzTarget.allCases)
    func corpusPasses(_ target: FuzzTarget) async throws {
        let files = try #require(try? Self.files(target.rawValue), "no corpus directory Fuzz/Corpus/\(target.rawValue)")
        #expect(files.count >= 3, "Fuzz/Corpus/\(target.rawValue) has \(files.count) files; a target needs its seeds")
        for file in files {
            let bytes = [UInt8](try Data(contentsOf: file))
            do {
                try target.run(bytes)
            } catch {
                Issue.record("\(target.rawValue)/\(file.lastPathComponent): \(error)")
            }
            // Seconds of parsing in one go held a thread of the shared pool: the timing tests
            // running beside it (the station's watchdog) starved for 15 s at the start of make test.
            await Task.yield()
        }
    }

    @Test func everyCorpusDirectoryIsATarget() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.path).filter { !$0.hasPrefix(".") }
        let known = Set(FuzzTarget.allCases.map(\.rawValue))
        #expect(Set(dirs).subtracting(known).isEmpty, "corpus directories without a target: \(Set(dirs).subtracting(known).sorted())")
        #expect(known.subtracting(dirs).isEmpty, "targets without a corpus: \(known.subtracting(dirs).sorted())")
    }

    /// The real loaders on the TOML corpus: a configuration or an error naming a line of the file.
    /// (Not the files that reach toml++ 3.4's known assertions: they abort the process;
    /// see `TOMLTarget.hitsKnownTOMLPlusPlusAssertion` and docs/fuzzing.md.)
    @Test func configurationLoadersOnTheTOMLCorpus() async throws {
        for file in try Self.files("toml") {
            await Task.yield()  // as in corpusPasses
            let text = String(decoding: try Data(contentsOf: file), as: UTF8.self)
            if TOMLTarget.hitsKnownTOMLPlusPlusAssertion(text) { continue }
            let lines = text.utf8.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
            let station: (String) throws(ConfigurationError) -> Void = { (t: String) throws(ConfigurationError) in _ = try StationConfiguration.parse(text: t, file: "station.toml") }
            let collector: (String) throws(ConfigurationError) -> Void = { (t: String) throws(ConfigurationError) in _ = try CollectorConfiguration.parse(text: t, file: "collector.toml") }
            for parse in [station, collector] {
                do {
                    try parse(text)
                } catch {
                    if let line = error.line {
                        #expect((1...lines).contains(line), "\(file.lastPathComponent): \(error)")
                    }
                }
            }
        }
    }
}
