import CreditCore
import Foundation
import PostgresNIO
import Store

/// Whether credit reaches small firms and farmers (`/dashboard/inclusion`): the funnel by size, farmer, entity type, first loan, product kind, industry and grade; timing; declines.
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum InclusionPage {
    struct Model {
        let filter: StatFilter
        /// By breakdown (`DashboardRoutes.inclusionBreakdowns`).
        let funnels: [StatDimension: StatTable]
        let timing: StatTable
        let declines: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        var funnels: [StatDimension: StatTable] = [:]
        for (dimension, _, _) in DashboardRoutes.inclusionBreakdowns {
            funnels[dimension] = try await Stats.funnel(c, logger: l, by: dimension, filter: f)
        }
        let timing = try await Stats.timing(c, logger: l, by: .month, filter: f)
        let declines = try await Stats.declines(c, logger: l, filter: f)
        return Model(filter: f, funnels: funnels, timing: timing, declines: declines)
    }

    static func render(_ m: Model, lang: Lang) -> String {
        let f = m.filter
        var html = "<h1>\(lang.t("普惠金融", "Inclusion"))</h1>" + DashboardRoutes.filterForm("/dashboard/inclusion", f, lang)
        for (dimension, zh, en) in DashboardRoutes.inclusionBreakdowns {
            let title = lang.t(zh, en)
            let t = m.funnels[dimension]!
            let (bars, hidden) = DashboardRoutes.bars(t, column: "solve_rate", unit: .ratio, lang: lang)
            html += "<h2>\(Html.escape(title))</h2>"
            if !bars.isEmpty {
                html += Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("解决率：按\(zh)", "Solve rate by \(en)"),
                        description: lang.t("放款金额除以需求金额，按\(zh)。", "Amount disbursed over amount asked, by \(en)."),
                        axis: lang.t("解决率", "solve rate"),
                        bars: bars,
                        color: "#2e7d32"
                    ),
                    caption: lang.t("放款金额 ÷ 需求金额", "Disbursed ÷ asked") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
                )
            }
            html += DashboardRoutes.table(
                t,
                caption: lang.t("融资漏斗：按\(zh)", "The funnel by \(en)"),
                keyHeading: title,
                lang: lang
            )
        }
        let timing = m.timing
        html +=
            "<h2>\(lang.t("办理时效", "Time to take-up and decision"))</h2>"
            + DashboardRoutes.table(
                timing,
                caption: lang.t(
                    "单位：小时；时限：受理 \(Demands.takeUpWorkingDays) 个工作日，审批 \(Demands.decisionWorkingDays) 个工作日；受理超时：匹配后逾期既未受理也未放弃的需求（含始终未受理的），审批超时：受理后逾期未决定的；中位数与百分位至少 \(Rounding.minimumValues) 笔才给出",
                    "Hours; deadlines: \(Demands.takeUpWorkingDays) working days to take up, \(Demands.decisionWorkingDays) to decide; take-up overdue: matched demands neither taken up nor passed in time (including those never taken up); decision overdue: taken up and not decided in time; medians and percentiles only over at least \(Rounding.minimumValues) demands"
                ),
                keyHeading: lang.t("月份", "month"),
                lang: lang
            )
        let declines = m.declines
        let (bars, hidden) = DashboardRoutes.bars(declines, column: "declined", unit: .count, lang: lang)
        html += "<h2>\(lang.t("拒绝原因", "Decline reasons"))</h2>"
        if !bars.isEmpty {
            html += Charts.figure(
                Charts.horizontalBars(
                    title: lang.t("拒绝原因", "Decline reasons"),
                    description: lang.t("被拒绝的需求，按原因。", "Declined demands by reason."),
                    axis: lang.t("笔数", "demands"),
                    bars: bars,
                    color: "#c62828"
                ),
                caption: lang.t("按拒绝原因", "By reason") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
            )
        }
        html += DashboardRoutes.table(declines, caption: lang.t("拒绝原因", "Decline reasons"), keyHeading: lang.t("原因", "reason"), lang: lang)
        return html
    }
}
