import ArgumentParser
import AsyncHTTPClient
import CompressNIO
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import Synchronization
import YizhanCollector
import YizhanCore
import YizhanTestSupport
#if canImport(Glibc)
import Glibc
#endif

extension AnalyticsBench {
    // MARK: the report

    struct Figures {
        var load: LoadFigures?
        var bare: BareFigures?
        var inProcess = Timings()
        var http = HTTPFigures()
        var catchUp: CatchUpFigures?
        var pages = PageFigures()
    }

    func report(_ f: Figures, network: Network, loadAtStart: String) {
        var goals: [(String, Bool?)] = []
        say("")
        if let l = f.load {
            let overall = Double(l.events) / l.seconds
            say("| load through store.ingest | \(l.events) events in \(String(format: "%.1f", l.seconds)) s | \(fmt(overall)) events/s overall |")
            if let b = f.bare {
                let ingestRate = Double(l.firstChunkEvents) / l.firstChunkSeconds, bareRate = Double(b.events) / b.seconds
                say("| days 0–\(l.firstChunkDays - 1), ingest with rollups and sketches | \(fmt(ingestRate)) events/s | bare insert of the same rows | \(fmt(bareRate)) rows/s | \(pct(ingestRate / bareRate)) | goal ≥ 50% |")
                goals.append(("ingest with rollups ≥ 50% of a bare insert (\(pct(ingestRate / bareRate)))", ingestRate / bareRate >= 0.5))
            }
        }
        if let c = f.catchUp {
            say("| catch-up over HTTP | \(c.stations) stations × \(c.events / c.stations) events = \(c.events) | \(String(format: "%.1f s", c.seconds)) | \(fmt(Double(c.events) / c.seconds)) events/s | goal < 60 s for 1,000,000 |")
            goals.append(("the \(c.events)-event catch-up under 60 s (\(String(format: "%.1f s", c.seconds)))", c.events >= 1_000_000 ? c.seconds < 60 : nil))
        }
        say("")
        say("| question | buckets | in-process p50 | p99 | HTTP p50 | p99 | p99 < 100 ms |")
        say("| --- | --- | --- | --- | --- | --- | --- |")
        var worst = 0.0
        for q in questions {
            let a = f.inProcess.samples[q.label] ?? [], h = f.http.timings.samples[q.label] ?? []
            let p99 = max(a.isEmpty ? 0 : p(a, 0.99), h.isEmpty ? 0 : p(h, 0.99))
            worst = max(worst, p99)
            say("| \(q.label) | \(f.inProcess.buckets[q.label] ?? 0) | \(ms(p(a, 0.5))) | \(ms(p(a, 0.99))) | \(ms(p(h, 0.5))) | \(ms(p(h, 0.99))) | \(p99 < 0.1 ? "yes" : "**no**") |")
        }
        let r = f.inProcess.rankings, rh = f.http.timings.rankings
        say("| rankings, province × month (by visits, top 20) | 30 days | \(ms(p(r, 0.5))) | \(ms(p(r, 0.99))) | \(ms(p(rh, 0.5))) | \(ms(p(rh, 0.99))) | \(max(p(r, 0.99), p(rh, 0.99)) < 0.1 ? "yes" : "**no**") |")
        worst = max(worst, p(r, 0.99), p(rh, 0.99))
        goals.append(("every question under 100 ms p99 (worst \(ms(worst)))", worst < 0.1))

        say("")
        say("| period and bucket | province / station in-process p50 | p99 | HTTP p50 | p99 | ≤ 3× |")
        say("| --- | --- | --- | --- | --- | --- |")
        var worstRatio = 0.0
        for q in questions where q.scope == "province" {
            let station = Question(scope: "station", period: q.period, bucket: q.bucket).label
            func ratio(_ t: Timings, _ quantile: Double) -> Double {
                guard let a = t.samples[q.label], let b = t.samples[station], !a.isEmpty, !b.isEmpty else { return .nan }
                return p(a, quantile) / p(b, quantile)
            }
            let rs = [ratio(f.inProcess, 0.5), ratio(f.inProcess, 0.99), ratio(f.http.timings, 0.5), ratio(f.http.timings, 0.99)]
            worstRatio = max(worstRatio, rs[0], rs[2])
            say("| \(q.period) by \(q.bucket.rawValue) | " + rs.map { String(format: "%.2f×", $0) }.joined(separator: " | ") + " | \(max(rs[0], rs[2]) <= 3 ? "yes" : "**no**") |")
        }
        goals.append(("the province's answer ≤ 3× one station's, same period and buckets (worst p50 ratio \(String(format: "%.2f×", worstRatio)))", worstRatio <= 3))

        if let goal = reportPages(f.pages, network) { goals.append(goal) }

        say("")
        let rss = f.http.rss.filter { !$0.mb.isNaN }
        if rss.count >= 6 {
            var byLabel: [String: Double] = [:]
            for s in rss { byLabel[s.label] = max(byLabel[s.label] ?? 0, s.mb) }
            let third = rss.count / 3
            let middle = rss[third..<(2 * third)].map(\.mb).max()!, last = rss[(2 * third)...].map(\.mb).max()!
            // Flat: after every question was asked (its working set taken), asking them all
            // again adds nothing (within 5% + 2 MB). Comparing the run's thirds took the one
            // step a bigger question takes (the ranking of 10,000 stations, asked last: about
            // 13 MB, then level) for growth.
            let first = rss.filter { $0.label != Self.askedAgain }.map(\.mb).max()!
            let again = rss.filter { $0.label == Self.askedAgain }.map(\.mb).max() ?? first
            let flat = again <= first * 1.05 + 2
            say("collector RSS while asking over HTTP (\(rss.count) samples): first \(String(format: "%.1f", rss.first!.mb)) MB, highest \(String(format: "%.1f", rss.map(\.mb).max()!)) MB, last \(String(format: "%.1f", rss.last!.mb)) MB; middle third's highest \(String(format: "%.1f", middle)) MB, last third's \(String(format: "%.1f", last)) MB")
            say("highest RSS per question: " + (questions.map(\.label) + ["rankings"]).compactMap { l in byLabel[l].map { "\(l) \(String(format: "%.1f", $0))" } }.joined(separator: "; "))
            say("asked again: highest \(String(format: "%.1f", again)) MB against \(String(format: "%.1f", first)) MB the first time")
            goals.append(("collector memory flat whatever the question (all asked again ≤ the first time's highest + 5% + 2 MB)", flat))
        }
        say("")
        say("load average: at start \(loadAtStart), at the end \(loadAverage())")
        for (text, met) in goals {
            say("\(met == nil ? "not judged" : met! ? "goal met" : "goal NOT met"): \(text)")
        }
    }
}
