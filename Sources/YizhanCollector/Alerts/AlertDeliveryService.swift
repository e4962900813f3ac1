import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import YizhanCore
import YizhanWeb

/// Sends a webhook request; a protocol so tests can stand in for the network.
public protocol WebhookTransport: Sendable {
    func post(url: String, body: String, timeout: Duration) async throws -> (status: Int, body: [UInt8])
}

/// AsyncHTTPClient's shared client.
public struct HTTPWebhookTransport: WebhookTransport {
    public init() {}
    public func post(url: String, body: String, timeout: Duration) async throws -> (status: Int, body: [UInt8]) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "yizhan-collector/\(YizhanVersion.current)")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(timeout.milliseconds))
        let answer = try await response.body.collect(upTo: 64 * 1024)
        return (Int(response.status.code), Array(buffer: answer))
    }
}

/// Delivers the alert outbox: claims due rows (leased to this collector), POSTs each to
/// its channel, records it delivered, or schedules another attempt with backoff; a
/// permanent refusal (a 4xx other than 429, a robot's configuration error) is logged and
/// kept, shown by `alerts list` and the dashboard.
public struct AlertDeliveryService: Service, CustomStringConvertible {
    public let store: any CollectorStore
    public let configuration: AlertsConfiguration
    let logger: Logger
    let transport: any WebhookTransport
    /// This collector's name on the leases it takes.
    public let owner: String
    let now: @Sendable () -> Timestamp
    let random: @Sendable () -> Double
    let readiness: StoreReadiness
    public var description: String { "alert-delivery" }

    public init(store: any CollectorStore, configuration: AlertsConfiguration, logger: Logger,
                transport: any WebhookTransport = HTTPWebhookTransport(), owner: String = Self.defaultOwner(),
                readiness: StoreReadiness = StoreReadiness(ready: true),
                now: @escaping @Sendable () -> Timestamp = { .now() }, random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.store = store; self.configuration = configuration; self.logger = logger; self.transport = transport
        self.owner = owner; self.now = now; self.random = random; self.readiness = readiness
    }

    public static func defaultOwner() -> String {
        "\(ProcessInfo.processInfo.hostName)/\(ProcessInfo.processInfo.processIdentifier)/\(UUID().uuidString.prefix(8))"
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown { await self.readiness.wait() }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                // A full batch: more may be due, look again at once.
                if try await deliverDue() == 20 { continue }
            } catch {
                logger.error("alert delivery failed: \(String(reflecting: error))")
            }
            await cancelWhenGracefulShutdown { try? await Task.sleep(for: self.configuration.deliverEvery) }
        }
    }

    /// Claims and attempts what is due now; returns how many were attempted.
    @discardableResult
    public func deliverDue(limit: Int = 20) async throws -> Int {
        // The lease outlasts the request (and the write after it), so no other collector
        // takes a row while this one may still be sending it.
        let lease = configuration.requestTimeout * 3 + .seconds(10)
        let claimed = try await store.claimDeliveries(owner: owner, now: now(), lease: lease, limit: limit)
        for c in claimed { try await attempt(c) }
        return claimed.count
    }

    private func attempt(_ c: ClaimedDelivery) async throws {
        let d = c.delivery
        let secret = configuration.webhooks.first { $0.url == d.url && $0.format == d.format }?.secret
        let (url, body) = d.format.signed(url: d.url, body: d.body, secret: secret, now: now())
        let outcome: WebhookFormat.Outcome
        do {
            let (status, answer) = try await transport.post(url: url, body: body, timeout: configuration.requestTimeout)
            outcome = d.format.outcome(status: status, body: answer)
        } catch {
            outcome = .retry("request failed: \(error)")
        }
        let at = now()
        // A URL's key is a credential: logs name the channel by host only.
        let channel = "\(d.format.rawValue) \(URLComponents(string: d.url)?.host ?? "?")"
        switch outcome {
        case .delivered:
            if try await store.deliveryDone(c.id, owner: owner, at: at) {
                logger.info("alert \(c.alertID) \(c.state.rawValue) delivered to \(channel) (attempt \(c.attempts))")
            }
        case .retry(let why):
            let next = at + configuration.retry.delay(attempts: c.attempts, random: random())
            logger.warning("alert \(c.alertID) \(c.state.rawValue) to \(channel): \(why); attempt \(c.attempts + 1) at \(RFC3339.format(next, offset: .utc))")
            try await store.deliveryFailed(c.id, owner: owner, error: why, at: at, retryAt: next)
        case .permanent(let why):
            logger.error("alert \(c.alertID) \(c.state.rawValue) to \(channel) refused: \(why); not retried (check [[alerts.webhooks]])")
            try await store.deliveryFailed(c.id, owner: owner, error: why, at: at, retryAt: nil)
        }
    }
}
