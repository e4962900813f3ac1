import AsyncHTTPClient
import Foundation
import NIOCore
import YizhanCollector
import YizhanCore

extension AnalyticsBench {
    // MARK: the dashboard's pages

    /// One page kind: its label and its address for the i-th asking.
    struct PageQuestion: Sendable {
        var label: String
        var path: @Sendable (Int) -> String
    }

    struct PageFigures { var samples: [String: [Double]] = [:]; var bytes: [String: Int] = [:] }

    /// The region pages from the nation down to a station, each over the history's last 30
    /// days by day (the page's default length), as an office user logged in through the form
    /// sees them: every page is a whole render (headline, charts, child regions, rankings,
    /// map), so this is what "a national page renders in well under a second" is measured by.
    static let pageLabels = ["nation page", "province page", "city page", "district page", "station page"]

    func pageQuestions(_ network: Network) -> [PageQuestion] {
        let period = "from=\(dateText(network.dayStart(max(0, network.days - 30))))&to=\(dateText(network.dayStart(network.days - 1)))&bucket=day"
        let n = network
        return [
            PageQuestion(label: "nation page") { _ in "/?\(period)" },
            PageQuestion(label: "province page") { _ in "/?region=\(encode(n.province))&\(period)" },
            PageQuestion(label: "city page") { i in "/?region=\(encode(n.cities[i % n.cities.count]))&\(period)" },
            PageQuestion(label: "district page") { i in "/?region=\(encode(n.districts[i % n.districts.count]))&\(period)" },
            PageQuestion(label: "station page") { i in "/stations/\(encode(n.id(i * 37 % n.stations)))?\(period)" },
        ]
    }

    /// Adds an office user with a password (through `yizhan-collector user add`, as an
    /// operator would), logs in through the form and times each page.
    func askPages(_ collector: CollectorBench.Collector, _ network: Network, dir: String) async throws -> PageFigures {
        let name = "bench-pages-\(UUID().uuidString.prefix(8).lowercased())", password = "bench-pages-password-1"
        let admin = dir + "/admin-pages.toml"
        FileManager.default.createFile(atPath: admin, contents: Data("[storage]\nurl = \"\(collector.storage)\"\n".utf8))
        _ = try CollectorBench.addOfficeUser(binDir: bench.binDir, config: admin, name: name, password: password)

        // The login answers 303 with the cookie: a client that does not follow it.
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(120))
        let browser = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        defer { Task { try? await browser.shutdown() } }
        var login = HTTPClientRequest(url: collector.url + "/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        login.body = .bytes(ByteBuffer(string: "name=\(name)&password=\(password)"))
        let answer = try await browser.execute(login, timeout: .seconds(30))
        _ = try await answer.body.collect(upTo: 1 << 20)
        guard answer.status == .seeOther, let cookie = answer.headers["Set-Cookie"].first?.split(separator: ";").first else {
            throw BenchError("dashboard login answered \(answer.status)")
        }
        func get(_ path: String) async throws -> (seconds: Double, bytes: Int) {
            var request = HTTPClientRequest(url: collector.url + path)
            request.headers.add(name: "Cookie", value: String(cookie))
            let start = ContinuousClock.now
            let response = try await browser.execute(request, timeout: .seconds(120))
            let body = try await response.body.collect(upTo: 256 << 20)
            let elapsed = seconds(ContinuousClock.now - start)
            guard response.status == .ok else { throw BenchError("GET \(path): \(response.status) \(String(buffer: body).prefix(300))") }
            return (elapsed, body.readableBytes)
        }
        // Every station heartbeats once first, as a live network's have: each page shows their
        // live state (online, inside, seats, amenities), which the collector reads and decodes.
        let beat = ContinuousClock.now, url = collector.url
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<network.stations {
                if s >= 32 { try await group.next() }
                let id = network.id(s)
                group.addTask {
                    let time = RFC3339.format(Timestamp.now(), offset: .china)
                    var r = HTTPClientRequest(url: url + "/api/v1/ingest/heartbeat")
                    r.method = .POST
                    r.headers.add(name: "Authorization", value: "Bearer yzs_an_\(s)")
                    r.headers.add(name: "Content-Type", value: "application/json")
                    r.body = .bytes(ByteBuffer(string: #"{"station_id":"\#(id)","time":"\#(time)","occupancy":\#(s % 31),"capacity":30,"open":true,"readers":[{"name":"door","state":"up"}],"amenities":{"microwave":"ok","water_dispenser":"ok","toilet":"\#(s % 9 == 0 ? "out_of_order" : "ok")"},"backlog":0,"last_ack":0,"last_seq":0,"version":"0.1.\#(s % 3)"}"#))
                    let response = try await CollectorBench.http.execute(r, timeout: .seconds(30))
                    _ = try await response.body.collect(upTo: 1 << 20)
                    guard response.status.code < 300 else { throw BenchError("heartbeat of \(id): \(response.status)") }
                }
            }
            try await group.waitForAll()
        }
        say("  a heartbeat from each of the \(network.stations) stations in \(String(format: "%.1f", seconds(ContinuousClock.now - beat))) s")
        if options.settleSeconds > 0 {
            say("  leaving the collector \(options.settleSeconds) s to read them")
            try await Task.sleep(for: .seconds(options.settleSeconds))
        }
        let repeats = options.only != nil ? options.repeats : max(1, min(options.repeats, 10))
        say("the dashboard's pages over HTTP (logged in through the form, last 30 days by day), \(repeats)× each")
        var figures = PageFigures()
        for page in pageQuestions(network) where options.only.map({ page.label.contains($0) }) ?? true {
            _ = try await get(page.path(0))  // its first render warms the collector's caches
            var samples: [Double] = []
            for i in 0..<repeats {
                let (s, bytes) = try await get(page.path(i))
                samples.append(s)
                figures.bytes[page.label] = max(figures.bytes[page.label] ?? 0, bytes)
            }
            figures.samples[page.label] = samples.sorted()
        }
        return figures
    }
}

extension AnalyticsBench {
    /// The pages' table; the goal's line (nil when no page was asked).
    @discardableResult
    func reportPages(_ f: PageFigures, _ network: Network) -> (String, Bool)? {
        guard !f.samples.isEmpty else { return nil }
        // "Well under a second", read as half a second for the slowest render.
        say("")
        say("| page (last 30 days by day) | p50 | slowest | HTML | slowest < 0.5 s |")
        say("| --- | --- | --- | --- | --- |")
        var slowest = 0.0
        for page in pageQuestions(network) {
            guard let s = f.samples[page.label], let top = s.last else { continue }
            slowest = max(slowest, top)
            say("| \(page.label) | \(ms(p(s, 0.5))) | \(ms(top)) | \(fmt(Double(f.bytes[page.label] ?? 0) / 1024)) KB | \(top < 0.5 ? "yes" : "**no**") |")
        }
        return ("every dashboard page well under a second (slowest \(ms(slowest)), against 0.5 s)", slowest < 0.5)
    }
}
