import AsyncHTTPClient
import Foundation
import NIOCore
import YizhanCore

extension CollectorClient {
    struct SettingsFetchError: Error, CustomStringConvertible {
        var description: String
    }

    /// `GET /api/v1/station/settings`: the office settings this station should apply.
    func fetchOfficeSettings() async throws -> OfficeSettingsDocument {
        let token = try readToken()
        var request = HTTPClientRequest(url: endpoint("/api/v1/station/settings"))
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "User-Agent", value: "yizhan-station/\(YizhanVersion.current)")
        let response = try await client.execute(request, timeout: .seconds(uplink.timeout.wholeSeconds))
        let body = Data(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200 else { throw SettingsFetchError(description: "the collector answered \(response.status.code)") }
        do { return try JSONDecoder().decode(OfficeSettingsDocument.self, from: body) } catch {
            throw SettingsFetchError(description: "the settings document does not decode")
        }
    }
}
