import Foundation
import Testing
import YizhanCollector
import YizhanCore
import YizhanSimulator

let chromiumPath: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// With YIZHAN_SCREENSHOTS=DIR, the browser tests leave their screenshots there to look at.
func keepScreenshot(_ path: String) {
    guard let dir = ProcessInfo.processInfo.environment["YIZHAN_SCREENSHOTS"] else { return }
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let target = dir + "/" + (path as NSString).lastPathComponent
    try? FileManager.default.removeItem(atPath: target)
    try? FileManager.default.copyItem(atPath: path, toPath: target)
}

/// Width and height from a PNG's IHDR chunk.
func pngSize(_ path: String) -> (Int, Int)? {
    guard let d = FileManager.default.contents(atPath: path), d.count > 24, d.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
    let b = [UInt8](d[16..<24])
    return (Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3]), Int(b[4]) << 24 | Int(b[5]) << 16 | Int(b[6]) << 8 | Int(b[7]))
}

@Suite(.serialized, .enabled(if: chromiumPath != nil, "needs chromium (make deps installs it)"))
struct KioskBrowserTests {
    let s = Scratch()

    func startStation() async throws -> (StationProcess, SimulatedLineReader, String) {
        let line = try SimulatedLineReader(link: s.file("line"))
        let config = writeStationConfig(s, readers: [("counter", "line", s.file("line"))], extra: "", tables: """
            [[amenities]]
            kind = "air_conditioner"
            [[amenities]]
            kind = "microwave"
            [[amenities]]
            kind = "water_dispenser"
            [[amenities]]
            kind = "phone_charging"
            [[amenities]]
            kind = "toilet"
            [[amenities]]
            kind = "nursing_room"
            [[amenities]]
            kind = "umbrella_loan"
            """)
        let station = try StationProcess(config: config, logPath: s.file("station.log"))
        try await station.waitUntilServing()
        let port = try #require(station.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })
        _ = try ctl(config, ["amenity", "microwave", "out_of_order", "--note", "门关不上"])
        return (station, line, "http://127.0.0.1:\(port)/kiosk")
    }

    /// The page's own layout check, the language, what is on screen, accessible names and
    /// contrast, in both orientations at 1080p and both languages; screenshots of each.
    @Test func theKioskRendersInBothLanguagesAndFitsPortraitAndLandscape() async throws {
        let (station, line, url) = try await startStation()
        defer { line.close(); _ = station.terminate() }
        for (width, height) in [(1080, 1920), (1920, 1080)] {
            let shots = s
            try await DevToolsPage.with(width: width, height: height) { page in
                for lang in ["zh", "en"] {
                    try await page.navigate(url + "?lang=\(lang)")
                    try await page.waitFor("document.body.dataset.overflow !== undefined && document.querySelectorAll('.tile').length === 7")
                    #expect(try await page.string("document.body.dataset.overflow") == "none", "\(width)x\(height) \(lang): something sticks out")
                    #expect(try await page.string("document.documentElement.lang") == (lang == "zh" ? "zh-CN" : "en"))
                    let text = try await page.string("document.body.innerText")
                    #expect(text.contains("端到端测试站") && text.contains("0 / 500"))
                    #expect(text.contains(lang == "zh" ? "微波炉" : "Microwave") && text.contains(lang == "zh" ? "故障" : "Out of order"))
                    #expect(text.contains(lang == "zh" ? "在站人数" : "People inside"))
                    // Every button has an accessible name; body text is at least 7:1 against its background.
                    #expect(try await page.evaluate("[...document.querySelectorAll('button')].every(b => (b.textContent.trim() || b.getAttribute('aria-label')))") as? Bool == true)
                    let contrast = try await page.evaluate(Self.contrastScript) as? Double ?? 0
                    #expect(contrast >= 7, "contrast \(contrast)")
                    try await page.screenshot(to: shots.file("kiosk-\(width)x\(height)-\(lang).png"))
                    keepScreenshot(shots.file("kiosk-\(width)x\(height)-\(lang).png"))
                    #expect(pngSize(shots.file("kiosk-\(width)x\(height)-\(lang).png")).map { $0 == (width, height) } == true)
                }
                // Nothing but the station itself was asked for anything.
                #expect(!page.requests.isEmpty)
                #expect(page.requests.allSatisfy { $0.hasPrefix(url.replacingOccurrences(of: "/kiosk", with: "/")) }, "\(page.requests)")
            }
        }
    }

