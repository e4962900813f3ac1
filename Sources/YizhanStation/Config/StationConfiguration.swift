import Foundation
import TOMLKit
import YizhanCore
@_exported import YizhanTOML
import YizhanWeb

/// Everything `yizhan-station` and `yizhanctl` read from `station.toml`.
/// See config/station.example.toml for every key with its meaning.
public struct StationConfiguration: Sendable {
    public struct Station: Sendable {
        public var id: String
        public var name: String
        public var capacity: Int
        public var dataDirectory: String
        public var utcOffset: UTCOffset
        /// Office settings this station keeps from its own file (`pinned_settings`).
        public var pinnedSettings: Set<OfficeSettingKey> = []
    }

    public struct HTTP: Sendable {
        public var host: String
        public var port: Int
        /// The unix socket `yizhanctl` uses; in the data directory unless set.
        public var socketPath: String
        /// Connections, timeouts and request sizes (both listeners). A station box serves
        /// one kiosk and a few managers: a small connection limit bounds what a runaway
        /// local client can hold.
        public var limits = ServerLimits(maximumConnections: 128, idleTimeout: .seconds(30), bodyTimeout: .seconds(15))
    }

    public enum ReaderProtocol: String, Sendable, CaseIterable {
        case idcardSAM = "idcard-sam"
        case rdm6300
        case line
        case hid

        var defaultBaud: Int { self == .idcardSAM ? 115_200 : 9600 }
    }

    /// How a reader's device is found.
    public enum DeviceMatch: Sendable, Hashable, CustomStringConvertible {
        /// A fixed path (`/dev/ttyUSB0`, `/dev/input/by-id/...-event-kbd`, a simulator's link).
        case path(String)
        /// USB vendor:product, hexadecimal (`1a86:7523`).
        case usb(vendor: String, product: String)
        /// A udev property our rules file sets (`YIZHAN_READER=door`).
        case property(name: String, value: String)

        public var description: String {
            switch self {
            case .path(let p): return p
            case .usb(let v, let p): return "usb \(v):\(p)"
            case .property(let n, let v): return "udev \(n)=\(v)"
            }
        }
    }

    public struct Reader: Sendable {
        public var name: String
        public var `protocol`: ReaderProtocol
        public var match: DeviceMatch
        public var baud: Int
        public var lineFraming: LineDecoder.Framing
        public var burstWindow: Duration
        public var repeatWindow: Duration
        public var pollInterval: Duration
    }

    public struct Uplink: Sendable {
        public var collector: String
        public var tokenFile: String
        public var heartbeat: Duration = .seconds(60)
        public var batchEvents = 500
        public var batchBytes = 512 * 1024
        public var timeout: Duration = .seconds(30)
        public var backoffCap: Duration = .seconds(300)
    }

    /// Local storage limits (`[storage]`).
    public struct Storage: Sendable {
        /// Events the collector acknowledged are purged after this many days.
        public var retentionDays = 30
        /// Above this size of station.db, acknowledged events are purged early and the
        /// daemon alerts; unacknowledged events are never dropped.
        public var maximumMegabytes = 1024
    }

    public var file: String
    public var station: Station
    public var http: HTTP
    public var regionKeyFile: String
    public var policy: VisitPolicy
    public var readers: [Reader]
    /// `[[amenities]]`: what the station offers, in the kiosk's order.
    public var amenities: [AmenityDefinition] = []
    public var uplink: Uplink?
    public var storage = Storage()
    public var logLevel: String

    public static let defaultPath = "/etc/yizhan/station.toml"

