import Logging
import PostgresNIO
import Synchronization
import YizhanCore

/// Group commit on PostgreSQL, as on SQLite: batches that arrive while a transaction is
/// being written wait and are written together, by one writer, in the next transaction.
/// Their rollup deltas are summed per row in memory (`RollupGroup`) so each rollup row is
/// upserted once per group, all of a table's rows in one statement in key order. Without
/// it concurrent stations' transactions queued on the same region rows (the nation's, the
/// province's, the city's) until the one ahead had committed: ingest was serialized on them.
extension PostgresCollectorStore {
    struct PendingBatch {
        var station: String
        var events: [IngestedEvent]
        var reply: CheckedContinuation<Int, any Error>
    }
    struct IngestQueue {
        var pending: [PendingBatch] = []
        var writers = 0
        var stats = IngestGroupStats()
    }
    /// At most this many batches in one transaction (a bound on its statements' size).
    static let largestGroup = 256
    /// Writers at once: while one commits (and waits for its WAL flush) the next group is
    /// stored and summed, up to the region rows, which it then waits for.
    static let concurrentWriters = 4
    /// With fewer batches than this waiting, a writer waits a millisecond before taking them.
    static let gatherBelow = 8

    public func ingest(station: String, events: [IngestedEvent]) async throws -> Int {
        guard !events.isEmpty else { return 0 }
        return try await withCheckedThrowingContinuation { reply in
            let startWriter = ingestQueue.withLock { q in
                q.pending.append(PendingBatch(station: station, events: events, reply: reply))
                guard q.writers < Self.concurrentWriters else { return false }
                q.writers += 1
                return true
            }
            if startWriter { Task { await self.writeQueuedBatches() } }
        }
    }

    /// How the group commit has gone so far.
    var ingestGroupStats: IngestGroupStats { ingestQueue.withLock { $0.stats } }

    private func writeQueuedBatches() async {
        while true {
            // A moment for the batches of this burst to gather: bigger groups, fewer commits.
            if ingestQueue.withLock({ $0.pending.count }) < Self.gatherBelow { try? await Task.sleep(for: .milliseconds(1)) }
            let group = ingestQueue.withLock { q -> [PendingBatch] in
                if q.pending.isEmpty { q.writers -= 1 }
                let n = min(q.pending.count, Self.largestGroup)
                if n > 0 { q.stats.wrote(n) }
                defer { q.pending.removeFirst(n) }
                return Array(q.pending.prefix(n))
            }
            if group.isEmpty { return }
            do {
                let counts = try await writeGroup(group.map { ($0.station, $0.events) })
                for (p, n) in zip(group, counts) { p.reply.resume(returning: n) }
            } catch {
                guard group.count > 1 else { group[0].reply.resume(throwing: error); continue }
                ingestQueue.withLock { $0.stats.splits += 1 }
                // One batch's failure must not fail the others: write them one by one.
                for p in group {
                    do { p.reply.resume(returning: try await writeGroup([(p.station, p.events)])[0]) }
                    catch { p.reply.resume(throwing: error) }
                }
            }
        }
    }

