import Foundation
import Hummingbird
import NIOCore
import YizhanCore

/// Notices and the audit log over the API (office users; scoped by their region).
extension CollectorHTTP {
    struct NoticeView: Encodable {
        var id: Int64
        var region: String?
        var stations: [String]?
        var zh: String
        var en: String?
        var from: String
        var until: String
        var ended: String?
        var createdBy: String
        var running: Bool
        enum CodingKeys: String, CodingKey {
            case id, region, stations, zh, en, from, until, ended, running
            case createdBy = "created_by"
        }
        init(_ n: NoticeRecord, offset: UTCOffset, now: Timestamp) {
            id = n.id; zh = n.zh; en = n.en
            switch n.audience { case .region(let p): region = p.description; case .stations(let ids): stations = ids }
            from = RFC3339.format(n.from, offset: offset); until = RFC3339.format(n.until, offset: offset)
            ended = n.endedAt.map { RFC3339.format($0, offset: offset) }; createdBy = n.createdBy
            running = n.from <= now && now < n.until
        }
    }

    /// Whether an office user sees a notice (all of its stations or its region within theirs).
    func visible(_ n: NoticeRecord, to user: UserRecord, regions: [String: RegionPath]) -> Bool {
        guard let mine = user.region else { return true }
        switch n.audience {
        case .region(let p): return mine.contains(p)
        case .stations(let ids): return ids.allSatisfy { regions[$0].map(mine.contains) ?? false }
        }
    }

    private func officeUser(_ request: Request) async throws -> UserRecord {
        let user = try await authenticatedUser(request)
        guard user.role == .office else { throw CollectorHTTPError(.forbidden, "forbidden", "only office users see notices and the audit log") }
        return user
    }

    /// `GET /api/v1/notices[?all=true]`: the notices not over (all: every one), newest first.
    func listNotices(_ request: Request) async throws -> Response {
        let user = try await officeUser(request)
        let now = Timestamp.now()
        let all: Bool
        switch request.uri.queryParameters["all"].map(String.init) {
        case nil, "false": all = false
        case "true": all = true
        default: throw CollectorHTTPError(.badRequest, "bad_query", "all: true or false")
        }
        let regions = try await store.stationRegions()
        let notices = try await store.notices(endingAfter: all ? nil : now).filter { visible($0, to: user, regions: regions) }
        return try json(["notices": notices.map { NoticeView($0, offset: configuration.utcOffset, now: now) }])
    }

    struct NoticeBody: Decodable {
        var zh: String
        var en: String?
        var from: String?
        var until: String?
        var region: String?
        var stations: [String]?
    }

    /// `POST /api/v1/notices`: 201 with the notice.
    func addNotice(_ request: Request) async throws -> Response {
        let user = try await tokenUser(request)
        let body = try decode(NoticeBody.self, try await self.body(request), expected: "a notice {\"zh\", \"region\" or \"stations\", ...}")
        let now = Timestamp.now()
        func time(_ text: String?, _ name: String) throws -> Timestamp? {
            guard let text else { return nil }
            guard let t = RFC3339.parseStrict(text) else { throw CollectorHTTPError(.badRequest, "bad_body", "\(name): expected an RFC 3339 time") }
            return t
        }
        let audience: NoticeRecord.Audience
        switch (body.region, body.stations) {
        case (let r?, nil):
            guard let p = RegionPath(parsing: r) else { throw CollectorHTTPError(.badRequest, "bad_body", "region: not a region path") }
            audience = .region(p)
        case (nil, let ids?): audience = .stations(Array(Set(ids)).sorted())
        default: throw CollectorHTTPError(.badRequest, "bad_body", "give region or stations, not both")
        }
        let regions = try await store.stationRegions()
        let notice: NoticeRecord
        do {
            switch audience {
            case .region: try OfficeActions.authorize(user, scopes(audience)[0], stationRegions: regions)
            case .stations: for s in scopes(audience) { try OfficeActions.authorize(user, s, stationRegions: regions) }
            }
            notice = try OfficeActions.notice(audience: audience, zh: body.zh, en: body.en, from: try time(body.from, "from"),
                                              until: try time(body.until, "until"), actor: user.name, now: now, offset: configuration.utcOffset)
        } catch let r as OfficeActions.Refusal { throw refusal(r) }
        var stored = notice
        stored.id = try await store.addNotice(notice, actor: user.name)
        office.invalidate()
        return try json(NoticeView(stored, offset: configuration.utcOffset, now: now), status: .created)
    }

