import CreditCore
import Foundation
import PostgresNIO
import Store

/// The dashboard's overview (`/dashboard`): key figures, the funnel, the trend by month, districts.
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum OverviewPage {
    struct Model {
        let filter: StatFilter
        let byMonth: StatTable
        let byDistrict: StatTable
        let timing: StatTable
        let banks: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        let byMonth = try await Stats.funnel(c, logger: l, by: .month, filter: f)
        let byDistrict = try await Stats.funnel(c, logger: l, by: .district, filter: f)
        let timing = try await Stats.timing(c, logger: l, by: .month, filter: f)
        let banks = try await Stats.banks(c, logger: l, filter: f)
        return Model(filter: f, byMonth: byMonth, byDistrict: byDistrict, timing: timing, banks: banks)
    }

    static func render(_ m: Model, lang: Lang) -> String {
        let f = m.filter
        let byMonth = m.byMonth
        let byDistrict = m.byDistrict
        let timing = m.timing
        let banks = m.banks
        let t = byMonth.total
        let posted = DashboardRoutes.int(byMonth, t, "posted")
        let postedFen = DashboardRoutes.int(byMonth, t, "posted_fen")
        let disbursedFen = DashboardRoutes.int(byMonth, t, "disbursed_fen")
        var html =
            "<h1>\(lang.t("总览", "Overview"))</h1><p class=\"note\">\(lang.t("信贷是否公平、及时地流向小微企业和农户？", "Is credit reaching small firms and farmers, fairly and fast?"))</p>"
        html += DashboardRoutes.filterForm("/dashboard", f, lang)
        html += "<h2>\(lang.t("关键指标", "Key figures"))</h2><div class=\"tiles\">"
        html += DashboardRoutes.tile(
            posted.map(Html.countShort) ?? "–",
            lang.t("融资需求笔数", "demands posted"),
            exact: posted.map(Html.grouped)
        )
        html += DashboardRoutes.tile(
            postedFen.map(Html.yuanShort) ?? "–",
            lang.t("需求金额", "amount asked"),
            exact: postedFen.map(Html.yuanExact)
        )
        html += DashboardRoutes.tile(
            disbursedFen.map(Html.yuanShort) ?? "–",
            lang.t("放款金额", "amount disbursed"),
            exact: disbursedFen.map(Html.yuanExact)
        )
        html += DashboardRoutes.tile(
            DashboardRoutes.percent(DashboardRoutes.value(byMonth, t, "solve_rate"), lang),
            lang.t("解决率（放款 ÷ 需求金额）", "solve rate (disbursed ÷ asked)")
        )
        html += DashboardRoutes.tile(
            DashboardRoutes.percent(DashboardRoutes.value(banks, banks.total, "connected"), lang),
            DashboardRoutes.connectedLabel(banks, lang)
        )
        let median: String =
            if case .decimal(let d) = DashboardRoutes.value(timing, timing.total, "take_up_hours_median") {
                lang.t("\(d) 小时", "\(d) h")
            } else { "–" }
        let takenUp = DashboardRoutes.int(timing, timing.total, "taken_up").map(Html.grouped) ?? "–"
        html += DashboardRoutes.tile(median, lang.t("受理时长中位数（\(takenUp) 笔）", "median time to take-up (of \(takenUp))"))
        html += "</div>"

        // The funnel.
        if let t, !t.suppressed {
            let steps: [(String, String, String?)] = [
                (lang.t("发布", "posted"), "posted", "posted_fen"), (lang.t("受理", "taken up"), "taken_up", nil),
                (lang.t("授信", "granted"), "granted", "granted_fen"), (lang.t("放款", "disbursed"), "disbursed", "disbursed_fen"),
            ]
            let bars = steps.map { (label, count, amount) -> Charts.Bar in
                let n = DashboardRoutes.int(byMonth, t, count) ?? 0
                let fen = amount.flatMap { DashboardRoutes.int(byMonth, t, $0) }
                return .init(
                    label: label,
                    value: n,
                    display: Html.countShort(n) + (fen.map { " · " + Html.yuanShort($0) } ?? ""),
                    exact: Html.grouped(n) + lang.t(" 笔", "") + (fen.map { " · " + Html.yuanExact($0) } ?? "")
                )
            }
            html +=
                "<h2>\(lang.t("融资漏斗", "The funnel"))</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("融资漏斗：发布 → 受理 → 授信 → 放款（笔数）", "The funnel: posted → taken up → granted → disbursed (demands)"),
                        description: bars.map { "\($0.label) \($0.exact)" }.joined(separator: lang.t("；", "; ")),
                        axis: lang.t("需求笔数", "demands"),
                        bars: bars,
                        colors: ["#1f5fa8", "#3c7cc4", "#5f9be0", "#2e7d32"]
                    ),
                    caption: lang.t(
                        "每一步的笔数与金额；悬停查看完整数字（已按隐私规则修约）。",
                        "Count and amount at each step; hover for the full figure (rounded by the privacy rules)."
                    )
                )
        }

        // Trend by month.
        let shown = byMonth.rows.filter { !$0.suppressed }
        if !shown.isEmpty {
            let asked = shown.map { DashboardRoutes.int(byMonth, $0, "posted_fen") ?? 0 }
            let paid = shown.map { DashboardRoutes.int(byMonth, $0, "disbursed_fen") ?? 0 }
            let thisMonth = String(Day.todayInChina().description.prefix(7))
            html +=
                "<h2>\(lang.t("月度趋势", "Trend by month"))</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: lang.t("每月需求金额与放款金额（元）", "Amount asked and disbursed by month (yuan)"),
                        description: lang.t("按需求发布月份统计的需求金额与放款金额。", "Amount asked and amount disbursed by month of posting."),
                        yAxis: lang.t("金额（元）", "amount (yuan)"),
                        categories: shown.map { $0.key == thisMonth ? $0.key + lang.t("（本月至今）", " (so far)") : $0.key },
                        series: [
                            .init(name: lang.t("需求", "asked"), color: "#1f5fa8", values: asked, exact: asked.map(Html.yuanExact)),
                            .init(name: lang.t("放款", "disbursed"), color: "#2e7d32", values: paid, exact: paid.map(Html.yuanExact)),
                        ],
                        tick: Html.yuanTick
                    ),
                    caption: lang.t("按需求发布月份统计", "By month the demand was posted")
                        + DashboardRoutes.hiddenNote(byMonth.rows.count - shown.count, lang)
                        + (shown.contains { $0.key == thisMonth } ? lang.t("；本月尚未结束。", "; this month is not over.") : lang.t("。", "."))
                )
        }

        // Districts, ranked by amount disbursed.
        let (districtBars, hidden) = DashboardRoutes.bars(byDistrict, column: "disbursed_fen", unit: .fen, lang: lang)
        if !districtBars.isEmpty {
            html +=
                "<h2>\(lang.t("各区县放款", "Disbursed by district"))</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("各区县放款金额排名", "Amount disbursed by district"),
                        description: lang.t("各区县放款金额，从多到少。", "Amount disbursed by district, largest first."),
                        axis: lang.t("放款金额（元）", "amount disbursed (yuan)"),
                        bars: districtBars.sorted { $0.value > $1.value }
                    ),
                    caption: lang.t("按区县", "By district") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
                )
        }
        html +=
            "<h2>\(lang.t("按月明细", "By month, exact figures"))</h2>"
            + DashboardRoutes.table(
                byMonth,
                caption: lang.t("融资漏斗按月", "The funnel by month"),
                keyHeading: lang.t("月份", "month"),
                lang: lang
            )
        html +=
            "<h2>\(lang.t("按区县明细", "By district"))</h2>"
            + DashboardRoutes.table(
                byDistrict,
                caption: lang.t("融资漏斗按区县", "The funnel by district"),
                keyHeading: lang.t("区县", "district"),
                lang: lang
            )
        return html
    }
}
