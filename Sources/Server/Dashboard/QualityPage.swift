import CreditCore
import Foundation
import PostgresNIO
import Store

/// Data quality, objections and repairs, commitments (`/dashboard/quality`).
/// Loaded through Store (`load`), rendered by a pure function of the model (`render`).
enum QualityPage {
    struct Model {
        let filter: StatFilter
        let quality: StatTable
        let governance: StatTable
        let repairs: StatTable
        let commitments: StatTable
    }

    static func load(_ c: PostgresConnection, _ call: Call, _ f: StatFilter) async throws -> Model {
        let l = call.logger
        let quality = try await Stats.quality(c, logger: l)
        let governance = try await Stats.governance(c, logger: l)
        let repairs = try await Stats.repairs(c, logger: l)
        let commitments = try await Stats.commitments(c, logger: l)
        return Model(filter: f, quality: quality, governance: governance, repairs: repairs, commitments: commitments)
    }

    static func render(_ m: Model, lang: Lang) -> String {
        let t = m.quality
        var html = "<h1>\(lang.t("数据质量", "Data quality"))</h1>"
        html +=
            "<p class=\"note\">"
            + lang.t(
                "完整性：近 \(Stats.completenessMonths) 个月有记录的存续企业占存续企业的比例（按月数据集）；及时性：近 \(Stats.timelinessDays) 天的记录中，在提供方时间后 \(Stats.timelyHours) 小时内到达的比例；状态同时看采集是否成功、完整性与及时性。",
                "Completeness: active businesses with a record in one of the last \(Stats.completenessMonths) months, over active businesses (monthly datasets); timeliness: of the records of the last \(Stats.timelinessDays) days, the share that arrived within \(Stats.timelyHours) hours of the provider's time; the level reads pulls, completeness and timeliness together."
            ) + "</p>"
        html += DashboardRoutes.table(t, caption: lang.t("各数据集", "Per dataset"), keyHeading: lang.t("数据集", "dataset"), lang: lang)
        let governance = m.governance
        html +=
            "<h2>\(lang.t("异议与信用修复", "Objections and repairs"))</h2>"
            + DashboardRoutes.table(
                governance,
                caption: lang.t(
                    "超时：异议 \(Objections.deadlineDays) 天，修复申请 \(Repairs.decisionWorkingDays) 个工作日",
                    "Overdue: objections after \(Objections.deadlineDays) days, repair applications after \(Repairs.decisionWorkingDays) working days"
                ),
                keyHeading: lang.t("类别", "kind"),
                lang: lang
            )
        html += DashboardRoutes.table(
            m.repairs,
            caption: lang.t(
                "近3年作出的行政处罚，按作出之日施行的公示规则：2026年4月1日前为2023年试行办法（一般3个月至3年），此后为《信用修复管理办法》按严重程度（轻微原则上不公示、一般3个月至1年、严重1年至3年）",
                "Penalties decided in the last 3 years, under the rules in force on their decision day: before 1 April 2026 the 2023 trial measures (3 months to 3 years), from then the 2026 measures by severity (minor not published in principle, general 3 months to 1 year, serious 1 to 3 years)"
            ),
            keyHeading: lang.t("公示规则", "rules"),
            lang: lang
        )
        let commitments = m.commitments
        html +=
            "<h2>\(lang.t("信用承诺", "Credit commitments"))</h2>"
            + DashboardRoutes.table(
                commitments,
                caption: lang.t("履行率 = 已履行 ÷（已履行 + 已违背）", "Kept rate = kept ÷ (kept + broken)"),
                keyHeading: lang.t("承诺", "commitment"),
                lang: lang
            )
        return html
    }
}
