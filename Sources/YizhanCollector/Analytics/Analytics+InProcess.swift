import YizhanCore

/// The office's questions asked in-process, exactly as `/api/v1/usage` and
/// `/api/v1/rankings` ask `Analytics` (the scope resolved against what the user sees,
/// comparisons as the JSON answer has them), without HTTP: yizhan-bench measures the
/// questions' own cost with it.
public struct OfficeQuestions: Sendable {
    let analytics: Analytics

    public init(store: any CollectorStore, offset: UTCOffset) { analytics = Analytics(store: store, offset: offset) }

    /// The usage report for `station=`, `region=` or `district=` among `visible`.
    public func usage(user: UserRecord, visible: [StationRecord], station: String? = nil, region: String? = nil, district: String? = nil,
                      period: UsagePeriod, comparisons: Bool = true) async throws -> UsageReport {
        let scope = try Analytics.scope(user: user, visible: visible, station: station, region: region, district: district)
        return try await analytics.usage(scope, period: period, comparisons: comparisons).report
    }

    /// The ranking of a region's (or all visible) stations, as `/api/v1/rankings` answers it.
    public func rankings(user: UserRecord, visible: [StationRecord], region: String?, measure: RankingMeasure, limit: Int,
                         period: UsagePeriod) async throws -> [RankingEntry] {
        let scope = try Analytics.scope(user: user, visible: visible, station: nil, region: region, district: nil)
        return try await analytics.rankings(scope, measure: measure, descending: true, limit: limit, period: period)
    }
}
