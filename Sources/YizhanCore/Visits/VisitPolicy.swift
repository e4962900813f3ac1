/// The rules a station applies to swipes (from `[visits]` and `[station]` in the config).
public struct VisitPolicy: Hashable, Sendable {
    public enum Mode: String, Hashable, Sendable, CaseIterable {
        /// Swipe in, swipe again out.
        case toggle
        /// Only a reader at the door: each visit is assumed to last `assumedStay`.
        case entryOnly = "entry_only"
    }

    public enum WhenFull: String, Hashable, Sendable, CaseIterable {
        /// Refuse check-ins at capacity (`rejected_full`).
        case deny
        /// Let people in anyway and record the check-in as over capacity.
        case admit
    }

    public var mode: Mode
    public var capacity: Int
    public var whenFull: WhenFull
    /// A second swipe of the same card within this window is a `duplicate`.
    public var debounce: Duration
    /// Toggle mode: check out automatically after this long.
    public var maximumStay: Duration
    /// Entry-only mode: how long a visit is assumed to last.
    public var assumedStay: Duration
    public var hours: OpeningHours
    /// Check everyone out when the station closes.
    public var checkOutAtClosing: Bool

    public init(mode: Mode = .toggle, capacity: Int, whenFull: WhenFull = .deny,
                debounce: Duration = .seconds(10), maximumStay: Duration = .seconds(4 * 3600),
                assumedStay: Duration = .seconds(30 * 60), hours: OpeningHours = .always(),
                checkOutAtClosing: Bool = true) {
        self.mode = mode; self.capacity = capacity; self.whenFull = whenFull; self.debounce = debounce
        self.maximumStay = maximumStay; self.assumedStay = assumedStay; self.hours = hours
        self.checkOutAtClosing = checkOutAtClosing
    }

    /// The longest `maximum_stay_minutes` a station may be configured with: no stay a
    /// station reports can be longer, so the collector rejects one that is.
    public static let longestStay: Duration = .seconds(7 * 86_400)

    /// How long a presence lasts before it is closed automatically.
    public var stayLimit: Duration { mode == .toggle ? maximumStay : assumedStay }
}
