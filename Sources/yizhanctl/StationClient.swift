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
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        } catch {
            throw CLIError(reachError(error))
        }
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let data = Data(buffer: bytes)
        guard response.status.code < 300 else {
            if let e = try? JSONDecoder().decode(APIError.self, from: data) {
                throw CLIError("yizhan-station answered \(response.status.code): \(e.message) (\(e.error))")
            }
            throw CLIError("yizhan-station answered \(response.status.code)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch {
            throw CLIError("unexpected answer from yizhan-station: \(error)")
        }
    }

    private func reachError(_ error: any Error) -> String {
        let text = "\(error)"
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
