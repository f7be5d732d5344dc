import CreditCore
import Foundation
import PostgresNIO
import Store

/// A bank's disbursed loans (`GET /portal/bank/loans`) with their monthly outcomes and the form
/// for the next month. Loaded (`load`) by `Demands.bankLoans` and the businesses' public names.
enum BankLoansPage {
    struct Model {
        let loans: [(Demand, [Demands.Outcome])]
        let names: [String: String]
    }

    static func load(_ c: PostgresConnection, _ call: Call) async throws -> Model {
        let loans = try await Demands.bankLoans(c, logger: call.logger, bank: call.caller.orgId)
        return Model(loans: loans, names: try await Disclosure.names(Array(Set(loans.map(\.0.uscc))), c, logger: call.logger))
    }

    static func render(
        _ loans: [(Demand, [Demands.Outcome])],
        names: [String: String],
        thisMonth: String,
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        let e = Html.escape
        var statuses = ""
        for s in Demands.outcomeStatuses { statuses += "<option value=\"\(s)\">\(e(PortalHtml.outcomeStatus(s, lang)))</option>" }
        var body =
            "<p class=\"muted\">\(lang.t("本行已放款的贷款。请每月登记还款表现：监管部门据此检验评分模型（KS、AUC、违约率）。同一月份再次登记以最后一次为准。", "The loans this bank disbursed. Report each month's repayment: regulators test the scoring model on these (KS, AUC, default rates). Reporting a month again replaces it."))</p>"
        guard !loans.isEmpty else {
            body += "<p>\(lang.t("暂无已放款的贷款。", "No loans disbursed yet."))</p>"
            return body
        }
        for (d, outcomes) in loans {
            let id = d.id.uuidString.lowercased()
            let rows = outcomes.map {
                [
                    e($0.month),
                    PortalHtml.badge(
                        $0.status == "current" || $0.status == "repaid" ? "" : "overdue",
                        PortalHtml.outcomeStatus($0.status, lang)
                    ), PortalHtml.day($0.reportedAt),
                ]
            }
            body += """
                <section class="card" aria-labelledby="l-\(id)"><h2 id="l-\(id)">\(e(names[d.uscc] ?? d.uscc)) · \(PortalHtml.yuan(d.disbursedAmountFen ?? d.amountFen)) · \(d.grantedTermMonths ?? d.termMonths) \(lang.t("个月", "months"))</h2>
                <p class="muted">\(e(d.uscc)) · \(lang.t("放款日期", "Disbursed on")) \(e(d.disbursedOn ?? "–"))</p>
                \(PortalHtml.table(lang.t("每月表现", "Monthly outcomes"), [lang.t("月份", "Month"), lang.t("表现", "Outcome"), lang.t("登记时间", "Reported")], rows, empty: lang.t("尚未登记。", "Nothing reported yet.")))
                <details><summary>\(lang.t("登记月度表现", "Report a month"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/outcome">\(PortalHtml.csrf(session))
                <label for="om-\(id)">\(lang.t("月份", "Month"))</label><input id="om-\(id)" name="month" type="month" required max="\(thisMonth)" value="\(thisMonth)">
                <label for="os-\(id)">\(lang.t("表现", "Outcome"))</label><select id="os-\(id)" name="status" required>\(statuses)</select>
                <button class="btn" type="submit">\(lang.t("登记", "Report"))</button></form></details></section>
                """
        }
        return body
    }
}
