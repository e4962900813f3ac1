import AsyncHTTPClient
import Foundation
import NIOCore
import Testing
import YizhanCore
import YizhanTestSupport
@testable import YizhanStation

/// The kiosk over real HTTP: the page, its live feed and its two posts.
@Suite(.serialized) struct KioskTests {
    let dir = TemporaryDirectory()
    let amenities = "[[amenities]]\nkind = \"microwave\"\n[[amenities]]\nkind = \"toilet\"\n"

    func post(_ station: StationRuntime, _ path: String, _ body: String, contentType: String = "application/json",
              origin: String? = nil) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(station.boundTCPPort!)\(path)")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        if let origin { request.headers.add(name: "Origin", value: origin) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// A card at the door, as the ID-card driver reports it (the name already masked).
    func swipe(_ station: StationRuntime, _ number: String, name: String? = nil) async throws {
        let before = try station.allEvents().count
        station.recorder.reader("door", signalled: .card(NormalizedCardNumber(number), displayName: name.map(maskedName)), at: .now())
        try await eventually("swipe committed") { try station.allEvents().count > before }
    }

    @Test func thePageIsSelfContainedAndTheStateHoldsNothingPrivate() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            let page = try await get(station, "/kiosk")
            #expect(page.status == 200)
            #expect(page.body.contains("<html lang=\"zh-CN\">") && page.body.contains("测试站"))
            // No external assets: nothing fetched from anywhere but this page's own origin.
            #expect(page.body.range(of: #"(src|href)=["']?(https?:)?//"#, options: .regularExpression) == nil)
            #expect(!page.body.contains("@import") && !page.body.contains("url("))
            try await swipe(station, "11010519491231002X", name: "张三丰")
            let state = try await get(station, "/kiosk/state")
            #expect(state.body.contains("\"occupancy\":1") && state.body.contains("\"name_zh\":\"微波炉\""))
            for secret in ["11010519491231002X", "1101**", "张三丰", "card_key"] { #expect(!state.body.contains(secret)) }
        }
    }

    @Test func theFeedAnnouncesASwipeAndTheNewStateWithoutAReload() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(station.boundTCPPort!)/kiosk/events")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
            var received = ""
            var iterator = response.body.makeAsyncIterator()
            func readUntil(_ needle: String) async throws {
                while !received.contains(needle), let chunk = try await iterator.next() { received += String(buffer: chunk) }
            }
            try await readUntil("\"occupancy\":0")
            try await swipe(station, "11010519491231002X", name: "张三丰")
            try await readUntil("event: swipe")
            try await readUntil("\"occupancy\":1")
            #expect(received.contains(#""kind":"check_in","name":"张**""#), "\(received)")
            #expect(!received.contains("张三丰") && !received.contains("11010519491231002X"))
            try await swipe(station, "11010519491231002X", name: "张三丰")
            try await readUntil("\"rating_seconds\":60")
        }
    }

    /// Live streams are never idle, so they are capped: past the cap a stream is refused
    /// with 503 and the station still answers everything else.
    @Test func kioskStreamsAreCappedAndTheStationStillAnswers() async throws {
        let config = writeConfig(in: dir, readers: amenities)
        try await withStation(configPath: config) { station in
            let port = station.boundTCPPort!
            let cap = station.kiosk.maximumSubscribers
            var streams: [RawConnection] = []
            for _ in 0..<cap {
                let c = try RawConnection(port: port)
                try c.send("GET /kiosk/events HTTP/1.1\r\nHost: x\r\n\r\n")
                streams.append(c)
            }
            try await eventually("\(cap) streams open") { station.kiosk.count == cap }
            let refused = try RawConnection(port: port)
            try refused.send("GET /kiosk/events HTTP/1.1\r\nHost: x\r\n\r\n")
            let answer = await refused.readResponse(within: .seconds(10)) ?? ""
            #expect(status(of: answer) == 503 && answer.contains("too_many_streams") && answer.lowercased().contains("retry-after: 10"), "\(answer)")
            #expect(try await get(station, "/healthz").status == 200)
            #expect(try await get(station, "/kiosk").status == 200)
            // A screen that goes away frees its place.
            streams.removeFirst()
            try await eventually("a stream closed") { station.kiosk.count == cap - 1 }
            let next = try RawConnection(port: port)
            try next.send("GET /kiosk/events HTTP/1.1\r\nHost: x\r\n\r\n")
            if case .data(let head) = await next.read(within: .seconds(10)) { #expect(head.hasPrefix("HTTP/1.1 200")) } else { Issue.record("no answer") }
        }
    }

    @Test func reportsAndRatingsFromTheKioskOnlyAndWithinReason() async throws {
        let config = writeConfig(in: dir, readers: amenities, visits: "debounce_seconds = 0")
        try await withStation(configPath: config) { station in
            #expect(try await post(station, "/kiosk/report", #"{"amenity":"microwave"}"#, contentType: "application/x-www-form-urlencoded").status == 415)
            #expect(try await post(station, "/kiosk/report", #"{"amenity":"microwave"}"#, origin: "http://evil.example").status == 403)
            #expect(try await post(station, "/kiosk/report", #"{"amenity":"sauna"}"#).status == 404)
            #expect(try await post(station, "/kiosk/report", "{not json").status == 400)
            let first = try await post(station, "/kiosk/report", #"{"amenity":"microwave"}"#)
            #expect(first.status == 201, "\(first.body)")
            let again = try await post(station, "/kiosk/report", #"{"amenity":"microwave"}"#)
            #expect(again.status == 200 && again.body.contains("already_reported"))
            #expect(station.recorder.amenities.entry("microwave")?.openReports == 1)
            // A rating needs a check-out just before it, and only one.
            #expect(try await post(station, "/kiosk/rating", #"{"score":5}"#).status == 422)
            try await swipe(station, "11010519491231002X")
            try await swipe(station, "11010519491231002X")
            try await eventually("checked out") { try station.kinds().contains(.checkOut) }
            #expect(try await post(station, "/kiosk/rating", #"{"score":5}"#).status == 201)
            #expect(try await post(station, "/kiosk/rating", #"{"score":5}"#).status == 422)
            #expect(try station.kinds().filter { $0 == .rating }.count == 1)
        }
    }
}
