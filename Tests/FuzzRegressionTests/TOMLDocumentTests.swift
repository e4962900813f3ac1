import Testing
import YizhanCollector
import YizhanStation
import YizhanTOML

/// What fuzzing found in the configuration loader (docs/fuzzing.md), fixed in YizhanTOML.
@Suite struct TOMLDocumentTests {
    static let station = """
        [station]
        id = "pt-1"
        name = "驿站"
        capacity = 0

        [http]
        listen = "127.0.0.1:8080"
        """

    /// A file saved with Windows line ends: "\r\n" is one Character in Swift, so the file was
    /// one long line and every error pointed at line 1.
    @Test func crlfFilesLocateKeysOnTheirLines() throws {
        let crlf = Self.station.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        let doc = try TOMLDocument(file: "station.toml", text: crlf)
        #expect(doc.line(table: "station", key: "capacity") == 4)
        #expect(doc.line(table: "http", key: "listen") == 7)
        #expect(doc.line(table: "http", key: nil) == 6)
        #expect(throws: ConfigurationError.self) { try StationConfiguration.parse(text: crlf, file: "station.toml") }
        do {
            _ = try StationConfiguration.parse(text: crlf, file: "station.toml")
        } catch {
            #expect(error.line == 4, "\(error)")
        }
    }

    /// TOMLKit passes the text to toml++ as a C string: everything after a NUL was silently
    /// ignored, so a damaged file could load as a shorter, different configuration.
    @Test func aNULIsAnErrorNotTheEndOfTheFile() {
        let text = "[http]\nlisten = \"127.0.0.1:9090\"\0\n[storage]\nurl = 7\n"
        #expect(throws: ConfigurationError.self) { try TOMLDocument(file: "collector.toml", text: text) }
        do {
            _ = try CollectorConfiguration.parse(text: text, file: "collector.toml")
            Issue.record("a file with a NUL loaded")
        } catch {
            #expect(error.line == 2 && error.message.contains("U+0000"), "\(error)")
        }
    }

    /// Control characters are errors with their line (toml++ 3.4 even aborts on one after `[`).
    @Test func controlCharactersAreLocated() {
        for (text, line) in [("a = 1\nb = \"x\u{7}y\"\n", 2), ("[\u{1}]\n", 1), ("a = 1\r\nb = 2\rc = 3\n", 2), ("a = 1\u{7F}\n", 1)] {
            do {
                _ = try TOMLDocument(file: "f.toml", text: text)
                Issue.record("\(text.debugDescription) parsed")
            } catch {
                #expect(error.line == line && error.message.contains("control character"), "\(text.debugDescription): \(error)")
            }
        }
        // Tabs, LF and CRLF are fine.
        #expect(throws: Never.self) { try TOMLDocument(file: "f.toml", text: "a\t= 1\r\nb = \"\t\"\n") }
    }
}