    /// Stores each batch's events not stored yet, in order, and adds exactly those to the
    /// rollups, in one transaction of four round trips (each waits for a CPU on a busy
    /// machine): the locks with what the batches need to know, the insert with the stored
    /// peaks of the hours it may touch, all the rollup upserts, the commit.
    /// Returns, per batch, how many of its events were new.
    func writeGroup(_ batches: [(station: String, events: [IngestedEvent])]) async throws -> [Int] {
        try await ensurePartitions(for: batches.flatMap { $0.events.map(\.time.millisecondsSinceEpoch) })
        let stations = Array(Set(batches.map(\.station))).sorted()
        let withAmenities = Array(Set(batches.filter { $0.events.contains { $0.kind == "amenity" } }.map(\.station))).sorted()
        // The station hours and days new events can raise the peak of: their own.
        var hourKeys = Set<RollupGroup.Key>()
        for (station, events) in batches {
            for e in events { hourKeys.insert(RollupGroup.Key(key: station, start: RollupBuilder.hour(of: e.time.millisecondsSinceEpoch))) }
        }
        let dayKeys = Set(hourKeys.map { RollupGroup.Key(key: $0.key, start: RollupBuilder.day(ofHour: $0.start, offset: reportOffset)) })
        return try await transaction { db in
            // A station's batches take turns across collectors: advisory locks, taken in one
            // order (of their keys), then the stations' rows in one order (each batch sets its
            // station's live state), so two writers' groups never deadlock.
            //
            // This statement's snapshot is taken before it waits for the advisory locks. The
            // row lock is what makes its reading fresh: PostgreSQL re-reads a locked row at its
            // newest version, so `last_ack` includes what another collector committed for the
            // station meanwhile. Nothing else may be read here (a joined table would come from
            // the old snapshot); the open outages are read by the next statement.
            var regions: [String: RegionPath] = [:]
            var highestStored: [String: Int64] = [:]
            for try await (id, region, lastAck) in try await db.query("""
                SELECT s.id, s.region, s.last_ack
                FROM (SELECT count(*) FROM (SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(x, 0) AS h
                      FROM unnest(\(stations)::text[]) AS x ORDER BY h) AS l) AS z) AS locks,
                     stations s
                WHERE s.id = ANY(\(stations)::text[]) ORDER BY s.id FOR NO KEY UPDATE OF s
                """, logger: logger).decode((String, String, Int64).self) {
                regions[id] = RegionPath(parsing: region) ?? .nation
                highestStored[id] = lastAck
            }
            let (new, peaks, stored) = try await insertNew(db, batches, highestStored: highestStored, outagesOf: withAmenities,
                                                           peaksOf: (Array(hourKeys), Array(dayKeys)))
            var group = RollupGroup()
            for ((station, _), events) in zip(batches, new) where !events.isEmpty {
                let open = group.startingOutages(station: station, newEvents: events) ?? stored[station] ?? [:]
                group.add(station: station, newEvents: events, openOutages: open, region: regions[station] ?? .nation, offset: reportOffset)
            }
            try await writeRollups(db, group, peaks: peaks, read: (hourKeys, dayKeys))
            return new.map(\.count)
        }
    }

