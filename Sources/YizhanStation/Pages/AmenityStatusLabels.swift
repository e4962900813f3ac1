import YizhanCore

extension AmenityStatus {
    /// How the manager pages name a status, Chinese first.
    var managerLabel: String {
        switch self {
        case .ok: return "正常 OK"
        case .degraded: return "部分可用 Limited"
        case .outOfOrder: return "故障 Out of order"
        case .closed: return "暂停 Closed"
        }
    }
}
