/// The collector's answer to a heartbeat: what the office wants the station to know or do.
///
/// The channel back to the station rides on the heartbeat the station already sends, so it
/// works through NAT and survives the station being offline (the next answer carries the
/// current state, never a queue of commands). Every field is optional and new fields are
/// added as optional: an older station ignores what it does not know, and a station treats
/// an older collector's `204 No Content` as an empty answer.
public struct HeartbeatAnswer: Codable, Hashable, Sendable {
    /// Reconciliation: events the collector lacks, to send again.
    public var resend: ResendRange?
    /// Office settings: the revision the station should apply (it fetches the document
    /// from `/api/v1/station/settings` when it differs from the one it applies).
    public var settingsRevision: Int64?
    /// Office notices in force for the station or starting within a day (the whole list;
    /// absent from an older collector, which leaves the station's list as it is).
    public var notices: [OfficeNotice]?
    /// The nearest open stations with room (see `OnwardStation`), nearest first.
    public var onward: [OnwardStation]?

    enum CodingKeys: String, CodingKey { case resend, settingsRevision = "settings_revision", notices, onward }

    public init(resend: ResendRange? = nil, onward: [OnwardStation]? = nil) { self.resend = resend; self.onward = onward }

    /// An answer with nothing in it (what a `204` from an older collector means).
    public static let empty = HeartbeatAnswer()
}
