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

    static func render(_ m: Model, lang: Lang) -> String {
        let f = m.filter
        let t = m.banks
        var html = "<h1>\(lang.t("银行服务", "Bank service"))</h1>" + DashboardRoutes.filterForm("/dashboard/banks", f, lang)
        html +=
            "<div class=\"tiles\">"
            + DashboardRoutes.tile(
                DashboardRoutes.percent(DashboardRoutes.value(t, t.total, "connected"), lang),
                DashboardRoutes.connectedLabel(t, lang)
            )
        html += DashboardRoutes.tile(String(t.rows.count), lang.t("本平台银行", "banks registered")) + "</div>"
        let (taken, hidden) = DashboardRoutes.bars(t, column: "taken_up", unit: .count, lang: lang)
        if !taken.isEmpty {
            html +=
                "<h2>\(lang.t("受理笔数", "Demands taken up"))</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t("各银行受理笔数", "Demands each bank took up"),
                        description: lang.t("各银行受理的融资需求笔数，从多到少。", "Demands each bank took up, most first."),
                        axis: lang.t("笔数", "demands"),
                        bars: taken.sorted { $0.value > $1.value }
                    ),
                    caption: lang.t("银行排行", "Banks ranked") + DashboardRoutes.hiddenNote(hidden, lang) + lang.t("。", ".")
                )
        }
        let (overdue, _) = DashboardRoutes.bars(t, column: "take_up_overdue", unit: .count, lang: lang)
        if overdue.contains(where: { $0.value > 0 }) {
            html +=
                "<h2>\(lang.t("受理超时", "Overdue take-ups"))</h2>"
                + Charts.figure(
                    Charts.horizontalBars(
                        title: lang.t(
                            "各银行受理超时笔数（\(Demands.takeUpWorkingDays) 个工作日）",
                            "Take-ups overdue by bank (\(Demands.takeUpWorkingDays) working days)"
                        ),
                        description: lang.t(
                            "匹配后 \(Demands.takeUpWorkingDays) 个工作日内既未受理也未放弃的需求。",
                            "Matched demands a bank neither took up nor passed within \(Demands.takeUpWorkingDays) working days."
                        ),
                        axis: lang.t("笔数", "demands"),
                        bars: overdue.sorted { $0.value > $1.value },
                        color: "#b26a00"
                    ),
                    caption: lang.t(
                        "超过 \(Demands.takeUpWorkingDays) 个工作日未受理也未放弃。",
                        "Neither taken up nor passed within \(Demands.takeUpWorkingDays) working days."
                    )
                )
        }
        html +=
            "<h2>\(lang.t("银行服务排行", "League table"))</h2>"
            + DashboardRoutes.table(t, caption: lang.t("银行服务", "Bank service"), keyHeading: lang.t("银行", "bank"), lang: lang)
        return html
    }
}