    /// Loads and validates; every error names the file, the line and what was expected.
    public static func load(path: String) throws(ConfigurationError) -> StationConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? "\(error.localizedDescription)"
            throw ConfigurationError(file: path, line: nil, message: "cannot read the configuration file: \(reason)")
        }
        return try parse(text: text, file: path)
    }

    public static func parse(text: String, file: String) throws(ConfigurationError) -> StationConfiguration {
        let doc = try TOMLDocument(file: file, text: text)
        try doc.rejectUnknownTables(["station", "visits", "http", "privacy", "readers", "amenities", "uplink", "storage", "log"])
        // [station]
        var s = try doc.section("station", required: true)!
        let id = try s.requiredString("id")
        guard id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }), id.count <= 64 else {
            throw s.fail("id", "expected letters, digits, '-', '_' or '.' (at most 64), got \"\(id)\"")
        }
        let name = try s.string("name") ?? id
        guard let capacity = try s.int("capacity", range: 1...10_000) else { throw s.fail("capacity", "is required (a positive integer)") }
        let dataDirectory = try s.string("data_dir") ?? "/var/lib/yizhan"
        let tzText = try s.string("utc_offset") ?? "+08:00"
        guard let offset = UTCOffset(parsing: tzText) else { throw s.fail("utc_offset", "expected \"+08:00\"-style offset, got \"\(tzText)\"") }
        var pinned: Set<OfficeSettingKey> = []
        for key in try s.strings("pinned_settings") ?? [] {
            guard let k = OfficeSettingKey(rawValue: key) else {
                throw s.fail("pinned_settings", "\"\(key)\" is not an office setting (\(OfficeSettingKey.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            pinned.insert(k)
        }
        try s.rejectUnknownKeys()
        var station = Station(id: id, name: name, capacity: capacity, dataDirectory: dataDirectory, utcOffset: offset)
        station.pinnedSettings = pinned

        // [visits]
        var policy = VisitPolicy(capacity: capacity)
        if var v = try doc.section("visits", required: false) {
            policy.mode = try v.choice("mode", VisitPolicy.Mode.self) ?? .toggle
            policy.whenFull = try v.choice("when_full", VisitPolicy.WhenFull.self) ?? .deny
            if let d = try v.int("debounce_seconds", range: 0...3600) { policy.debounce = .seconds(d) }
            if let m = try v.int("maximum_stay_minutes", range: 1...Int(VisitPolicy.longestStay.wholeSeconds / 60)) { policy.maximumStay = .seconds(m * 60) }
            if let m = try v.int("assumed_stay_minutes", range: 1...24 * 60) { policy.assumedStay = .seconds(m * 60) }
            if let hours = try v.strings("hours") {
                do {
                    policy.hours = try OpeningHours(parsing: hours, offset: offset)
                } catch {
                    throw v.fail("hours", "\(error.description)")
                }
                if hours.isEmpty { throw v.fail("hours", "is empty; leave it out to stay always open") }
            }
            policy.checkOutAtClosing = try v.bool("check_out_at_closing") ?? true
            try v.rejectUnknownKeys()
        }
        policy.hours.offset = offset

        // [http]
        var http = HTTP(host: "127.0.0.1", port: 8080, socketPath: dataDirectory + "/station.sock")
        if var h = try doc.section("http", required: false) {
            if let (host, port) = try h.listenAddress("listen") { (http.host, http.port) = (host, port) }
            if let socket = try h.string("socket") { http.socketPath = socket }
            if let n = try h.int("max_connections", range: 4...100_000) { http.limits.maximumConnections = n }
            if let s = try h.int("idle_timeout_seconds", range: 1...3600) { http.limits.idleTimeout = .seconds(s) }
            if let s = try h.int("body_timeout_seconds", range: 1...3600) { http.limits.bodyTimeout = .seconds(s) }
            try h.rejectUnknownKeys()
        }

        // [privacy]
        var p = try doc.section("privacy", required: true)!
        let regionKeyFile = try p.requiredString("region_key_file")
        try p.rejectUnknownKeys()

        // [[readers]]
        var readers: [Reader] = []
        if let value = doc.root["readers"] {
            guard let array = value.array else { throw doc.error("readers must be an array of tables [[readers]]", table: nil, key: "readers") }
            for (i, item) in array.enumerated() {
                guard let table = item.table else { throw doc.error("readers must be an array of tables [[readers]]", table: nil, key: "readers") }
                var r = TOMLSection(document: doc, table: table, name: "readers", index: i)
                let readerName = try r.requiredString("name")
                if readers.contains(where: { $0.name == readerName }) { throw r.fail("name", "\"\(readerName)\" is used by another reader") }
                guard let proto = try r.choice("protocol", ReaderProtocol.self) else {
                    throw r.fail("protocol", "is required: one of \(ReaderProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let device = try r.string("device")
                let usb = try r.string("match_usb")
                let property = try r.string("match_property")
                let match: DeviceMatch
                switch (device, usb, property) {
                case (let d?, nil, nil):
                    guard d.hasPrefix("/") else { throw r.fail("device", "expected an absolute path, got \"\(d)\"") }
                    match = .path(d)
                case (nil, let u?, nil):
                    let parts = u.lowercased().split(separator: ":")
                    guard parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isHexDigit) }) else {
                        throw r.fail("match_usb", "expected \"vendor:product\" in hex like \"1a86:7523\", got \"\(u)\"")
                    }
                    match = .usb(vendor: String(parts[0]), product: String(parts[1]))
                case (nil, nil, let prop?):
                    let parts = prop.split(separator: "=", maxSplits: 1)
                    guard parts.count == 2, !parts[0].isEmpty else {
                        throw r.fail("match_property", "expected \"NAME=VALUE\" like \"YIZHAN_READER=1\", got \"\(prop)\"")
                    }
                    match = .property(name: String(parts[0]), value: String(parts[1]))
                default:
                    throw r.fail(nil, "set exactly one of device, match_usb or match_property")
                }
                let baud = try r.int("baud", range: 1200...921_600) ?? proto.defaultBaud
                if ![1200, 2400, 4800, 9600, 19200, 38400, 57600, 115_200, 230_400, 460_800, 921_600].contains(baud) {
                    throw r.fail("baud", "\(baud) is not a standard rate (9600, 19200, 38400, 57600, 115200, ...)")
                }
                var framing = LineDecoder.Framing()
                framing.terminator = try r.choice("line_terminator", LineDecoder.Framing.Terminator.self) ?? .any
                framing.prefix = try r.string("line_prefix") ?? ""
                framing.suffix = try r.string("line_suffix") ?? ""
                let burst = try r.int("burst_window_ms", range: 50...5000) ?? 500
                let repeatWindow = try r.int("repeat_window_ms", range: 0...10_000) ?? 1500
                let poll = try r.int("poll_interval_ms", range: 50...5000) ?? 250
                try r.rejectUnknownKeys()
                readers.append(Reader(name: readerName, protocol: proto, match: match, baud: baud, lineFraming: framing,
                                      burstWindow: .milliseconds(burst), repeatWindow: .milliseconds(repeatWindow),
                                      pollInterval: .milliseconds(poll)))
            }
        }

        // [uplink]
        var uplink: Uplink?
        if var u = try doc.section("uplink", required: false) {
            let collector = try u.requiredString("collector")
            guard collector.hasPrefix("http://") || collector.hasPrefix("https://") else {
                throw u.fail("collector", "expected an http:// or https:// URL, got \"\(collector)\"")
            }
            var up = Uplink(collector: collector, tokenFile: try u.requiredString("token_file"))
            if let v = try u.int("heartbeat_seconds", range: 5...3600) { up.heartbeat = .seconds(v) }
            if let v = try u.int("batch_events", range: 1...5000) { up.batchEvents = v }
            if let v = try u.int("batch_kilobytes", range: 1...16384) { up.batchBytes = v * 1024 }
            if let v = try u.int("timeout_seconds", range: 1...600) { up.timeout = .seconds(v) }
            if let v = try u.int("backoff_cap_seconds", range: 1...86400) { up.backoffCap = .seconds(v) }
            uplink = up
            try u.rejectUnknownKeys()
        }

        var storage = Storage()
        if var st = try doc.section("storage", required: false) {
            if let v = try st.int("retention_days", range: 1...3650) { storage.retentionDays = v }
            if let v = try st.int("max_megabytes", range: 16...1_048_576) { storage.maximumMegabytes = v }
            try st.rejectUnknownKeys()
        }

        var logLevel = "info"
        if var l = try doc.section("log", required: false) {
            logLevel = try l.string("level") ?? "info"
            guard ["trace", "debug", "info", "notice", "warning", "error", "critical"].contains(logLevel) else {
                throw l.fail("level", "expected trace, debug, info, notice, warning, error or critical, got \"\(logLevel)\"")
            }
            try l.rejectUnknownKeys()
        }

        // [[amenities]]
        var amenities: [AmenityDefinition] = []
        if let value = doc.root["amenities"] {
            guard let array = value.array else { throw doc.error("amenities must be an array of tables [[amenities]]", table: nil, key: "amenities") }
            for (i, item) in array.enumerated() {
                guard let table = item.table else { throw doc.error("amenities must be an array of tables [[amenities]]", table: nil, key: "amenities") }
                var a = TOMLSection(document: doc, table: table, name: "amenities", index: i)
                let kind = try a.requiredString("kind")
                guard AmenityEventDetail.isValidAmenityID(Substring(kind)) else { throw a.fail("kind", "expected lower-case letters, digits, '_' or '-', got \"\(kind)\"") }
                let amenityID = try a.string("id") ?? kind
                guard AmenityEventDetail.isValidAmenityID(Substring(amenityID)) else {
                    throw a.fail("id", "expected 1 to 32 lower-case letters, digits, '_' or '-', got \"\(amenityID)\"")
                }
                if amenities.contains(where: { $0.id == amenityID }) {
                    throw a.fail(try a.string("id") == nil ? "kind" : "id", "\"\(amenityID)\" is used by another amenity (give each an id)")
                }
                let zh = try a.string("name_zh"), en = try a.string("name_en")
                if AmenityCatalogue.names[kind] == nil && (zh == nil || en == nil) {
                    throw a.fail("kind", "\"\(kind)\" is not a known kind (\(AmenityCatalogue.names.keys.sorted().joined(separator: ", "))): give name_zh and name_en")
                }
                try a.rejectUnknownKeys()
                amenities.append(AmenityDefinition(id: amenityID, kind: kind, nameZh: zh, nameEn: en))
            }
        }

        var configuration = StationConfiguration(file: file, station: station, http: http, regionKeyFile: regionKeyFile, policy: policy,
                                                 readers: readers, uplink: uplink, storage: storage, logLevel: logLevel)
        configuration.amenities = amenities
        return configuration
    }

    /// Reads the region key file (raw bytes, or 64 hex characters).
    public func loadCardKeyer() throws(ConfigurationError) -> CardKeyer {
        guard let data = FileManager.default.contents(atPath: regionKeyFile) else {
            throw ConfigurationError(file: file, line: nil, message: "[privacy] region_key_file: cannot read \(regionKeyFile)")
        }
        var bytes = [UInt8](data)
        if let text = String(data: data, encoding: .utf8)?.trimmingCharacters(in: .whitespacesAndNewlines),
           text.count >= 32, text.count % 2 == 0, text.allSatisfy({ $0.isASCII && $0.isHexDigit }) {
            var decoded: [UInt8] = []
            var it = text.makeIterator()
            while let a = it.next(), let b = it.next() { decoded.append(UInt8(String([a, b]), radix: 16)!) }
            bytes = decoded
        }
        do {
            return try CardKeyer(regionKey: bytes)
        } catch {
            throw ConfigurationError(file: file, line: nil, message: "[privacy] region_key_file \(regionKeyFile): \(error.description)")
        }
    }
}