    /// Inserts the group's events not stored yet, in one statement, and returns each batch's
    /// (in its order); sets each station's live occupancy from its newest event (never rolled
    /// back by an older batch) and reads the stored peaks of the given station hours and
    /// days, and the open outages of the stations in `outagesOf`, in the same statement.
    /// `highestStored`: each station's `last_ack` as read under its lock, the highest sequence
    /// number it has stored.
    private func insertNew(_ db: PostgresConnection, _ batches: [(station: String, events: [IngestedEvent])],
                           highestStored: [String: Int64], outagesOf outageStations: [String],
                           peaksOf peakKeys: (hours: [RollupGroup.Key], days: [RollupGroup.Key]))
        async throws -> (new: [[UsageEvent]], peaks: (hours: [RollupGroup.Key: Int64], days: [RollupGroup.Key: Int64]), outages: [String: OpenOutages]) {
        struct Key: Hashable { var station: String, seq: Int64 }
        // An event belongs to the first batch of the group that carries it: a later copy is a
        // duplicate, as it would be written one by one.
        var owner: [Key: (batch: Int, at: Int)] = [:]
        var ids: [String] = [], seqs: [Int64] = [], times: [Int64] = [], kinds: [String] = []
        // Arrays cannot hold NULL here, so absent values travel as '' or -1 and come back as
        // NULL (the collector never accepts an empty string or a negative stay, see
        // CollectorHTTP.validate).
        var keys: [String] = [], readers: [String] = [], occupancies: [Int64] = [], stays: [Int64] = [], details: [String] = []
        // Whether the replay guard must look for the event: only when its number is not above
        // every number its station has stored. A station sends in order, so a fresh batch's
        // events skip it; a replay, or a batch that overlaps one, has its events looked up.
        // (Its station's highest number goes with each event, an array of bigint: an array of
        // booleans cost PostgresNIO more to encode than all the other columns together.)
        var highestOfStation: [Int64] = []
        var newest: [String: IngestedEvent] = [:]
        for (i, (station, events)) in batches.enumerated() {
            let highest = highestStored[station] ?? .max
            for (j, e) in events.enumerated() where owner[Key(station: station, seq: e.seq)] == nil {
                owner[Key(station: station, seq: e.seq)] = (i, j)
                ids.append(station); seqs.append(e.seq); times.append(e.time.millisecondsSinceEpoch); kinds.append(e.kind)
                keys.append(e.cardKey ?? ""); readers.append(e.reader ?? ""); occupancies.append(Int64(e.occupancy))
                stays.append(e.staySeconds ?? -1); details.append(e.detail ?? ""); highestOfStation.append(highest)
            }
            if let last = events.max(by: { $0.seq < $1.seq }), last.seq > newest[station]?.seq ?? .min { newest[station] = last }
        }
        // Each lookup below (the replay guard, the stored peaks) is a LATERAL subquery with
        // LIMIT 1: an index probe per row of the group, whatever the statistics say. As plain
        // joins the planner hashed whole partitions and rollup tables when its statistics lagged
        // a fast-growing table (seen under load: a seq scan of every events partition per group).
        // The guard looks in every month's partition (a number is one event whatever its time);
        // the primary key's conflict clause still catches the same event in its own month.
        let live = newest.keys.sorted()
        let liveSeqs = live.map { newest[$0]!.seq }, liveOccupancies = live.map { Int64(newest[$0]!.occupancy) }
        let rows = try await db.query("""
            WITH inserted AS (
                INSERT INTO events(station_id, seq, time_ms, kind, card_key, reader, occupancy, stay_seconds, detail)
                SELECT i, s, t, k, NULLIF(c, ''), NULLIF(r, ''), o, NULLIF(y, -1), NULLIF(d, '')
                FROM unnest(\(ids)::text[], \(seqs)::bigint[], \(times)::bigint[], \(kinds)::text[], \(keys)::text[], \(readers)::text[],
                            \(occupancies)::bigint[], \(stays)::bigint[], \(details)::text[], \(highestOfStation)::bigint[]) AS b(i, s, t, k, c, r, o, y, d, h)
                    LEFT JOIN LATERAL (SELECT true AS found FROM events e WHERE b.s <= b.h AND e.station_id = b.i AND e.seq = b.s LIMIT 1) AS stored ON true
                WHERE stored.found IS NULL
                ON CONFLICT (station_id, seq, time_ms) DO NOTHING
                RETURNING station_id, seq
            ), live AS (
                UPDATE stations SET occupancy = l.o, last_ack = l.s
                FROM unnest(\(live)::text[], \(liveSeqs)::bigint[], \(liveOccupancies)::bigint[]) AS l(i, s, o)
                WHERE stations.id = l.i AND stations.last_ack < l.s
            ), peaks AS (
                SELECT 'h' AS level, k.s AS station_id, k.m AS start_ms, r.peak_occupancy
                FROM unnest(\(peakKeys.hours.map(\.key))::text[], \(peakKeys.hours.map(\.start))::bigint[]) AS k(s, m)
                CROSS JOIN LATERAL (SELECT peak_occupancy FROM rollup_station_hours WHERE station_id = k.s AND start_ms = k.m LIMIT 1) AS r
                UNION ALL
                SELECT 'd', k.s, k.m, r.peak_occupancy
                FROM unnest(\(peakKeys.days.map(\.key))::text[], \(peakKeys.days.map(\.start))::bigint[]) AS k(s, m)
                CROSS JOIN LATERAL (SELECT peak_occupancy FROM rollup_station_days WHERE station_id = k.s AND start_ms = k.m LIMIT 1) AS r
            )
            SELECT 'e', station_id, seq, 0::bigint, NULL::text FROM inserted
            UNION ALL SELECT level, station_id, start_ms, peak_occupancy, NULL FROM peaks
            UNION ALL SELECT 'o', station_id, since_ms, 0, amenity FROM amenity_outages WHERE station_id = ANY(\(outageStations)::text[])
            """, logger: logger)
        // The inserted events come back as their keys only: the rest is what the batch sent.
        var new: [[(at: Int, event: UsageEvent)]] = Array(repeating: [], count: batches.count)
        var peaks: (hours: [RollupGroup.Key: Int64], days: [RollupGroup.Key: Int64]) = ([:], [:])
        var outages: [String: OpenOutages] = [:]
        for try await (level, station, number, peak, amenity) in rows.decode((String, String, Int64, Int64, String?).self) {
            switch level {
            case "h": peaks.hours[RollupGroup.Key(key: station, start: number)] = peak
            case "d": peaks.days[RollupGroup.Key(key: station, start: number)] = peak
            case "o": if let amenity { outages[station, default: [:]][amenity] = number }
            default:
                guard let o = owner[Key(station: station, seq: number)] else { continue }
                new[o.batch].append((o.at, UsageEvent(station: station, ingested: batches[o.batch].events[o.at])))
            }
        }
        // In each batch's own order.
        return (new.map { $0.sorted { $0.at < $1.at }.map(\.event) }, peaks, outages)
    }

