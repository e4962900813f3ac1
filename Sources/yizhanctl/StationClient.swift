import AsyncHTTPClient
import Foundation
import NIOCore
import YizhanCore
import YizhanStation

/// Talks to the local daemon over its unix socket (see [http] socket in station.toml).
struct StationClient {
    let socketPath: String

    init(configuration: StationConfiguration) {
        socketPath = configuration.http.socketPath
    }

    func get<T: Decodable>(_ path: String, as type: T.Type) async throws -> T {
        try await send("GET", path, body: nil, as: type)
    }

    func post<T: Decodable>(_ path: String, json: [String: String], as type: T.Type) async throws -> T {
        try await send("POST", path, body: try JSONEncoder().encode(json), as: type)
    }

    private func send<T: Decodable>(_ method: String, _ path: String, body: Data?, as type: T.Type) async throws -> T {
        guard let url = URL(httpURLWithSocketPath: socketPath, uri: path) else {
            throw CLIError("bad socket path \(socketPath)")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        if access(socketPath, F_OK) != 0 { throw CLIError(reachError(nil)) }
        // A short connect timeout: a dead daemon must not keep an operator waiting.
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(3), read: .seconds(60))
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let status: UInt
        let data: Data
        do {
            let response = try await client.execute(request, timeout: .seconds(60))
            status = response.status.code
            data = Data(buffer: try await response.body.collect(upTo: 64 << 20))
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw CLIError(reachError(error))
        }
        guard status < 300 else {
            if let e = try? JSONDecoder().decode(APIError.self, from: data) {
                throw CLIError("yizhan-station answered \(status): \(e.message) (\(e.error))")
            }
            throw CLIError("yizhan-station answered \(status)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw CLIError("unexpected answer from yizhan-station: \(error)")
        }
    }

    private func reachError(_ error: (any Error)?) -> String {
        let text = error.map { "\($0)" } ?? ""
        if access(socketPath, F_OK) != 0 {
            return "cannot reach yizhan-station: \(socketPath) does not exist (is the daemon running? systemctl status yizhan-station)"
        }
        if access(socketPath, R_OK | W_OK) != 0 {
            return "permission denied on \(socketPath): operators need to be in the data directory's group (usermod -aG yizhan $USER)"
        }
        if text.contains("connectionRefused") || text.contains("Connection refused") {
            return "cannot reach yizhan-station on \(socketPath): connection refused (stale socket? is the daemon running?)"
        }
        return "cannot reach yizhan-station on \(socketPath): \(text)"
    }
}

struct CLIError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
