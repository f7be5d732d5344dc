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
        for (dimension, _) in DashboardRoutes.inclusionBreakdowns {
            funnels[dimension] = try await Stats.funnel(c, logger: l, by: dimension, filter: f)
        }
        let timing = try await Stats.timing(c, logger: l, by: .month, filter: f)
        let declines = try await Stats.declines(c, logger: l, filter: f)
        return Model(filter: f, funnels: funnels, timing: timing, declines: declines)
    }

    static func render(_ m: Model) -> String {
        let f = m.filter
        var html = "<h1>普惠金融 Inclusion</h1>" + DashboardRoutes.filterForm("/dashboard/inclusion", f)
        for (dimension, title) in DashboardRoutes.inclusionBreakdowns {
            let t = m.funnels[dimension]!
            let (bars, hidden) = DashboardRoutes.bars(t, column: "solve_rate", unit: .ratio)
            html += "<h2>\(Html.escape(title))</h2>"
            if !bars.isEmpty {
                html += Charts.figure(
                    Charts.horizontalBars(
                        title: "解决率：\(title)",
                        description: "Solve rate (amount disbursed over amount asked) by \(dimension.rawValue).",
                        axis: "解决率 solve rate (%, 10000 = 100%)",
                        bars: bars,
                        color: "#2e7d32"
                    ),
                    caption: "放款金额 ÷ 需求金额\(DashboardRoutes.hiddenNote(hidden))。"
                )
            }
            html += DashboardRoutes.table(t, caption: "融资漏斗 The funnel by \(dimension.rawValue)", keyHeading: title)
        }
        let timing = m.timing
        html +=
            "<h2>办理时效 Time to take-up and decision</h2>"
            + DashboardRoutes.table(
                timing,
                caption: "小时 hours; 截止：受理 \(Demands.takeUpWorkingDays) 个工作日，审批 \(Demands.decisionWorkingDays) 个工作日",
                keyHeading: "月份 month"
            )
        let declines = m.declines
        let (bars, hidden) = DashboardRoutes.bars(declines, column: "declined", unit: .count)
        html += "<h2>拒绝原因 Decline reasons</h2>"
        if !bars.isEmpty {
            html += Charts.figure(
                Charts.horizontalBars(
                    title: "拒绝原因",
                    description: "Declined demands by reason.",
                    axis: "笔数 demands",
                    bars: bars,
                    color: "#c62828"
                ),
                caption: "按拒绝原因\(DashboardRoutes.hiddenNote(hidden))。"
            )
        }
        html += DashboardRoutes.table(declines, caption: "拒绝原因 Decline reasons", keyHeading: "原因 reason")
        return html
    }
}
