import Foundation

/// One alert transition as the channels receive it (the `generic` format is this object,
/// the others render its messages).
public struct AlertNotice: Codable, Hashable, Sendable {
    public var alert: AlertKind
    public var state: AlertState
    public var station: String
    public var stationName: String
    /// The station's region path ("上海市/上海市/普陀区"; empty for the nation).
    public var region: String
    public var subject: String
    /// When the condition began (RFC 3339).
    public var since: String
    /// When this transition happened (RFC 3339).
    public var at: String
    public var detail: String
    public var messageZh: String
    public var messageEn: String

    enum CodingKeys: String, CodingKey {
        case alert, state, station, region, subject, since, at, detail
        case stationName = "station_name"
        case messageZh = "message_zh"
        case messageEn = "message_en"
    }

    public init(key: AlertKey, state: AlertState, stationName: String, region: String, since: Timestamp, at: Timestamp,
                detail: String, offset: UTCOffset) {
        alert = key.kind; self.state = state; station = key.station; self.stationName = stationName; self.region = region
        subject = key.subject; self.since = RFC3339.format(since, offset: offset); self.at = RFC3339.format(at, offset: offset)
        self.detail = detail
        let (zh, en) = Self.messages(key: key, state: state, name: stationName.isEmpty ? key.station : stationName,
                                     since: self.since, detail: detail)
        messageZh = zh; messageEn = en
    }

    /// The text people read: what, where, since when; a recovery says it is over.
    static func messages(key: AlertKey, state: AlertState, name: String, since: String, detail: String) -> (String, String) {
        let s = key.subject
        let (zh, en): (String, String)
        switch key.kind {
        case .stationOffline: (zh, en) = ("驿站离线（营业时间内无心跳）", "station offline (no heartbeat during opening hours)")
        case .readerDown: (zh, en) = ("读卡器 \(s) 故障", "reader \(s) down")
        case .amenityOutOfOrder: (zh, en) = ("设施 \(s) 长时间故障", "amenity \(s) out of order")
        case .repeatedlyFull: (zh, en) = ("驿站频繁满员", "station repeatedly full")
        case .backlogGrowing: (zh, en) = ("待上传事件持续增加", "upload backlog growing")
        case .clockSkew: (zh, en) = ("驿站时钟偏差过大", "station clock skew")
        case .storageNearCap: (zh, en) = ("驿站存储将满", "station storage near its cap")
        case .sequenceGap: (zh, en) = ("事件缺失（\(s)）", "events missing (\(s))")
        }
        switch state {
        case .open:
            return ("【告警】\(name)：\(zh)，自 \(since) 起。\(detail)", "[ALERT] \(name): \(en) since \(since). \(detail)")
        case .resolved:
            return ("【恢复】\(name)：\(zh) 已恢复（始于 \(since)）。", "[RESOLVED] \(name): \(en) is over (since \(since)).")
        }
    }
}
