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

    /// An office user made with the CLI logs in through the form, sees the stations and a
    /// station's charts at both screen shapes, with nothing off the machine.
    @Test func theOfficeLogsInAndReadsAStationsCharts() async throws {
        let config = s.file("collector.toml")
        FileManager.default.createFile(atPath: config, contents: Data("""
            [http]
            listen = "127.0.0.1:0"
            [storage]
            url = "sqlite://\(s.file("collector.db"))"
            """.utf8))
        #expect(try run("yizhan-collector", ["station", "add", "--config", config, "--id", "pt-1", "--name", "普工e家·沈家门站",
                                              "--district", "普陀区", "--capacity", "12"]).status == 0)
        let user = try runWithInput("yizhan-collector", ["user", "add", "--config", config, "--name", "office", "--role", "office"],
                                    input: "correct horse battery\n")
        #expect(user.status == 0, "\(user.stderr)")
        // A few days of visits, stored as ingest stores them.
        let store = try SQLiteCollectorStore(path: s.file("collector.db"))
        let now = Timestamp(millisecondsSinceEpoch: Int64(Date().timeIntervalSince1970 * 1000))
        var events: [IngestedEvent] = []
        for i in 0..<200 {
            let t = now - .seconds(Int64(200 - i) * 3000)
            events.append(IngestedEvent(seq: Int64(i + 1), time: t, kind: i % 2 == 0 ? "check_in" : "check_out",
                                        cardKey: String(repeating: String(i % 7), count: 64), reader: "door", occupancy: i % 2 == 0 ? 1 : 0,
                                        staySeconds: i % 2 == 0 ? nil : 1500, detail: nil))
        }
        _ = try await store.ingest(station: "pt-1", events: events)
        try await store.close()
        let collector = try CollectorProcess(config: config, logPath: s.file("collector.log"))
        defer { collector.kill9() }
        let base = "http://127.0.0.1:\(try await collector.listeningPort())"
        for (width, height) in [(1920, 1080), (1080, 1920)] {
            let shots = s
            try await DevToolsPage.with(width: width, height: height) { page in
                try await page.navigate(base + "/")
                try await page.waitFor("location.pathname === '/login' && !!document.getElementById('password')")
                _ = try await page.evaluate("""
                    document.getElementById('name').value = 'office'; document.getElementById('password').value = 'correct horse battery';
                    document.querySelector('form.login').submit()
                    """)
                try await page.waitFor("location.pathname === '/' && document.body.innerText.includes('普工e家·沈家门站')")
                try await page.navigate(base + "/stations/pt-1")
                try await page.waitFor("document.querySelectorAll('svg.chart').length === 5")
                #expect(try await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as? Bool == true, "\(width)x\(height): no sideways scrolling")
                #expect(try await page.string("document.body.innerText").contains("到访 visits 100"))
                try await page.screenshot(to: shots.file("dashboard-\(width)x\(height).png"))
                keepScreenshot(shots.file("dashboard-\(width)x\(height).png"))
                #expect(pngSize(shots.file("dashboard-\(width)x\(height).png")).map { $0 == (width, height) } == true)
                #expect(page.requests.allSatisfy { $0.hasPrefix(base) }, "\(page.requests)")
            }
        }
    }
}
