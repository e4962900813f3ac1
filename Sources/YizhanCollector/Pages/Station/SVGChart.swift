import YizhanWeb
import Foundation

/// Charts drawn on the server as inline SVG: no script, no external asset, readable with
/// the page's text (titles and labels are real text, values in <title> for hover). Every
/// text is escaped here, so the result is `TrustedMarkup` a template may put in `{{{ }}}`.
enum SVGChart {
    private static func number(_ v: Double) -> String { v.rounded() == v ? String(Int(v)) : String(format: "%.1f", v) }

    /// Vertical bars with a label under every `labelEvery`-th bar.
    /// `maximum` fixes the scale (ratings: 5); `reference` draws a dashed line with its
    /// label across the bars (capacity against peak occupancy).
    static func bars(title: String, labels: [String], values: [Double], labelEvery: Int = 1, unit: String = "",
                     maximum: Double? = nil, reference: (value: Double, label: String)? = nil) -> TrustedMarkup {
        let w = 720.0, h = 220.0, left = 40.0, bottom = 30.0, top = 10.0
        let maxV = maximum ?? max(values.max() ?? 0, reference.map { $0.value * 1.1 } ?? 0, 1)
        let step = (w - left) / Double(max(values.count, 1))
        var out = ##"<svg viewBox="0 0 \##(Int(w)) \##(Int(h))" role="img" aria-label="\##(HTML.escape(title))" class="chart"><title>\##(HTML.escape(title))</title>"##
        out += ##"<line x1="\##(left)" y1="\##(h - bottom)" x2="\##(w)" y2="\##(h - bottom)" stroke="#555"/>"##
        out += ##"<text x="2" y="\##(top + 10)" font-size="11">\##(number(maxV))\##(unit)</text><text x="2" y="\##(h - bottom)" font-size="11">0</text>"##
        for (i, v) in values.enumerated() {
            let bh = (h - bottom - top) * v / maxV
            let x = left + Double(i) * step + step * 0.15
            out += ##"<rect x="\##(String(format: "%.1f", x))" y="\##(String(format: "%.1f", h - bottom - bh))" width="\##(String(format: "%.1f", step * 0.7))" height="\##(String(format: "%.1f", bh))" fill="#1f6feb"><title>\##(HTML.escape(labels[i])): \##(number(v))\##(unit)</title></rect>"##
            if i % max(labelEvery, 1) == 0 {
                out += ##"<text x="\##(String(format: "%.1f", x))" y="\##(h - 10)" font-size="10">\##(HTML.escape(labels[i]))</text>"##
            }
        }
        if let reference, reference.value > 0 {
            let y = String(format: "%.1f", h - bottom - (h - bottom - top) * min(reference.value, maxV) / maxV)
            out += ##"<line x1="\##(left)" y1="\##(y)" x2="\##(w)" y2="\##(y)" stroke="#b34700" stroke-width="2" stroke-dasharray="6 4"/>"##
            out += ##"<text x="\##(w - 4)" y="\##(y)" dy="-4" font-size="11" text-anchor="end">\##(HTML.escape(reference.label))</text>"##
        }
        return TrustedMarkup(drawnByServer: out + "</svg>")
    }

    /// Bars labelled for a period's buckets: every label when few, about eight when many.
    static func labelEvery(_ count: Int) -> Int { max(1, (count + 7) / 8) }

    /// A line through the points (hours of a day, say).
    static func line(title: String, labels: [String], values: [Double], labelEvery: Int = 3) -> TrustedMarkup {
        let w = 720.0, h = 220.0, left = 40.0, bottom = 30.0, top = 10.0
        let maxV = max(values.max() ?? 0, 1)
        let step = (w - left - 10) / Double(max(values.count - 1, 1))
        let points = values.enumerated().map { i, v in
            String(format: "%.1f,%.1f", left + Double(i) * step, h - bottom - (h - bottom - top) * v / maxV)
        }.joined(separator: " ")
        var out = ##"<svg viewBox="0 0 \##(Int(w)) \##(Int(h))" role="img" aria-label="\##(HTML.escape(title))" class="chart"><title>\##(HTML.escape(title))</title>"##
        out += ##"<line x1="\##(left)" y1="\##(h - bottom)" x2="\##(w)" y2="\##(h - bottom)" stroke="#555"/>"##
        out += ##"<text x="2" y="\##(top + 10)" font-size="11">\##(number(maxV))</text><text x="2" y="\##(h - bottom)" font-size="11">0</text>"##
        out += ##"<polyline points="\##(points)" fill="none" stroke="#1f6feb" stroke-width="2"/>"##
        for (i, label) in labels.enumerated() where i % max(labelEvery, 1) == 0 {
            out += ##"<text x="\##(String(format: "%.1f", left + Double(i) * step - 6))" y="\##(h - 10)" font-size="10">\##(HTML.escape(label))</text>"##
        }
        return TrustedMarkup(drawnByServer: out + "</svg>")
    }

    /// Hour of week: 7 rows (Monday first) × 24 columns, darker for more.
    static func heatmap(title: String, cells: [[Double]], rowLabels: [String]) -> TrustedMarkup {
        let cell = 26.0, left = 60.0, top = 20.0
        let maxV = max(cells.flatMap { $0 }.max() ?? 0, 1)
        var out = ##"<svg viewBox="0 0 \##(Int(left + 24 * cell + 10)) \##(Int(top + 7 * cell + 10))" role="img" aria-label="\##(HTML.escape(title))" class="chart"><title>\##(HTML.escape(title))</title>"##
        for h in stride(from: 0, to: 24, by: 3) {
            out += ##"<text x="\##(left + Double(h) * cell + 4)" y="14" font-size="10">\##(h)</text>"##
        }
        for (r, row) in cells.enumerated() {
            out += ##"<text x="2" y="\##(top + Double(r) * cell + 17)" font-size="11">\##(HTML.escape(rowLabels[r]))</text>"##
            for (c, v) in row.enumerated() {
                let shade = Int(245 - 200 * v / maxV)
                out += ##"<rect x="\##(left + Double(c) * cell)" y="\##(top + Double(r) * cell)" width="\##(cell - 2)" height="\##(cell - 2)" fill="rgb(\##(shade),\##(shade + 5 > 255 ? 255 : shade + 5),255)"><title>\##(HTML.escape(rowLabels[r])) \##(c):00 · \##(number(v))</title></rect>"##
            }
        }
        return TrustedMarkup(drawnByServer: out + "</svg>")
    }
}
