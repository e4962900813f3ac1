import Crypto
import Foundation

/// A channel's format: the JSON each robot expects, and how its answer reads.
public enum WebhookFormat: String, Codable, CaseIterable, Sendable {
    case wecom, dingtalk, feishu, generic

    /// The request body for one transition.
    public func body(_ n: AlertNotice) -> String {
        let text = n.messageZh + "\n" + n.messageEn
        let value: Any
        switch self {
        case .generic:
            return String(decoding: try! Self.encoder.encode(n), as: UTF8.self)
        case .wecom:
            value = ["msgtype": "markdown", "markdown": ["content": "**\(n.messageZh)**\n> \(n.messageEn)"]]
        case .dingtalk:
            value = ["msgtype": "markdown", "markdown": ["title": n.messageZh, "text": "### \(n.messageZh)\n\n\(n.messageEn)"]]
        case .feishu:
            value = ["msg_type": "text", "content": ["text": text]]
        }
        return String(decoding: try! JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
    }

    private static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// What became of one attempt.
    public enum Outcome: Hashable, Sendable {
        case delivered
        /// Try again later (the receiver is down, busy or rate-limits).
        case retry(String)
        /// Trying again cannot help (a wrong key, a refused signature): kept visible, not retried.
        case permanent(String)
    }

    /// Reads an HTTP answer. The robots answer 200 with an error code in the body: 0 is
    /// success; their rate limits are retried, their configuration errors are permanent,
    /// other codes retried (an unknown code must not lose an alert).
    public func outcome(status: Int, body: [UInt8]) -> Outcome {
        let snippet = String(decoding: body.prefix(200), as: UTF8.self)
        switch status {
        case 200..<300: break
        case 429, 408: return .retry("HTTP \(status)")
        case 400..<500: return .permanent("HTTP \(status): \(snippet)")
        default: return .retry("HTTP \(status)")
        }
        guard self != .generic else { return .delivered }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let code = (object[self == .feishu ? "code" : "errcode"] as? NSNumber)?.intValue
        else {
            // Feishu's success answer may also be {"StatusCode":0}.
            if self == .feishu, let o = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
               (o["StatusCode"] as? NSNumber)?.intValue == 0 { return .delivered }
            return .retry("HTTP \(status) without an error code: \(snippet)")
        }
        if code == 0 { return .delivered }
        let message = "\(rawValue) error \(code): \(snippet)"
        return Self.permanentCodes[self, default: []].contains(code) ? .permanent(message) : .retry(message)
    }

    /// Codes that mean the channel is misconfigured: WeCom 93000 (invalid webhook key),
    /// 40008/40035 (bad message); DingTalk 300001 (bad token), 310000 (keyword, signature or
    /// IP refused), 400102/400105 (robot stopped, bad message); Feishu 19001 (bad params),
    /// 19021 (bad signature), 19022 (IP refused), 19024 (keyword refused), 9499 (bad request).
    static let permanentCodes: [WebhookFormat: Set<Int>] = [
        .wecom: [93000, 40008, 40035],
        .dingtalk: [300001, 310000, 400102, 400105],
        .feishu: [19001, 19021, 19022, 19024, 9499],
    ]

    /// The URL with DingTalk's signature (`timestamp` and `sign` query items), or the body
    /// with Feishu's (`timestamp`, `sign`), for a robot that has a secret.
    public func signed(url: String, body: String, secret: String?, now: Timestamp) -> (url: String, body: String) {
        guard let secret, !secret.isEmpty else { return (url, body) }
        switch self {
        case .dingtalk:
            let ms = now.millisecondsSinceEpoch
            let mac = HMAC<SHA256>.authenticationCode(for: Data("\(ms)\n\(secret)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
            let sign = Data(mac).base64EncodedString().addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            return (url + (url.contains("?") ? "&" : "?") + "timestamp=\(ms)&sign=\(sign)", body)
        case .feishu:
            // Feishu signs with the key "timestamp\nsecret" over an empty message.
            let s = now.millisecondsSinceEpoch / 1000
            let mac = HMAC<SHA256>.authenticationCode(for: Data(), using: SymmetricKey(data: Data("\(s)\n\(secret)".utf8)))
            guard var object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else { return (url, body) }
            object["timestamp"] = String(s)
            object["sign"] = Data(mac).base64EncodedString()
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data(body.utf8)
            return (url, String(decoding: data, as: UTF8.self))
        case .wecom, .generic:
            return (url, body)
        }
    }
}
