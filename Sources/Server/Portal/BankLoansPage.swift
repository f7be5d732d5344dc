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

    static let pageSize = 20
    static let maxQuery = 40

    /// What the officer asked to see: part of a name or code, only loans whose last month is not
    /// reported yet, and the page.
    struct Selection: Equatable {
        var query = ""
        var unreported = false
        var page = 1

        init(query: String = "", unreported: Bool = false, page: Int = 1) {
            self.query = query
            self.unreported = unreported
            self.page = page
        }

        /// From the query string; out-of-range or unknown values fall back (a link never fails).
        init(_ q: [String: String]) {
            query = String((q["q"] ?? "").trimmingCharacters(in: .whitespaces).prefix(BankLoansPage.maxQuery))
            unreported = q["unreported"] == "1"
            page = max(1, min(Int(q["page"] ?? "") ?? 1, 10_000))
        }
    }

    /// The loans selected, the page of them shown, and how many pages there are.
    static func select(
        _ loans: [(Demand, [Demands.Outcome])],
        names: [String: String],
        _ s: Selection,
        lastMonth: String
    ) -> (shown: [(Demand, [Demands.Outcome])], matching: Int, pages: Int, page: Int) {
        let q = s.query.lowercased()
        let kept = loans.filter { d, outcomes in
            if !q.isEmpty, !(names[d.uscc] ?? "").lowercased().contains(q), !d.uscc.lowercased().contains(q) { return false }
            // A loan disbursed before last month owes last month's report.
            if s.unreported, (d.disbursedOn ?? "") >= lastMonth + "-32" || outcomes.contains(where: { $0.month == lastMonth }) {
                return false
            }
            return true
        }
        let pages = max(1, (kept.count + pageSize - 1) / pageSize)
        let page = min(s.page, pages)
        return (Array(kept.dropFirst((page - 1) * pageSize).prefix(pageSize)), kept.count, pages, page)
    }

    static func render(
        _ loans: [(Demand, [Demands.Outcome])],
        names: [String: String],
        thisMonth: String,
        lang: Lang,
        session: Sessions.Session?,
        selection: Selection = Selection(),
        lastMonth: String? = nil
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
        let last = lastMonth ?? thisMonth
        let (shown, matching, pages, page) = select(loans, names: names, selection, lastMonth: last)
        func link(_ p: Int) -> String {
            var parts = ["page=\(p)"]
            if !selection.query.isEmpty { parts.append("q=" + PortalHtml.percent(selection.query)) }
            if selection.unreported { parts.append("unreported=1") }
            return "/portal/bank/loans?" + parts.joined(separator: "&amp;")
        }
        body += """
            <form class="filters" method="get" action="/portal/bank/loans" role="search">
            <div><label for="lq">\(lang.t("企业名称或代码", "Business name or code"))</label><input id="lq" name="q" type="search" maxlength="\(maxQuery)" value="\(e(selection.query))"></div>
            <div><input type="checkbox" id="lu" name="unreported" value="1"\(selection.unreported ? " checked" : "")><label class="inl" for="lu">\(lang.t("仅 \(last) 尚未登记的", "Only those with \(last) not reported"))</label></div>
            <button class="btn secondary" type="submit">\(lang.t("查找", "Find"))</button></form>
            <p class="muted" role="status">\(lang.t("共 \(matching) 笔，第 \(page) / \(pages) 页", "\(matching) loans, page \(page) of \(pages)"))</p>
            """
        if shown.isEmpty { body += "<p>\(lang.t("没有符合条件的贷款。", "No loan matches."))</p>" }
        for (d, outcomes) in shown {
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
                <label for="om-\(id)">\(lang.t("月份", "Month"))</label><input id="om-\(id)" name="month" type="month" required max="\(thisMonth)" value="\(last)">
                <label for="os-\(id)">\(lang.t("表现", "Outcome"))</label><select id="os-\(id)" name="status" required>\(statuses)</select>
                <button class="btn" type="submit">\(lang.t("登记", "Report"))</button></form></details></section>
                """
        }
        if pages > 1 {
            body += "<nav class=\"pages\" aria-label=\"\(lang.t("翻页", "Pages"))\">"
            if page > 1 { body += "<a class=\"btn secondary\" href=\"\(link(page - 1))\">\(lang.t("上一页", "Previous"))</a> " }
            if page < pages { body += "<a class=\"btn secondary\" href=\"\(link(page + 1))\">\(lang.t("下一页", "Next"))</a>" }
            body += "</nav>"
        }
        return body
    }
}
