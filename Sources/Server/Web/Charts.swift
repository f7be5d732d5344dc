import CreditCore
import Foundation

/// Charts as SVG drawn on the server: each with a title and a description for screen readers,
/// axis labels with units, and the exact figure of every bar on hover (its `<title>`).
/// Geometry is in integers; values are integers too (fen, counts, or ratios in basis points).
enum Charts {
    struct Bar {
        let label: String
        let value: Int64
        /// What the bar says at its end (short form, e.g. `3.52亿元`).
        let display: String
        /// The exact figure, on hover.
        let exact: String
    }

    private static let counter = Locked(0)
    static func id(_ prefix: String) -> String {
        let n = counter.withLock { n -> Int in
            n += 1
            return n
        }
        return "\(prefix)-\(n)"
    }

    /// A vertical marker line across a horizontal bar chart (e.g. the PSI thresholds).
    struct Marker {
        let value: Int64
        let label: String
        let color: String
    }

    /// Ranked horizontal bars.
    static func horizontalBars(
        title: String,
        description: String,
        axis: String,
        bars: [Bar],
        markers: [Marker] = [],
        color: String = "#1f5fa8",
        colors: [String]? = nil
    ) -> String {
        // Room for the longest label (never clipped): up to a limit, past which a label is
        // shortened with "…" (the whole of it is in the bar's hover text).
        let labelWidth = min(maxLabelWidth, max(80, (bars.map { textWidth($0.label) }.max() ?? 0) + 12))
        let barArea = 460
        let rowHeight = 26
        let top = 10
        let height = top + bars.count * rowHeight + 44
        let maxValue = max(1, bars.map(\.value).max() ?? 1, markers.map(\.value).max() ?? 1)
        func x(_ v: Int64) -> Int { labelWidth + Int(max(0, v) * Int64(barArea) / maxValue) }
        let t = id("t")
        let d = id("d")
        var svg = """
            <svg viewBox="0 0 \(labelWidth + barArea + 130) \(height)" width="\(labelWidth + barArea + 130)" height="\(height)" role="img" aria-labelledby="\(t) \(d)">
            <title id="\(t)">\(Html.escape(title))</title><desc id="\(d)">\(Html.escape(description))</desc>
            """
        for (i, b) in bars.enumerated() {
            let y = top + i * rowHeight
            let fill = colors.map { $0[i % $0.count] } ?? color
            svg += """
                <g><title>\(Html.escape(b.label)): \(Html.escape(b.exact))</title>
                <text x="\(labelWidth - 6)" y="\(y + 17)" text-anchor="end">\(Html.escape(fit(b.label, labelWidth - 12)))</text>
                <rect x="\(labelWidth)" y="\(y + 4)" width="\(max(1, x(b.value) - labelWidth))" height="\(rowHeight - 8)" fill="\(fill)"></rect>
                <text x="\(x(b.value) + 5)" y="\(y + 17)">\(Html.escape(b.display))</text></g>
                """
        }
        let axisY = top + bars.count * rowHeight + 4
        svg += "<line class=\"axis\" x1=\"\(labelWidth)\" y1=\"\(top)\" x2=\"\(labelWidth)\" y2=\"\(axisY)\"></line>"
        svg += "<line class=\"axis\" x1=\"\(labelWidth)\" y1=\"\(axisY)\" x2=\"\(labelWidth + barArea)\" y2=\"\(axisY)\"></line>"
        for m in markers {
            svg += """
                <line x1="\(x(m.value))" y1="\(top)" x2="\(x(m.value))" y2="\(axisY)" stroke="\(m.color)" stroke-dasharray="4 3"></line>
                <text x="\(x(m.value))" y="\(axisY + 14)" text-anchor="middle" fill="\(m.color)">\(Html.escape(m.label))</text>
                """
        }
        svg += "<text x=\"\(labelWidth + barArea / 2)\" y=\"\(height - 4)\" text-anchor=\"middle\">\(Html.escape(axis))</text></svg>"
        return svg
    }

    struct Series {
        let name: String
        let color: String
        let values: [Int64]
        let exact: [String]
    }