    func scopes(_ audience: NoticeRecord.Audience) -> [OfficeScope] {
        switch audience {
        case .region(let p): [.region(p)]
        case .stations(let ids): ids.map { .station($0) }
        }
    }

    /// `POST /api/v1/notices/{id}/end`
    func endNotice(_ request: Request, id text: String) async throws -> Response {
        let user = try await tokenUser(request)
        guard user.role == .office else { throw CollectorHTTPError(.forbidden, "forbidden", "only office users end notices") }
        guard let id = Int64(text), let existing = try await store.notice(id: id) else {
            throw CollectorHTTPError(.notFound, "unknown_notice", "no notice \(IngestValidation.printable(text))")
        }
        guard visible(existing, to: user, regions: try await store.stationRegions()) else {
            throw CollectorHTTPError(.forbidden, "forbidden", "notice \(id) is outside \(user.name)'s region")
        }
        let now = Timestamp.now()
        guard let ended = try await store.endNotice(id: id, actor: user.name, at: now) else {
            throw CollectorHTTPError(.notFound, "unknown_notice", "no notice \(id)")
        }
        office.invalidate()
        return try json(NoticeView(ended, offset: configuration.utcOffset, now: now))
    }

    /// `GET /api/v1/audit[?format=csv][&limit=N]`: the office's actions, newest first.
    func audit(_ request: Request) async throws -> Response {
        let user = try await officeUser(request)
        let q = request.uri.queryParameters
        let limit = q["limit"].map { Int(String($0)) ?? 0 } ?? 1000
        guard (1...100_000).contains(limit) else { throw CollectorHTTPError(.badRequest, "bad_query", "limit: a whole number from 1 to 100000") }
        let entries = try await visibleAudit(user, limit: limit)
        switch q["format"].map(String.init) ?? "json" {
        case "json": return try json(["entries": entries.map { AuditView($0, offset: configuration.utcOffset) }])
        case "csv":
            return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"yizhan-audit.csv\""],
                            body: .init(byteBuffer: ByteBuffer(string: AuditView.csv(entries, offset: configuration.utcOffset))))
        default: throw CollectorHTTPError(.badRequest, "bad_query", "format: json or csv")
        }
    }

    func visibleAudit(_ user: UserRecord, limit: Int) async throws -> [AuditEntry] {
        let all = try await store.auditLog(limit: limit)
        guard let mine = user.region else { return all }
        let regions = try await store.stationRegions()
        return all.filter { $0.isVisible(within: mine, stationRegions: regions) }
    }
}

/// One audit entry as the API, the CSV and the dashboard show it.
struct AuditView: Encodable, Sendable {
    var id: Int64
    var at: String
    var actor: String
    var action: String
    var scope: String
    var target: String
    var detail: String
    init(_ e: AuditEntry, offset: UTCOffset) {
        id = e.id; at = RFC3339.format(e.at, offset: offset); actor = e.actor; action = e.action
        scope = e.scope; target = e.target; detail = e.detail
    }

    static func csv(_ entries: [AuditEntry], offset: UTCOffset) -> String {
        var out = CSV.byteOrderMark + CSV.header(["id", "at", "actor", "action", "scope", "target", "detail"])
        for e in entries.map({ AuditView($0, offset: offset) }) {
            out += CSV.line([CSV.number(e.id), CSV.field(e.at), CSV.field(e.actor), CSV.field(e.action), CSV.field(e.scope),
                             CSV.field(e.target), CSV.field(e.detail)])
        }
        return out
    }
}
