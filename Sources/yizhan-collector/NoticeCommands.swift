import ArgumentParser
import Foundation
import YizhanCollector
import YizhanCore

struct NoticeCommands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notice", abstract: "Notices on the kiosks of a region or of stations.",
        subcommands: [AddNotice.self, ListNotices.self, EndNotice.self])
}

struct AddNotice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Announce a notice; prints its id alone on the last line.",
        discussion: """
            --from defaults to now, --until to the end of that day (the collector's utc_offset); \
            times are RFC 3339 (2026-07-20T06:00:00+08:00; without an offset, the collector's). \
            The kiosks concerned show it within one heartbeat and drop it when it ends.
            """)
    @OptionGroup var options: ConfigOption
    @OptionGroup var target: OfficeTarget
    @Option(help: "The Chinese text (required, at most 200 characters).") var zh: String
    @Option(help: "The English text.") var en: String?
    @Option(help: ArgumentHelp("Start (RFC 3339).", valueName: "time")) var from: String?
    @Option(help: ArgumentHelp("End (RFC 3339).", valueName: "time")) var until: String?

    func run() async throws {
        let c = try options.load()
        func time(_ text: String?, _ name: String) throws -> Timestamp? {
            guard let text else { return nil }
            guard let t = RFC3339.parse(text, defaultOffset: c.utcOffset) else { throw ValidationError("--\(name): expected an RFC 3339 time") }
            return t
        }
        let audience: NoticeRecord.Audience
        switch (target.region, target.station.isEmpty) {
        case (let r?, true):
            guard let p = RegionPath(parsing: r) else { throw ValidationError("--region: up to 6 levels separated by /") }
            audience = .region(p)
        case (nil, false): audience = .stations(Array(Set(target.station)).sorted())
        default: throw ValidationError("give --region PATH or --station ID (repeatable), not both")
        }
        let notice: NoticeRecord
        do {
            notice = try OfficeActions.notice(audience: audience, zh: zh, en: en, from: try time(from, "from"), until: try time(until, "until"),
                                              actor: cliActor(), now: .now(), offset: c.utcOffset)
        } catch let r as OfficeActions.Refusal { throw failure(r.message) }
        let id = try await withStore(c) { store in
            if case .stations(let ids) = audience {
                let known = try await store.stationRegions()
                if let unknown = ids.first(where: { known[$0] == nil }) { throw failure("no station \(unknown)") }
            }
            return try await store.addNotice(notice, actor: cliActor())
        }
        print("notice for \(audience) from \(RFC3339.format(notice.from, offset: c.utcOffset)) until \(RFC3339.format(notice.until, offset: c.utcOffset))")
        print(id)
    }
}

struct ListNotices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "The notices not over (--all: every one), newest first.")
    @OptionGroup var options: ConfigOption
    @Flag(help: "Ended and past notices too.") var all = false

    func run() async throws {
        let c = try options.load()
        let now = Timestamp.now()
        let notices = try await withStore(c) { store in try await store.notices(endingAfter: all ? nil : now) }
        for n in notices {
            let state = n.endedAt != nil ? "ended" : n.until <= now ? "over" : n.from > now ? "upcoming" : "running"
            print([String(n.id), state, "\(n.audience)", RFC3339.format(n.from, offset: c.utcOffset), RFC3339.format(n.until, offset: c.utcOffset),
                   n.zh, n.en ?? "", n.createdBy].joined(separator: "\t"))
        }
    }
}

struct EndNotice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "end", abstract: "End a notice now.")
    @OptionGroup var options: ConfigOption
    @Argument var id: Int64

    func run() async throws {
        let c = try options.load()
        let ended = try await withStore(c) { store in try await store.endNotice(id: id, actor: cliActor(), at: .now()) }
        guard ended != nil else { throw failure("no notice \(id)") }
        print("notice \(id) ended")
    }
}