    /// Adds a group's deltas to the rollup tables (inside the ingest transaction) in one
    /// statement: stations' hours, days, weeks and months (their batches hold the stations'
    /// locks), regions' hours, regions' days, each table's rows locked in key order.
    /// `peaks`: the stored peaks read for the keys in `read`.
    func writeRollups(_ db: PostgresConnection, _ group: RollupGroup, peaks: (hours: [RollupGroup.Key: Int64], days: [RollupGroup.Key: Int64]),
                      read: (hours: Set<RollupGroup.Key>, days: Set<RollupGroup.Key>)) async throws {
        guard !group.isEmpty else { return }
        let hours = group.sortedStationHours, days = group.sortedStationDays
        // The stations' peaks before: their regions' peaks grow by what theirs grow by. A
        // peak comes from the events of its own hour, so the keys read cover every row with
        // one; any other is read here (never expected).
        var oldHours = peaks.hours, oldDays = peaks.days
        let missingHours = hours.filter { $0.1.figures.peakOccupancy > 0 && !read.hours.contains($0.0) }
        let missingDays = days.filter { $0.1.figures.peakOccupancy > 0 && !read.days.contains($0.0) }
        if !missingHours.isEmpty { oldHours.merge(try await storedPeaks(db, .stationHours, missingHours)) { a, _ in a } }
        if !missingDays.isEmpty { oldDays.merge(try await storedPeaks(db, .stationDays, missingDays)) { a, _ in a } }
        let regions = group.regionRows(oldHourPeaks: oldHours, oldDayPeaks: oldDays)
        var binds = PostgresBindings()
        var statements: [String] = []
        let levels = [(RollupTable.stationHours, hours), (.stationDays, days), (.stationWeeks, group.sortedStationWeeks),
                      (.stationMonths, group.sortedStationMonths), (.regionHours, regions.hours), (.regionDays, regions.days)]
        for (table, rows) in levels where !rows.isEmpty {
            statements.append(Self.upsertStatement(table, firstBind: binds.count + 1))
            Self.appendUpsertBinds(&binds, rows)
        }
        if let last = statements.popLast() {
            let with = statements.enumerated().map { "u\($0.offset) AS (\($0.element))" }
            try await db.query(PostgresQuery(unsafeSQL: (with.isEmpty ? "" : "WITH " + with.joined(separator: ",\n") + "\n") + last, binds: binds),
                               logger: logger)
        }
        for (station, outages) in group.outages.sorted(by: { $0.key < $1.key }) { try await replaceOutages(db, station: station, outages) }
    }

    private func storedPeaks(_ db: PostgresConnection, _ table: RollupTable, _ rows: [(RollupGroup.Key, RollupPlan.Row)]) async throws
        -> [RollupGroup.Key: Int64] {
        guard !rows.isEmpty else { return [:] }
        var binds = PostgresBindings()
        binds.append(rows.map(\.0.key)); binds.append(rows.map(\.0.start))
        var out: [RollupGroup.Key: Int64] = [:]
        for try await (station, start, peak) in try await db.query(PostgresQuery(unsafeSQL: """
            SELECT k.s, k.m, r.peak_occupancy FROM unnest($1::text[], $2::bigint[]) AS k(s, m)
            CROSS JOIN LATERAL (SELECT peak_occupancy FROM \(table.rawValue) WHERE station_id = k.s AND start_ms = k.m LIMIT 1) AS r
            """, binds: binds), logger: logger).decode((String, Int64, Int64).self) { out[RollupGroup.Key(key: station, start: start)] = peak }
        return out
    }
}