    /// The kiosk answers a swipe and a report on the same page: no reload (a marker set on
    /// the page survives), the outcome shown, the count changed, the report recorded.
    @Test func aSwipeAndAReportChangeThePageWithoutAReload() async throws {
        let (station, line, url) = try await startStation()
        defer { line.close(); _ = station.terminate() }
        let config = station.config
        try await DevToolsPage.with(width: 1080, height: 1920) { page in
            try await page.navigate(url)
            try await page.waitFor("document.getElementById('count').textContent === '0 / 500'")
            _ = try await page.evaluate("window.yizhanMarker = 42")
            line.present(number: "1234567890", name: "")
            try await page.waitFor("document.getElementById('overlay').classList.contains('show')")
            #expect(try await page.string("document.getElementById('message').textContent").contains("已签到"))
            try await page.waitFor("document.getElementById('count').textContent === '1 / 500'")
            #expect(try await page.evaluate("window.yizhanMarker") as? Int == 42, "the page was not reloaded")
            // Report the broken microwave by touch.
            _ = try await page.evaluate("document.getElementById('overlay').classList.remove('show')")
            _ = try await page.evaluate("document.getElementById('report').click()")
            try await page.waitFor("document.getElementById('dialog').classList.contains('show')")
            _ = try await page.evaluate("document.querySelector('#choices button[data-id=microwave]').click()")
            try await page.waitFor("getComputedStyle(document.getElementById('thanks')).display === 'block'")
        }
        try await eventually("the report is in the log") {
            try logLines(config, ["--kind", "fault_report"]).first?["detail"] as? String == "amenity=microwave"
        }
    }

    /// The lowest contrast ratio between the text colour and the page background among
    /// the kiosk's text elements (WCAG relative luminance).
    static let contrastScript = """
        (() => {
          const lum = (c) => { const [r, g, b] = c.match(/\\d+/g).slice(0, 3).map(Number).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
          const bg = lum(getComputedStyle(document.body).backgroundColor);
          const ratios = [...document.querySelectorAll('h1, .count, .label, .tile .n, #hours')].map(el => { const l = lum(getComputedStyle(el).color); return (Math.max(l, bg) + 0.05) / (Math.min(l, bg) + 0.05); });
          return Math.min(...ratios);
        })()
        """
}

