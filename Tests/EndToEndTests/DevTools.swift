import Foundation
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import NIOCore
import Testing
import WSClient

/// Headless Chromium driven over the Chrome DevTools protocol: navigate, evaluate script
/// in the page, take screenshots, and see every request the page makes.
final class DevToolsPage: @unchecked Sendable {
    private var nextID = 0
    private var iterator: WebSocketInboundMessageStream.AsyncIterator
    private let outbound: WebSocketOutboundWriter
    /// Every URL the page requested (Network.requestWillBeSent).
    private(set) var requests: [String] = []

    private init(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) {
        iterator = inbound.messages(maxSize: 1 << 26).makeAsyncIterator()
        self.outbound = outbound
    }

    /// Starts Chromium at `width`×`height`, opens a page and runs `body` with it.
    static func with(width: Int, height: Int, _ body: @escaping @Sendable (DevToolsPage) async throws -> Void) async throws {
        let profile = NSTemporaryDirectory() + "yizhan-cdp-\(UUID().uuidString)"
        let browser = Process()
        browser.executableURL = URL(fileURLWithPath: chromiumPath!)
        browser.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--remote-debugging-port=0", "--remote-allow-origins=*", "--user-data-dir=\(profile)", "--window-size=\(width),\(height)", "about:blank"]
        browser.standardError = FileHandle.nullDevice
        browser.standardOutput = FileHandle.nullDevice
        try browser.run()
        defer {
            browser.terminate(); browser.waitUntilExit()
            try? FileManager.default.removeItem(atPath: profile)
        }
        var port: String?
        try await eventually("Chromium's DevTools port") {
            port = (try? String(contentsOfFile: profile + "/DevToolsActivePort", encoding: .utf8))?.split(separator: "\n").first.map(String.init)
            return port != nil
        }
        var pageURL: String?
        for _ in 0..<100 where pageURL == nil {
            if let data = loopbackGet(port: Int(port!) ?? 0, path: "/json/list"),
               let targets = try? JSONSerialization.jsonObject(with: data) as? [[String: Any]] {
                pageURL = targets.first { $0["type"] as? String == "page" }?["webSocketDebuggerUrl"] as? String
            }
            if pageURL == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard let pageURL else {
            throw DevToolsError(description: "Chromium offered no page to drive (port \(port ?? "?"), /json/list: \(loopbackGet(port: Int(port ?? "") ?? 0, path: "/json/list").map { String(decoding: $0.prefix(300), as: UTF8.self) } ?? "no answer"))")
        }
        var config = WebSocketClientConfiguration()
        config.maxFrameSize = 1 << 26
        let failure = LockedBox<(any Error)?>(nil)
        try await WebSocketClient.connect(url: pageURL, configuration: config, logger: Logger(label: "cdp", factory: { _ in SwiftLogNoOpLogHandler() })) { inbound, outbound, _ in
            let page = DevToolsPage(inbound: inbound, outbound: outbound)
            do {
                _ = try await page.call("Page.enable")
                _ = try await page.call("Network.enable")
                _ = try await page.call("Runtime.enable")
                // The viewport exactly as asked (the window has some of its own chrome).
                _ = try await page.call("Emulation.setDeviceMetricsOverride",
                                        ["width": width, "height": height, "deviceScaleFactor": 1, "mobile": false])
                try await body(page)
            } catch {
                failure.value = error
            }
        }
        if let e = failure.value { throw e }
    }

    /// Sends a command and returns its result, keeping the events that come meanwhile.
    @discardableResult
    func call(_ method: String, _ params: [String: Any] = [:]) async throws -> [String: Any] {
        nextID += 1
        let id = nextID
        let data = try JSONSerialization.data(withJSONObject: ["id": id, "method": method, "params": params])
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
        while let message = try await iterator.next() {
            guard case .text(let text) = message,
                  let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { continue }
            if object["method"] as? String == "Network.requestWillBeSent",
               let url = ((object["params"] as? [String: Any])?["request"] as? [String: Any])?["url"] as? String {
                requests.append(url)
            }
            guard object["id"] as? Int == id else { continue }
            if let error = object["error"] { throw DevToolsError(description: "\(method): \(error)") }
            return object["result"] as? [String: Any] ?? [:]
        }
        throw DevToolsError(description: "\(method): the browser closed the connection")
    }

    func navigate(_ url: String) async throws { try await call("Page.navigate", ["url": url]) }

    /// Evaluates a script expression in the page and returns its value (JSON-able).
    func evaluate(_ expression: String) async throws -> Any? {
        let result = try await call("Runtime.evaluate", ["expression": expression, "returnByValue": true, "awaitPromise": true])
        if let exception = result["exceptionDetails"] { throw DevToolsError(description: "\(expression): \(exception)") }
        return (result["result"] as? [String: Any])?["value"]
    }

    func string(_ expression: String) async throws -> String { try await evaluate(expression) as? String ?? "" }

    /// Polls `expression` until it is true.
    func waitFor(_ expression: String, timeout: Duration = .seconds(15)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            // While the page loads, the expression may throw (no body yet): not yet.
            if (try? await evaluate(expression)) as? Bool == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw DevToolsError(description: "timed out waiting for \(expression)")
    }

    /// A PNG of the viewport.
    func screenshot(to path: String) async throws {
        let result = try await call("Page.captureScreenshot", ["format": "png"])
        let data = Data(base64Encoded: result["data"] as? String ?? "") ?? Data()
        FileManager.default.createFile(atPath: path, contents: data)
    }
}

/// A plain HTTP/1.0 GET to a loopback port; the body, or nil. (URLSession on Linux fails on
/// Chromium's DevTools answers with "Failed writing header".)
func loopbackGet(port: Int, path: String) -> Data? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
    guard write(fd, request, request.count) == request.count else { return nil }
    // Chromium keeps the connection open: read the head, then Content-Length bytes.
    var timeout = timeval(tv_sec: 5, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
        if let split = response.firstRange(of: Array("\r\n\r\n".utf8)) {
            let head = String(decoding: response[..<split.lowerBound], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) }
            if let length, response.count - split.upperBound >= length {
                return Data(response[split.upperBound..<split.upperBound + length])
            }
        }
        let n = read(fd, &buffer, buffer.count)
        if n <= 0 { return nil }
        response += buffer[0..<n]
    }
}

struct DevToolsError: Error, CustomStringConvertible { var description: String }

final class LockedBox<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var _value: T
    init(_ v: T) { _value = v }
    var value: T {
        get { lock.lock(); defer { lock.unlock() }; return _value }
        set { lock.lock(); _value = newValue; lock.unlock() }
    }
}
