import Foundation
import Testing
import YizhanCore
@testable import YizhanStation

@Suite struct ConfigurationTests {
    let minimal = """
        [station]
        id = "pt-1"
        capacity = 5
        [privacy]
        region_key_file = "/etc/yizhan/region.key"
        """

    func parse(_ text: String) throws(ConfigurationError) -> StationConfiguration {
        try StationConfiguration.parse(text: text, file: "station.toml")
    }

    func error(_ text: String) -> String {
        do { _ = try parse(text); return "no error" } catch { return error.description }
    }

    @Test func theExampleConfigurationIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try StationConfiguration.load(path: root.appendingPathComponent("config/station.example.toml").path)
        #expect(c.station.id == "pt-shenjiamen-01")
        #expect(c.station.capacity == 12)
        #expect(c.policy.capacity == 12)
        #expect(c.policy.hours.description == "07:00-22:00")
        #expect(c.readers.map(\.name) == ["door"])
        #expect(c.readers[0].baud == 115_200)
        #expect(c.http.socketPath == "/var/lib/yizhan/station.sock")
        #expect(c.amenities.map(\.id) == ["air_conditioner", "microwave", "water_dispenser", "phone_charging", "toilet", "first_aid"])
        #expect(c.amenities[1].nameZh == "微波炉")
    }

    @Test func defaults() throws {
        let c = try parse(minimal)
        #expect(c.station.name == "pt-1")
        #expect(c.station.dataDirectory == "/var/lib/yizhan")
        #expect(c.http.host == "127.0.0.1" && c.http.port == 8080)
        #expect(c.policy.mode == .toggle && c.policy.whenFull == .deny)
        #expect(c.policy.hours.isAlwaysOpen)
        #expect(c.readers.isEmpty)
    }

    @Test func readerMatches() throws {
        let c = try parse(minimal + """

            [[readers]]
            name = "a"
            protocol = "rdm6300"
            match_usb = "1A86:7523"
            [[readers]]
            name = "b"
            protocol = "hid"
            match_property = "YIZHAN_READER=b"
            [[readers]]
            name = "c"
            protocol = "line"
            device = "/dev/ttyACM0"
            baud = 19200
            line_terminator = "crlf"
            line_prefix = "ID:"
            """)
        #expect(c.readers[0].match == .usb(vendor: "1a86", product: "7523"))
        #expect(c.readers[0].baud == 9600)
        #expect(c.readers[1].match == .property(name: "YIZHAN_READER", value: "b"))
        #expect(c.readers[2].lineFraming == LineDecoder.Framing(terminator: .crlf, prefix: "ID:"))
        #expect(c.readers[2].baud == 19200)
    }

    @Test func unknownKeyIsAnErrorWithItsLine() {
        #expect(error(minimal + "\ncapacty = 3") .hasPrefix("station.toml:6: [privacy]: unknown key \"capacty\""))
        #expect(error("""
            [station]
            id = "pt-1"
            capacity = 5
            colour = "red"
            [privacy]
            region_key_file = "k"
            """).hasPrefix("station.toml:4: [station]: unknown key \"colour\""))
        #expect(error(minimal + "\n[uplnk]\ncollector = \"x\"").hasPrefix("station.toml:6: unknown table or key \"uplnk\""))
    }

    @Test func wrongTypesAndValuesSayWhatWasExpected() {
        #expect(error("""
            [station]
            id = "pt-1"
            capacity = "twelve"
            [privacy]
            region_key_file = "k"
            """) == "station.toml:3: [station] capacity: expected an integer, got string")
        #expect(error(minimal.replacingOccurrences(of: "capacity = 5", with: "capacity = 0"))
                == "station.toml:3: [station] capacity: expected an integer in 1...10000, got 0")
        #expect(error(minimal + "\n[visits]\nmode = \"sometimes\"")
                == "station.toml:7: [visits] mode: expected one of \"toggle\", \"entry_only\", got \"sometimes\"")
        #expect(error(minimal + "\n[visits]\nhours = [\"7:00-22:00\"]")
                == "station.toml:7: [visits] hours: bad opening hours \"7:00-22:00\": expected \"HH:MM-HH:MM\"")
        #expect(error(minimal + "\n[http]\nlisten = \"localhost\"")
                == "station.toml:7: [http] listen: expected \"HOST:PORT\", got \"localhost\"")
    }

    @Test func readerErrors() {
        let twoDevices = minimal + "\n[[readers]]\nname = \"a\"\nprotocol = \"line\"\ndevice = \"/dev/x\"\nmatch_usb = \"1a86:7523\""
        #expect(error(twoDevices) == "station.toml:6: [[readers]] #1: set exactly one of device, match_usb or match_property")
        #expect(error(minimal + "\n[[readers]]\nname = \"a\"\nprotocol = \"nfc\"\ndevice = \"/dev/x\"")
                == "station.toml:8: [[readers]] #1 protocol: expected one of \"idcard-sam\", \"rdm6300\", \"line\", \"hid\", got \"nfc\"")
        #expect(error(minimal + "\n[[readers]]\nname = \"a\"\nprotocol = \"line\"\ndevice = \"/dev/x\"\nbaud = 12345")
                == "station.toml:10: [[readers]] #1 baud: 12345 is not a standard rate (9600, 19200, 38400, 57600, 115200, ...)")
        let second = minimal + "\n[[readers]]\nname = \"a\"\nprotocol = \"line\"\ndevice = \"/dev/x\"\n[[readers]]\nname = \"a\"\nprotocol = \"line\"\ndevice = \"/dev/y\""
        #expect(error(second) == "station.toml:11: [[readers]] #2 name: \"a\" is used by another reader")
        #expect(error(minimal + "\n[[readers]]\nname = \"a\"\nprotocol = \"line\"\nmatch_usb = \"ch340\"")
                == "station.toml:9: [[readers]] #1 match_usb: expected \"vendor:product\" in hex like \"1a86:7523\", got \"ch340\"")
    }

    @Test func syntaxErrorsCarryTheParserLine() {
        let e = error("[station]\nid = \"pt-1\"\ncapacity = = 5\n")
        #expect(e.hasPrefix("station.toml:3: TOML syntax:"))
    }

    @Test func missingTablesAndFiles() {
        #expect(error("[station]\nid = \"a\"\ncapacity = 1") == "station.toml: missing table [privacy]")
        do {
            _ = try StationConfiguration.load(path: "/nonexistent/station.toml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/station.toml: cannot read the configuration file"))
        }
    }

    @Test func regionKeyFileMustHoldEnoughKey() throws {
        let dir = TemporaryDirectory()
        var c = try parse(minimal)
        c.regionKeyFile = dir.file("short.key")
        FileManager.default.createFile(atPath: c.regionKeyFile, contents: Data("short".utf8))
        #expect(throws: ConfigurationError.self) { try c.loadCardKeyer() }
        // 64 hex characters are read as 32 bytes.
        FileManager.default.createFile(atPath: c.regionKeyFile, contents: Data((String(repeating: "ab", count: 32) + "\n").utf8))
        let hex = try c.loadCardKeyer()
        FileManager.default.createFile(atPath: c.regionKeyFile, contents: Data(repeating: 0xAB, count: 32))
        let raw = try c.loadCardKeyer()
        #expect(hex.key(for: NormalizedCardNumber("1")) == raw.key(for: NormalizedCardNumber("1")))
    }

    @Test func pinnedSettingsAreOfficeKeys() throws {
        let pinned = try parse(minimal.replacingOccurrences(of: "capacity = 5", with: "capacity = 5\npinned_settings = [\"capacity\", \"opening_hours\"]"))
        #expect(pinned.station.pinnedSettings == [.capacity, .openingHours])
        #expect(error(minimal.replacingOccurrences(of: "capacity = 5", with: "capacity = 5\npinned_settings = [\"mode\"]"))
                    .contains("\"mode\" is not an office setting"))
    }
}
