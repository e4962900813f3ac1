import Foundation
import Testing
import YizhanCore
import YizhanTOML
@testable import YizhanCollector

@Suite struct AlertsConfigurationTests {
    @Test func thresholdsAndChannelsAreReadAndBadOnesPointAtTheirLine() throws {
        let c = try CollectorConfiguration.parse(text: """
            [alerts]
            offline_after_seconds = 2
            clock_skew_minutes = 3
            [[alerts.webhooks]]
            url = "http://127.0.0.1:8080/hook"
            format = "generic"
            [[alerts.webhooks]]
            url = "https://oapi.dingtalk.com/robot/send?access_token=x"
            format = "dingtalk"
            secret = "SEC1"
            """, file: "c.toml")
        #expect(c.alerts.thresholds.offlineAfter == .seconds(2) && c.alerts.thresholds.clockSkew == .seconds(180))
        #expect(c.alerts.webhooks == [.init(url: "http://127.0.0.1:8080/hook", format: .generic),
                                      .init(url: "https://oapi.dingtalk.com/robot/send?access_token=x", format: .dingtalk, secret: "SEC1")])
        #expect(CollectorConfiguration.defaultLimits == c.limits)

        let badFormat = #expect(throws: ConfigurationError.self) {
            try CollectorConfiguration.parse(text: "[alerts]\n[[alerts.webhooks]]\nurl = \"http://h/x\"\nformat = \"slack\"\n", file: "c.toml")
        }
        #expect(badFormat?.line == 4 && badFormat?.message.contains("wecom") == true, "\(String(describing: badFormat))")
        let typo = #expect(throws: ConfigurationError.self) {
            try CollectorConfiguration.parse(text: "[alerts]\noffline_after = 5\n", file: "c.toml")
        }
        #expect(typo?.line == 2)
        #expect(throws: ConfigurationError.self) {
            try CollectorConfiguration.parse(text: "[alerts]\nfull_heartbeats = 30\nfull_window_heartbeats = 20\n", file: "c.toml")
        }
    }

    @Test func theExampleConfigurationDocumentsEveryThresholdWithItsDefault() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let c = try CollectorConfiguration.load(path: root.appendingPathComponent("config/collector.example.toml").path)
        #expect(c.alerts.thresholds == AlertThresholds(), "the example shows the defaults")
        #expect(c.alerts.webhooks.isEmpty)
    }
}
