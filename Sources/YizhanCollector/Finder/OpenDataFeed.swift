import CompressNIO
import Crypto
import NIOCore
import YizhanCore

/// `/open/v1/stations.geojson` as bytes, encoded once per index (and at most once every
/// `minimumInterval`, however often the index changes) and served to every client as it is,
/// with a strong ETag from its content: a conditional GET costs a string compare.
///
/// Written by hand rather than with `JSONEncoder`: 200,000 stations are tens of megabytes,
/// and this is the hot path of a rebuild.
struct OpenDataFeed: Sendable {
    /// The networks up to this size get a feed that follows the stations every second.
    static let smallNetwork = 10_000

    /// How old the feed a map provider gets may be (`Cache-Control: max-age`): 10 s for a
    /// small network; a minute for a large one, whose feed is tens of megabytes that every map
    /// client fetches again whenever it changes (measured: at 200,000 stations, 67 MB to
    /// each client every 10 s was the largest remaining cost of the public endpoints under
    /// load). Live free seats a minute old are fine for a map; `/find` and `nearby` follow
    /// heartbeats within a second.
    static func maximumAge(stations: Int) -> Duration { stations <= smallNetwork ? .seconds(10) : .seconds(60) }

    /// How often the feed may be encoded again: every second for a small network (a few
    /// megabytes), once per `maximumAge` for a large one.
    static func minimumInterval(stations: Int) -> Duration { stations <= smallNetwork ? .seconds(1) : maximumAge(stations: stations) }

    let generation: UInt64
    /// How many stations it holds.
    let count: Int
    let builtAt: Timestamp
    let body: ByteBuffer
    /// `"` + 32 hex digits of SHA-256 of the body + `"`.
    let etag: String
    /// The same body gzip'd, for the clients that accept it (every map provider does). At
    /// 200,000 stations the feed is 67 MB and sending it whole to a few map clients at once
    /// was the public endpoints' whole p99 tail (docs/benchmarks.md); gzip'd it is a tenth.
    /// nil when compression failed (the plain body is served).
    let gzipped: ByteBuffer?
    /// The gzip'd representation's own ETag (RFC 9110: each representation has its own).
    var gzipETag: String { String(etag.dropLast()) + "-gz\"" }

    init(_ index: FinderIndex, now: Timestamp, offlineAfter: Duration, offset: UTCOffset = .china) {
        generation = index.generation
        count = index.stations.count
        builtAt = now
        var out: [UInt8] = []
        out.reserveCapacity(index.stations.count * 360 + 64)
        out += Array(#"{"type":"FeatureCollection","features":["#.utf8)
        // By id (the index keeps them so): equal content gives equal bytes, an equal ETag.
        for (i, s) in index.stations.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            Self.feature(s, into: &out, now: now, offlineAfter: offlineAfter, offset: offset)
        }
        out += Array("]}".utf8)
        body = ByteBuffer(bytes: out)
        etag = "\"" + Hex.encode(Array(SHA256.hash(data: out)).prefix(16)) + "\""
        gzipped = Self.gzip(body)
    }

    /// zlib's fastest level: GeoJSON's repetitive keys compress about tenfold even so, and a
    /// large network's feed is compressed every minute on the background thread.
    static func gzip(_ body: ByteBuffer) -> ByteBuffer? {
        var input = body
        guard let compressed = try? input.compress(with: .gzip(configuration: ZlibConfiguration(compressionLevel: 1))) else { return nil }
        // compress(with:) allocates deflate's bound (the input's size, 67 MB at 200,000
        // stations) and the answer would keep all of it: copied to a buffer of its own size.
        return ByteBuffer(bytes: compressed.readableBytesView)
    }

    static func feature(_ s: FinderStation, into out: inout [UInt8], now: Timestamp, offlineAfter: Duration, offset: UTCOffset) {
        func raw(_ text: String) { out += Array(text.utf8) }
        raw(#"{"type":"Feature","geometry":{"type":"Point","coordinates":["#)
        raw("\(s.longitude),\(s.latitude)]},\"properties\":{\"id\":")
        JSONText.string(s.id, into: &out)
        raw(",\"name\":"); JSONText.string(s.name, into: &out)
        raw(",\"address\":"); if let a = s.address { JSONText.string(a, into: &out) } else { raw("null") }
        raw(",\"region\":"); JSONText.string(s.region, into: &out)
        let online = s.isOnline(now: now, offlineAfter: offlineAfter)
        raw(",\"open\":\(online && s.open),\"capacity\":\(s.capacity),\"free_seats\":")
        raw(s.freeSeats(now: now, offlineAfter: offlineAfter).map(String.init) ?? "null")
        raw(",\"opening_hours\":")
        if let hours = s.openingHours {
            out.append(UInt8(ascii: "["))
            for (i, h) in hours.enumerated() { if i > 0 { raw(",") }; JSONText.string(h, into: &out) }
            out.append(UInt8(ascii: "]"))
        } else { raw("null") }
        raw(",\"amenities\":{")
        for (i, kind) in s.amenities.keys.sorted().enumerated() {
            if i > 0 { raw(",") }
            JSONText.string(kind, into: &out); raw(":"); JSONText.string(s.amenities[kind]!.rawValue, into: &out)
        }
        raw("},\"updated\":")
        if let seen = s.lastSeen { JSONText.string(RFC3339.format(seen, offset: offset), into: &out) } else { raw("null") }
        raw("}}")
    }
}

/// JSON string literals, escaped as RFC 8259 asks (quote, backslash, control characters),
/// and numbers as `JSONEncoder` writes them.
enum JSONText {
    /// The shortest text that reads back as `value`, without a trailing `.0` (`122`, `29.95`).
    static func number(_ value: Double) -> String {
        let text = value.description
        return text.hasSuffix(".0") ? String(text.dropLast(2)) : text
    }

    static func string(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): out += [92, 34]
            case UInt8(ascii: "\\"): out += [92, 92]
            case 0x0A: out += [92, UInt8(ascii: "n")]
            case 0x0D: out += [92, UInt8(ascii: "r")]
            case 0x09: out += [92, UInt8(ascii: "t")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
