import CreditCore
import Foundation
import PostgresNIO
import Store

/// Each bank's service (`/dashboard/banks`).
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum BanksPage {
    struct Model {
        let filter: StatFilter
        let banks: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        let banks = try await Stats.banks(c, logger: l, filter: f)
        return Model(filter: f, banks: banks)
    }

    static func render(_ m: Model) -> String {
        let f = m.filter
        let t = m.banks
        var html = "<h1>银行服务 Bank service</h1>" + DashboardRoutes.filterForm("/dashboard/banks", f)
        html +=
            "<div class=\"tiles\">"
            + DashboardRoutes.tile(
                DashboardRoutes.percent(DashboardRoutes.value(t, t.total, "connected")),
                "银行接入率 banks connected (target > 50%)"
            )
        html += DashboardRoutes.tile(String(t.rows.count), "银行 banks") + "</div>"
        let (taken, hidden) = DashboardRoutes.bars(t, column: "taken_up", unit: .count)
        if !taken.isEmpty {
            html +=
                "<h2>受理笔数 Demands taken up</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各银行受理笔数",
                        description: "Demands each bank took up.",
                        axis: "笔数 demands",
                        bars: taken.sorted { $0.value > $1.value }
                    ),
                    caption: "银行排行\(DashboardRoutes.hiddenNote(hidden))。"
                )
        }
        let (overdue, _) = DashboardRoutes.bars(t, column: "take_up_overdue", unit: .count)
        if overdue.contains(where: { $0.value > 0 }) {
            html +=
                "<h2>受理超时 Overdue take-ups</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: "各银行受理超时笔数（\(Demands.takeUpWorkingDays) 个工作日）",
                        description: "Matched demands a bank neither took up nor passed within \(Demands.takeUpWorkingDays) working days.",
                        axis: "笔数 demands",
                        bars: overdue.sorted { $0.value > $1.value },
                        color: "#b26a00"
                    ),
                    caption: "超过 \(Demands.takeUpWorkingDays) 个工作日未受理也未放弃。"
                )
        }
        html += "<h2>银行服务排行 League table</h2>" + DashboardRoutes.table(t, caption: "银行服务 Bank service", keyHeading: "银行 bank")
        return html
    }
}
