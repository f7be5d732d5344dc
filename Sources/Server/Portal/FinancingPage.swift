import CreditCore
import Foundation
import PostgresNIO
import Store

/// The business's financing page (`GET /portal/financing`): the form to post a demand (kept
/// filled in after a refusal) and its demands with the banks' answers. Loaded (`load`) by `Demands.list`.
enum FinancingPage {
    static func load(_ c: PostgresConnection, _ call: Call) async throws -> [Demand] {
        try await Demands.list(c, logger: call.logger, uscc: try call.ownUSCC())
    }

    static func render(_ mine: [Demand], values: [String: String], error: String?, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        func v(_ k: String) -> String { e(values[k] ?? "") }
        var body = error.map { "<p class=\"flash err\" role=\"alert\">\(e($0))</p>" } ?? ""
        body += """
            <section class="card"><h2>\(lang.t("发布融资需求", "Post a financing demand"))</h2>
            <form class="stack" method="post" action="/portal/demands">\(PortalHtml.csrf(session))
            <label for="amount">\(lang.t("金额（元）", "Amount (yuan)"))</label>
            <p class="hint" id="amount-h">\(lang.t("¥0.01 至 \(Money.display(fen: DemandActions.maxAmountFen))，最多两位小数", "¥0.01 to \(Money.display(fen: DemandActions.maxAmountFen)), at most two decimals"))</p>
            <input id="amount" name="amount_yuan" type="number" min="1" max="1000000000" step="0.01" required placeholder="500000" aria-describedby="amount-h" value="\(v("amount_yuan"))">
            <label for="term">\(lang.t("期限（月）", "Term (months)"))</label>
            <p class="hint" id="term-h">\(lang.t("1 至 \(DemandActions.maxTermMonths) 个月", "1 to \(DemandActions.maxTermMonths) months"))</p>
            <input id="term" name="term_months" type="number" min="1" max="\(DemandActions.maxTermMonths)" step="1" required placeholder="12" aria-describedby="term-h" value="\(v("term_months"))">
            <label for="purpose">\(lang.t("用途", "Purpose"))</label>
            <p class="hint" id="purpose-h">\(lang.t("简要说明资金用途，500 字以内", "What the money is for, at most 500 characters"))</p>
            <textarea id="purpose" name="purpose" required maxlength="\(DemandActions.maxPurposeLength)" rows="3" placeholder="\(lang.t("采购原材料", "buy raw materials"))" aria-describedby="purpose-h">\(v("purpose"))</textarea>
            <p><input id="collateral" name="collateral" type="checkbox"\(values["collateral"] == "on" ? " checked" : "")> <label for="collateral" class="inl">\(lang.t("可提供抵押或担保", "I can offer collateral or a guarantee"))</label></p>
            <p><input id="first_loan" name="first_loan" type="checkbox"\(values["first_loan"] == "on" ? " checked" : "")> <label for="first_loan" class="inl">\(lang.t("首次贷款", "This would be my first loan"))</label></p>
            <button class="btn" type="submit">\(lang.t("发布并匹配产品", "Post and see matching products"))</button></form></section>
            """
        var rows: [[String]] = []
        for d in mine {
            var answer = ""
            if let r = d.declineReason { answer = PortalHtml.declineReason(r, lang) + (d.declineText.map { ": " + $0 } ?? "") }
            if let a = d.grantedAmountFen { answer = PortalHtml.yuan(a) + (d.grantedRateBp.map { " · " + PortalHtml.rate($0) } ?? "") }
            rows.append([
                "<a href=\"/portal/demands/\(d.id.uuidString.lowercased())\">\(PortalHtml.day(d.createdAt))</a>",
                PortalHtml.yuan(d.amountFen),
                "\(d.termMonths)", e(d.purpose), PortalHtml.badge(d.state.rawValue, PortalHtml.demandState(d.state.rawValue, lang)),
                e(answer),
            ])
        }
        body +=
            "<h2>\(lang.t("我的需求", "My demands"))</h2>"
            + PortalHtml.table(
                lang.t("每个需求的状态和银行的答复", "Each demand's state and the bank's answer"),
                [
                    lang.t("发布时间", "Posted"), lang.t("金额", "Amount"), lang.t("期限（月）", "Term (months)"), lang.t("用途", "Purpose"),
                    lang.t("状态", "State"),
                    lang.t("银行答复", "Bank's answer"),
                ],
                rows,
                empty: lang.t("还没有发布需求。", "No demands yet.")
            )
        return body
    }
}