/// Runs a tool with `input` on its standard input.
func runWithInput(_ tool: String, _ args: [String], input: String) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binDir + "/" + tool)
    p.arguments = args
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    p.standardInput = stdin; p.standardOutput = stdout; p.standardError = stderr
    try p.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    p.waitUntilExit()
    return CommandResult(status: p.terminationStatus,
                         stdout: String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
                         stderr: String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

@Suite(.serialized, .enabled(if: chromiumPath != nil, "needs chromium (make deps installs it)"))
struct ManagerBrowserTests {
    let s = Scratch()

    /// A manager set up with yizhanctl logs in with the browser's own form, sees the
    /// overview, marks an amenity broken, and reads the log; the pages fit a laptop screen.
    @Test func aManagerLogsInAndWorksThroughTheForms() async throws {
        let line = try SimulatedLineReader(link: s.file("line"))
        defer { line.close() }
        let config = writeStationConfig(s, readers: [("counter", "line", s.file("line"))], tables: "[[amenities]]\nkind = \"microwave\"\n")
        let station = try StationProcess(config: config, logPath: s.file("station.log"))
        defer { _ = station.terminate() }
        try await station.waitUntilServing()
        let port = try #require(station.log.firstMatch(of: /listening on http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })
        let weak = try runWithInput("yizhanctl", ["manager", "add", "--config", config, "--name", "li"], input: "short\n")
        #expect(weak.status == 1 && weak.stderr.contains("at least 8 characters"))
        let added = try runWithInput("yizhanctl", ["manager", "add", "--config", config, "--name", "li"], input: "correct horse battery\n")
        #expect(added.status == 0, "\(added.stderr)")
        #expect(!(try String(contentsOfFile: station.logPath, encoding: .utf8)).contains("correct horse"))
        line.present(number: "1234567890", name: "")
        let base = "http://127.0.0.1:\(port)"
        try await DevToolsPage.with(width: 1366, height: 768) { page in
            try await page.navigate(base + "/manage")
            try await page.waitFor("location.pathname === '/manage/login' && !!document.getElementById('password')")
            #expect(try await page.string("document.documentElement.lang") == "zh-CN")
            _ = try await page.evaluate("""
                document.getElementById('name').value = 'li'; document.getElementById('password').value = 'correct horse battery';
                document.querySelector('form.login').submit()
                """)
            try await page.waitFor("location.pathname === '/manage' && document.body.innerText.includes('读卡器 Readers')")
            #expect(try await page.string("document.body.innerText").contains("1 / 500"))
            // Every form field has a label.
            let labelled = try await page.evaluate(#"[...document.querySelectorAll('input:not([type=hidden]), select')].every(i => document.querySelector(`label[for="${i.id}"]`))"#)
            #expect(labelled as? Bool == true)
            _ = try await page.evaluate("""
                document.getElementById('status-microwave').value = 'out_of_order'; document.getElementById('note-microwave').value = '门关不上';
                document.querySelector('form[action="/manage/amenity"]').submit()
                """)
            try await page.waitFor("document.querySelector('td.amenity-out_of_order') !== null")
            try await page.navigate(base + "/manage/log")
            try await page.waitFor("document.body.innerText.includes('check_in')")
            #expect(try await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true, "the log fits the width")
            #expect(page.requests.allSatisfy { $0.hasPrefix(base) || $0.hasPrefix("data:") }, "\(page.requests)")  // data: is the browser's own date-picker icon
        }
        let detail = try logLines(config, ["--kind", "amenity"]).first?["detail"] as? String
        #expect(detail == "amenity=microwave status=out_of_order by=li note=门关不上")
    }
}

@Suite(.serialized, .enabled(if: chromiumPath != nil, "needs chromium (make deps installs it)"))
struct DashboardBrowserTests {
    let s = Scratch()

    /// Stations in three cities of two provinces, added with the CLI; a week of visits at
    /// the first; live states written as the heartbeat flusher writes them.
    func collectorWithARegionalNetwork() async throws -> (CollectorProcess, String) {
        let config = s.file("collector.toml")
        FileManager.default.createFile(atPath: config, contents: Data("""
            [http]
            listen = "127.0.0.1:0"
            [storage]
            url = "sqlite://\(s.file("collector.db"))"
            [ingest]
            offline_after_seconds = 86400
            """.utf8))
        let stations: [(id: String, name: String, region: String, lat: String, lon: String)] = [
            ("pt-1", "普工e家·沈家门站", "浙江省/舟山市/普陀区/沈家门街道", "29.95", "122.30"),
            ("pt-2", "东港骑手之家", "浙江省/舟山市/普陀区/东港街道", "29.93", "122.33"),
            ("dh-1", "定海卡友之家", "浙江省/舟山市/定海区/解放街道", "30.02", "122.10"),
            ("hz-1", "西湖驿站", "浙江省/杭州市/西湖区/北山街道", "30.25", "120.15"),
            ("gz-1", "天河驿站", "广东省/广州市/天河区/石牌街道", "23.13", "113.32"),
        ]
        for st in stations {
            let added = try run("yizhan-collector", ["station", "add", "--config", config, "--id", st.id, "--name", st.name, "--district", "区",
                                                     "--region", st.region, "--address", "\(st.name)门口", "--capacity", "12",
                                                     "--lat", st.lat, "--lon", st.lon])
            #expect(added.status == 0, "\(added.stderr)")
        }
        let user = try runWithInput("yizhan-collector", ["user", "add", "--config", config, "--name", "office", "--role", "office"],
                                    input: "correct horse battery\n")
        #expect(user.status == 0, "\(user.stderr)")
        let zs = try runWithInput("yizhan-collector", ["user", "add", "--config", config, "--name", "zs", "--role", "office", "--region", "浙江省/舟山市"],
                                  input: "correct horse battery\n")
        #expect(zs.status == 0, "\(zs.stderr)")
        // A few days of visits, stored as ingest stores them: 100 at pt-1, 10 at each other station.
        let store = try SQLiteCollectorStore(path: s.file("collector.db"))
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        for st in stations {
            let count = st.id == "pt-1" ? 200 : 20
            var events: [IngestedEvent] = []
            for i in 0..<count {
                let t = now - .seconds(Int64(count - i) * 3000)
                events.append(IngestedEvent(seq: Int64(i + 1), time: t, kind: i % 2 == 0 ? "check_in" : "check_out",
                                            cardKey: String(repeating: String(i % 7), count: 64), reader: "door", occupancy: i % 2 == 0 ? 1 : 0,
                                            staySeconds: i % 2 == 0 ? nil : 1500, detail: nil))
            }
            _ = try await store.ingest(station: st.id, events: events)
        }
        // Live: pt-1 online with a broken microwave, pt-2 full, dh-1 online; the others never reported.
        try await store.recordHeartbeats([
            HeartbeatRecord(station: "pt-1", at: now, occupancy: 3, live: LiveState(open: true, capacity: 12, amenities: ["microwave": .outOfOrder],
                                                                                     readers: [], backlog: 0, lastSeq: 200, version: "1", clockSkewSeconds: 0)),
            HeartbeatRecord(station: "pt-2", at: now, occupancy: 12, live: LiveState(open: true, capacity: 12, amenities: [:], readers: [], backlog: 0,
                                                                                      lastSeq: 20, version: "1", clockSkewSeconds: 0)),
            HeartbeatRecord(station: "dh-1", at: now, occupancy: 1, live: LiveState(open: true, capacity: 12, amenities: [:], readers: [], backlog: 0,
                                                                                     lastSeq: 20, version: "1", clockSkewSeconds: 0)),
        ])
        try await store.close()
        let collector = try CollectorProcess(config: config, logPath: s.file("collector.log"))
        return (collector, "http://127.0.0.1:\(try await collector.listeningPort())")
    }

    func logIn(_ page: DevToolsPage, _ base: String, as name: String) async throws {
        try await page.navigate(base + "/")
        try await page.waitFor("location.pathname === '/login' && !!document.getElementById('password')")
        _ = try await page.evaluate("""
            document.getElementById('name').value = '\(name)'; document.getElementById('password').value = 'correct horse battery';
            document.querySelector('form.login').submit()
            """)
        try await page.waitFor("location.pathname === '/' && !!document.querySelector('.crumbs')")
    }

    /// The breadcrumb as the reader sees it: `全国 Nation › 浙江省 › 舟山市`.
    static let crumbs = "[...document.querySelectorAll('.crumbs li')].map(li => li.textContent.trim()).join(' › ')"
    /// The headline figure for visits, as shown.
    static let visits = "[...document.querySelectorAll('.headlines tr')].find(tr => tr.textContent.includes('到访 Visits')).querySelector('td').textContent.trim()"

    /// An office user made with the CLI logs in through the form and reads the dashboard at
    /// national, city and station scope (drilling down by the links), at both screen
    /// shapes, with nothing off the machine; a region user starts at their region.
    @Test func theOfficeLogsInAndReadsTheDashboardFromTheNationToAStation() async throws {
        let (collector, base) = try await collectorWithARegionalNetwork()
        defer { collector.kill9() }
        for (width, height) in [(1920, 1080), (1080, 1920)] {
            let shots = s
            try await DevToolsPage.with(width: width, height: height) { page in
                try await logIn(page, base, as: "office")
                func shoot(_ name: String) async throws {
                    #expect(try await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true,
                            "\(name) \(width)x\(height): no sideways scrolling")
                    let file = shots.file("dashboard-\(name)-\(width)x\(height).png")
                    try await page.screenshot(to: file)
                    keepScreenshot(file)
                    #expect(pngSize(file).map { $0 == (width, height) } == true)
                }
                // National: the provinces, 140 visits in all, the map of five stations.
                try await page.waitFor("document.querySelectorAll('svg.chart').length === 6")
                #expect(try await page.string(Self.crumbs) == "全国 Nation")
                #expect(try await page.string(Self.visits) == "140")
                let national = try await page.string("document.body.innerText")
                #expect(national.contains("浙江省") && national.contains("广东省") && national.contains("省 Province"))
                #expect(try await page.evaluate("document.querySelectorAll('svg.map a').length") as? Int == 5)
                #expect(national.contains("在线 online: 1") && national.contains("满员 full: 1") && national.contains("设施故障 amenity fault: 1")
                        && national.contains("离线 offline: 2"), "the legend in words")
                try await shoot("national")
                // City: follow the links down, as the office would.
                _ = try await page.evaluate("[...document.querySelectorAll('table.children a')].find(a => a.textContent === '浙江省').click()")
                try await page.waitFor("document.querySelector('.crumbs [aria-current]')?.textContent === '浙江省'")
                _ = try await page.evaluate("[...document.querySelectorAll('table.children a')].find(a => a.textContent === '舟山市').click()")
                try await page.waitFor("document.querySelector('.crumbs [aria-current]')?.textContent === '舟山市'")
                #expect(try await page.string(Self.crumbs) == "全国 Nation › 浙江省 › 舟山市")
                #expect(try await page.string(Self.visits) == "120")
                let city = try await page.string("document.body.innerText")
                #expect(city.contains("普陀区") && city.contains("定海区") && !city.contains("西湖驿站") && city.contains("区县 District"))
                #expect(try await page.evaluate("document.querySelectorAll('svg.map a').length") as? Int == 3)
                try await shoot("city")
                // Station: through the ranking.
                _ = try await page.evaluate("[...document.querySelectorAll('table.ranking a')].find(a => a.textContent === '普工e家·沈家门站').click()")
                try await page.waitFor("location.pathname === '/stations/pt-1' && document.querySelectorAll('svg.chart').length === 6")
                #expect(try await page.string(Self.crumbs) == "全国 Nation › 浙江省 › 舟山市 › 普陀区 › 沈家门街道 › 普工e家·沈家门站")
                #expect(try await page.string(Self.visits) == "100")
                let station = try await page.string("document.body.innerText")
                #expect(station.contains("3 / 12") && station.contains("microwave") && station.contains("普工e家·沈家门站门口"))
                try await shoot("station")
                // The period picker is a plain form; its ready-made periods are links that keep the page.
                _ = try await page.evaluate("[...document.querySelectorAll('.presets a')].find(a => a.textContent.startsWith('7 ')).click()")
                try await page.waitFor("document.querySelector('.presets strong')?.textContent.startsWith('7 ') === true")
                #expect(try await page.string("location.pathname") == "/stations/pt-1")
                #expect(try await page.string("document.getElementById('bucket').value") == "day")
                // data: is the browser's own date-picker icon.
                #expect(page.requests.allSatisfy { $0.hasPrefix(base) || $0.hasPrefix("data:") }, "\(page.requests)")
            }
        }
        // A region user lands on their region and is refused the one above it.
        try await DevToolsPage.with(width: 1366, height: 768) { page in
            try await logIn(page, base, as: "zs")
            #expect(try await page.string(Self.crumbs) == "全国 Nation › 浙江省 › 舟山市")
            #expect(try await page.evaluate("document.querySelectorAll('.crumbs a').length") as? Int == 0)
            try await page.navigate(base + "/?region=%E6%B5%99%E6%B1%9F%E7%9C%81")
            try await page.waitFor("document.body.innerText.includes('This region is outside yours.')")
        }
    }
}
