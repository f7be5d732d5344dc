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

    static func render(_ m: Model) -> String {
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
            "<h1>总览 Overview</h1><p class=\"note\">信贷是否公平、及时地流向小微企业和农户？Is credit reaching small firms and farmers, fairly and fast?</p>"
        html += DashboardRoutes.filterForm("/dashboard", f)
        html += "<h2>关键指标 Key figures</h2><div class=\"tiles\">"
        html += DashboardRoutes.tile(posted.map(Html.countShort) ?? "–", "融资需求 demands posted", exact: posted.map(Html.grouped))
        html += DashboardRoutes.tile(postedFen.map(Html.yuanShort) ?? "–", "需求金额 amount asked", exact: postedFen.map(Html.yuanExact))
        html += DashboardRoutes.tile(
            disbursedFen.map(Html.yuanShort) ?? "–",
            "放款金额 amount disbursed",
            exact: disbursedFen.map(Html.yuanExact)
        )
        html += DashboardRoutes.tile(
            DashboardRoutes.percent(DashboardRoutes.value(byMonth, t, "solve_rate")),
            "解决率 solve rate (disbursed ÷ asked)"
        )
        html += DashboardRoutes.tile(
            DashboardRoutes.percent(DashboardRoutes.value(banks, banks.total, "connected")),
            "银行接入率 banks connected (target > 50%)"
        )
        let median: String =
            if case .decimal(let d) = DashboardRoutes.value(timing, timing.total, "take_up_hours_median") { "\(d) h" } else { "–" }
        html += DashboardRoutes.tile(median, "受理时长中位数 median hours to take-up")
        html += "</div>"

        // The funnel.
        if let t, !t.suppressed {
            let steps: [(String, String, String?)] = [
                ("发布 posted", "posted", "posted_fen"), ("受理 taken up", "taken_up", nil),
                ("授信 granted", "granted", "granted_fen"), ("放款 disbursed", "disbursed", "disbursed_fen"),
            ]
            let bars = steps.map { (label, count, amount) -> Charts.Bar in
                let n = DashboardRoutes.int(byMonth, t, count) ?? 0
                let fen = amount.flatMap { DashboardRoutes.int(byMonth, t, $0) }
                return .init(
                    label: label,
                    value: n,
                    display: Html.countShort(n) + (fen.map { " · " + Html.yuanShort($0) } ?? ""),
                    exact: Html.grouped(n) + " 笔" + (fen.map { " · " + Html.yuanExact($0) } ?? "")
                )
            }
            html +=
                "<h2>融资漏斗 The funnel</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "融资漏斗：发布 → 受理 → 授信 → 放款 (笔数)",
                        description:
                            "Demands posted, taken up, granted and disbursed: "
                            + bars.map { "\($0.label) \($0.exact)" }.joined(separator: "; "),
                        axis: "需求笔数 number of demands",
                        bars: bars,
                        colors: ["#1f5fa8", "#3c7cc4", "#5f9be0", "#2e7d32"]
                    ),
                    caption: "每一步的笔数与金额；悬停查看精确数字。Count and amount at each step; hover for exact figures."
                )
        }

        // Trend by month.
        let shown = byMonth.rows.filter { !$0.suppressed }
        if !shown.isEmpty {
            let asked = shown.map { DashboardRoutes.int(byMonth, $0, "posted_fen") ?? 0 }
            let paid = shown.map { DashboardRoutes.int(byMonth, $0, "disbursed_fen") ?? 0 }
            html +=
                "<h2>月度趋势 Trend by month</h2>"
                + Charts.figure(
                    Charts.columns(
                        title: "每月需求金额与放款金额 (元)",
                        description: "Amount asked and amount disbursed by month of posting.",
                        yAxis: "金额 amount (元)",
                        categories: shown.map(\.key),
                        series: [
                            .init(name: "需求 asked", color: "#1f5fa8", values: asked, exact: asked.map(Html.yuanExact)),
                            .init(name: "放款 disbursed", color: "#2e7d32", values: paid, exact: paid.map(Html.yuanExact)),
                        ],
                        tick: Html.yuanTick
                    ),
                    caption: "按需求发布月份统计\(DashboardRoutes.hiddenNote(byMonth.rows.count - shown.count))。By month the demand was posted."
                )
        }

        // Districts, ranked by amount disbursed.
        let (districtBars, hidden) = DashboardRoutes.bars(byDistrict, column: "disbursed_fen", unit: .fen)
        if !districtBars.isEmpty {
            html +=
                "<h2>各区县放款 Disbursed by district</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各区县放款金额排名",
                        description: "Amount disbursed by district, largest first.",
                        axis: "放款金额 amount disbursed (元)",
                        bars: districtBars.sorted { $0.value > $1.value }
                    ),
                    caption: "按行政区划代码\(DashboardRoutes.hiddenNote(hidden))。By district code."
                )
        }
        html +=
            "<h2>按月明细 By month, exact figures</h2>"
            + DashboardRoutes.table(byMonth, caption: "融资漏斗按月 The funnel by month", keyHeading: "月份 month")
        html +=
            "<h2>按区县明细 By district</h2>"
            + DashboardRoutes.table(byDistrict, caption: "融资漏斗按区县 The funnel by district", keyHeading: "区县 district")
        return html
    }
}