    /// Grouped vertical columns over categories (months), with a labelled y axis.
    static func columns(
        title: String,
        description: String,
        yAxis: String,
        categories: [String],
        series: [Series],
        tick: (Int64) -> String
    ) -> String {
        let left = 96
        let plotWidth = max(360, min(1000, categories.count * (series.count * 14 + 18)))
        let plotHeight = 220
        let top = 30
        let width = left + plotWidth + 20
        let height = top + plotHeight + 60
        // Ticks at round values (1, 2, 2.5 or 5 times a power of ten), at most five above zero.
        let largest = max(1, series.flatMap(\.values).max() ?? 1)
        let step = niceStep(max: largest)
        let maxValue = step * ((largest + step - 1) / step)
        func y(_ v: Int64) -> Int { top + plotHeight - Int(max(0, v) * Int64(plotHeight) / maxValue) }
        let t = id("t")
        let d = id("d")
        var svg = """
            <svg viewBox="0 0 \(width) \(height)" width="\(width)" height="\(height)" role="img" aria-labelledby="\(t) \(d)">
            <title id="\(t)">\(Html.escape(title))</title><desc id="\(d)">\(Html.escape(description))</desc>
            """
        for k in 0...Int(maxValue / step) {
            let v = step * Int64(k)
            svg += """
                <line class="grid" x1="\(left)" y1="\(y(v))" x2="\(left + plotWidth)" y2="\(y(v))"></line>
                <text x="\(left - 6)" y="\(y(v) + 4)" text-anchor="end">\(Html.escape(tick(v)))</text>
                """
        }
        let groupWidth = plotWidth / max(1, categories.count)
        let barWidth = max(4, (groupWidth - 8) / max(1, series.count))
        for (ci, category) in categories.enumerated() {
            let gx = left + ci * groupWidth + 4
            for (si, s) in series.enumerated() where ci < s.values.count {
                let v = s.values[ci]
                svg += """
                    <rect x="\(gx + si * barWidth)" y="\(y(v))" width="\(barWidth - 1)" height="\(top + plotHeight - y(v))" fill="\(s.color)">
                    <title>\(Html.escape(category)) \(Html.escape(s.name)): \(Html.escape(s.exact[ci]))</title></rect>
                    """
            }
            svg +=
                "<text x=\"\(gx + groupWidth / 2 - 4)\" y=\"\(top + plotHeight + 14)\" text-anchor=\"middle\">\(Html.escape(category))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(top + plotHeight)\"></line>"
        svg +=
            "<line class=\"axis\" x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(left + plotWidth)\" y2=\"\(top + plotHeight)\"></line>"
        svg +=
            "<text x=\"12\" y=\"\(top + plotHeight / 2)\" transform=\"rotate(-90 12 \(top + plotHeight / 2))\" text-anchor=\"middle\">\(Html.escape(yAxis))</text>"
        // Legend.
        var lx = left
        for s in series {
            svg += "<rect x=\"\(lx)\" y=\"\(height - 22)\" width=\"12\" height=\"12\" fill=\"\(s.color)\"></rect>"
            svg += "<text x=\"\(lx + 16)\" y=\"\(height - 12)\">\(Html.escape(s.name))</text>"
            lx += 28 + s.name.count * 9
        }
        svg += "</svg>"
        return svg
    }

    /// The widest label a bar chart gives room to, in pixels.
    static let maxLabelWidth = 300

    /// A label's width in pixels at the charts' font size (CJK characters about twice a
    /// Latin letter's).
    static func textWidth(_ s: String) -> Int {
        s.unicodeScalars.reduce(0) { $0 + ($1.value >= 0x2E80 ? 13 : 7) }
    }

    /// A label shortened with "…" to fit `width` pixels.
    static func fit(_ s: String, _ width: Int) -> String {
        guard textWidth(s) > width else { return s }
        var out = ""
        for ch in s {
            if textWidth(out + String(ch)) + 13 > width { break }
            out.append(ch)
        }
        return out + "…"
    }

    /// The smallest round step (1, 2, 2.5 or 5 times a power of ten) with which five steps
    /// reach `max`.
    static func niceStep(max: Int64) -> Int64 {
        var power: Int64 = 1
        while true {
            // 2.5 times a power of ten only where it is whole (25, 250 …).
            let steps = power >= 10 ? [power, 2 * power, 25 * power / 10, 5 * power] : [power, 2 * power, 5 * power]
            if let step = steps.first(where: { $0 * 5 >= max }) { return step }
            power *= 10
        }
    }

    /// A figure around a chart, with a caption.
    static func figure(_ svg: String, caption: String) -> String {
        "<figure>\(svg)<figcaption>\(Html.escape(caption))</figcaption></figure>"
    }
}
