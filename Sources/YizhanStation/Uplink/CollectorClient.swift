import AsyncHTTPClient
import CompressNIO
import Foundation
import NIOCore
import YizhanCore

/// The station's HTTP client for the collector: the token from `token_file` (read for
/// every request, so a replaced token takes effect at once), gzip'd event batches, and
/// heartbeats. It turns every answer into what the outbox state machine understands.
final class CollectorClient: Sendable {
    let uplink: StationConfiguration.Uplink
    let stationID: String
    let client: HTTPClient

    init(uplink: StationConfiguration.Uplink, stationID: String) {
        self.uplink = uplink
        self.stationID = stationID
        var c = HTTPClient.Configuration()
        c.timeout = .init(connect: .seconds(10), read: .seconds(Int64(uplink.timeout.wholeSeconds)))
        c.decompression = .enabled(limit: .size(1 << 20))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
    }

    func shutdown() async { try? await client.shutdown() }

    func readToken() throws -> String {
        let text = try String(contentsOfFile: uplink.tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw CocoaError(.fileReadCorruptFile) }
        return text
    }

    func endpoint(_ path: String) -> String {
        var base = uplink.collector
        while base.hasSuffix("/") { base.removeLast() }
        return base + path
    }

    /// The body of an `EventBatch` (see Wire/Uplink.swift), assembled from events that are
    /// already JSON.
    private func batchBody(_ events: [Data]) -> ByteBuffer {
        var body = ByteBuffer()
        body.writeString(#"{"station_id":"#)
        var id: [UInt8] = []
        JSONText.appendString(stationID, to: &id)
        body.writeBytes(id)
        body.writeString(#","events":["#)
        for (i, event) in events.enumerated() {
            if i > 0 { body.writeString(",") }
            body.writeBytes(event)
        }
        body.writeString("]}")
        return body
    }

    /// Sends one batch of events, already encoded as JSON.
    func send(_ batch: [Data]) async -> OutboxStateMachine.Answer {
        let token: String
        do { token = try readToken() } catch {
            return .unauthorized(reason: "cannot read token_file \(uplink.tokenFile)")
        }
        do {
            var body = batchBody(batch)
            let compressed = try body.compress(with: .gzip())
            var request = HTTPClientRequest(url: endpoint("/api/v1/ingest/events"))
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Content-Encoding", value: "gzip")
            request.headers.add(name: "User-Agent", value: "yizhan-station/\(YizhanVersion.current)")
            request.body = .bytes(compressed)
            let response = try await client.execute(request, timeout: .seconds(uplink.timeout.wholeSeconds))
            let data = Data(buffer: try await response.body.collect(upTo: 1 << 20))
            let message = (try? JSONDecoder().decode(APIError.self, from: data)).map { "\($0.error): \($0.message)" }
                ?? "HTTP \(response.status.code)"
            switch response.status.code {
            case 200..<300:
                guard let ack = try? JSONDecoder().decode(IngestAcknowledgement.self, from: data) else {
                    return .retryable(reason: "collector answered \(response.status.code) without an acknowledgement", retryAfter: nil)
                }
                return .acknowledged(through: ack.acknowledgedSeq)
            case 401, 403: return .unauthorized(reason: "collector refused the token (\(message))")
            case 413: return .tooLarge
            case 400, 422: return .invalid(reason: message)
            default:
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int64.init).map { Duration.seconds($0) }
                return .retryable(reason: "collector answered \(message)", retryAfter: retryAfter)
            }
        } catch {
            return .retryable(reason: "\(error)", retryAfter: nil)
        }
    }

    /// Sends a heartbeat; the HTTP status and the collector's answer (empty for a `204`
    /// from an older collector, nil for an error status or an answer that does not decode).
    func send(_ heartbeat: Heartbeat) async throws -> (status: Int, answer: HeartbeatAnswer?) {
        let token = try readToken()
        var request = HTTPClientRequest(url: endpoint("/api/v1/ingest/heartbeat"))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(heartbeat)))
        let response = try await client.execute(request, timeout: .seconds(uplink.timeout.wholeSeconds))
        let body = try await response.body.collect(upTo: 1 << 20)
        let status = Int(response.status.code)
        switch status {
        case 204: return (status, .empty)
        case 200..<300: return (status, try? JSONDecoder().decode(HeartbeatAnswer.self, from: Data(buffer: body)))
        default: return (status, nil)
        }
    }
}
