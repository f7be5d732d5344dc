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
            <p class="hint">\(lang.t("发布前可先看看<a href=\"/portal/catalogue\">各银行的融资产品及条件</a>。", "Before posting, see <a href=\"/portal/catalogue\">the banks' products and their conditions</a>."))</p>
            <form class="stack" method="post" action="/portal/demands">\(PortalHtml.csrf(session))
            <label for="amount">\(lang.t("金额（元）", "Amount (yuan)"))</label>
            <p class="hint" id="amount-h">\(lang.t("¥0.01 至 \(Money.display(fen: DemandActions.maxAmountFen))；可写 500000、500,000.00 或 50万，下一步会显示所理解的金额", "¥0.01 to \(Money.display(fen: DemandActions.maxAmountFen)); write 500000, 500,000.00 or 50万 — the next step shows the amount understood"))</p>
            <input id="amount" name="amount_yuan" type="text" inputmode="decimal" maxlength="30" required pattern="\\s*[¥￥]?\\s*[0-9][0-9,]*(\\.[0-9]+)?\\s*[万亿]?\\s*元?\\s*" placeholder="50万" aria-describedby="amount-h" value="\(v("amount_yuan"))">
            <label for="term">\(lang.t("期限（月）", "Term (months)"))</label>
            <p class="hint" id="term-h">\(lang.t("1 至 \(DemandActions.maxTermMonths) 个月", "1 to \(DemandActions.maxTermMonths) months"))</p>
            <input id="term" name="term_months" type="number" min="1" max="\(DemandActions.maxTermMonths)" step="1" required placeholder="12" aria-describedby="term-h" value="\(v("term_months"))">
            <label for="purpose">\(lang.t("用途", "Purpose"))</label>
            <p class="hint" id="purpose-h">\(lang.t("简要说明资金用途，500 字以内", "What the money is for, at most 500 characters"))</p>
            <textarea id="purpose" name="purpose" required maxlength="\(DemandActions.maxPurposeLength)" rows="3" placeholder="\(lang.t("采购原材料", "buy raw materials"))" aria-describedby="purpose-h">\(v("purpose"))</textarea>
            <p><input id="collateral" name="collateral" type="checkbox"\(values["collateral"] == "on" ? " checked" : "")> <label for="collateral" class="inl">\(lang.t("可提供抵押或担保", "I can offer collateral or a guarantee"))</label></p>
            <p><input id="first_loan" name="first_loan" type="checkbox"\(values["first_loan"] == "on" ? " checked" : "")> <label for="first_loan" class="inl">\(lang.t("首次贷款", "This would be my first loan"))</label></p>
            <p><input id="refer" name="refer" type="checkbox"\(values.isEmpty || values["refer"] == "on" ? " checked" : "")> <label for="refer" class="inl">\(lang.t("如被某家银行拒绝，转给其他匹配的银行", "If a bank declines, pass it to the other matching banks"))</label></p>
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

    /// Before a demand is posted: the amount as understood, and who will read what, for how
    /// long, and how to stop it; a form that posts it (with a one-time token: a double submit
    /// posts one demand) or goes back to change it.
    static func confirm(
        _ d: DemandActions.NewDemand,
        banks: [String],
        values: [String: String],
        maxBanks: Int,
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        let e = Html.escape
        func hidden(_ k: String, _ v: String) -> String { "<input type=\"hidden\" name=\"\(k)\" value=\"\(e(v))\">" }
        let wan = d.amountFen >= 1_000_000 ? lang.t("（\(Html.yuanShort(d.amountFen))）", "") : ""
        let who =
            banks.isEmpty
            ? lang.t(
                "目前没有银行的产品与这笔需求匹配：发布后，新的或调整后的产品匹配时，该银行才可查看您的信用档案。",
                "No bank's product matches this demand now: once posted, a bank may read your profile only when a new or changed product matches."
            )
            : lang.t(
                "发布后，下列银行可为审批这笔需求查看您的信用档案（评分、等级、扣分原因与指标），直至需求结束（放款、拒绝、撤回或 \(Demands.lifetimeDays) 天后过期）；至多 \(maxBanks) 家银行可以受理并各自报价，由您选择接受一家；受理满 \(maxBanks) 家后，其他银行的查看随即终止。",
                "Once posted, these banks may read your credit profile (score, grade, reasons and features) to consider it, until the demand ends (lent, declined, withdrawn, or expired after \(Demands.lifetimeDays) days); up to \(maxBanks) banks may take it up and each make an offer, and you accept one; once \(maxBanks) have taken it up, the others' access ends."
            )
        let list = banks.isEmpty ? "" : "<ul>" + banks.map { "<li>\(e($0))</li>" }.joined() + "</ul>"
        return """
            <section class="card"><h2>\(lang.t("请确认", "Please confirm"))</h2>
            <dl class="facts">
            <dt>\(lang.t("金额", "Amount"))</dt><dd><strong>\(e(Money.display(fen: d.amountFen)))</strong>\(e(wan))</dd>
            <dt>\(lang.t("期限", "Term"))</dt><dd>\(lang.t("\(d.termMonths) 个月", "\(d.termMonths) months"))</dd>
            <dt>\(lang.t("用途", "Purpose"))</dt><dd>\(e(d.purpose))</dd>
            <dt>\(lang.t("提供抵押", "Collateral offered"))</dt><dd>\(d.collateralOffered ? lang.t("是", "yes") : lang.t("否", "no"))</dd>
            <dt>\(lang.t("首次贷款", "First loan"))</dt><dd>\(d.firstLoan ? lang.t("是", "yes") : lang.t("否", "no"))</dd>
            <dt>\(lang.t("被拒后转给其他银行", "After a decline, to other banks"))</dt><dd>\(d.referAfterDecline != false ? lang.t("是", "yes") : lang.t("否", "no"))</dd>
            </dl>
            <h3>\(lang.t("谁能看到什么", "Who will see what"))</h3><p>\(e(who))</p>\(list)
            <p class="hint">\(lang.t("您可随时在“谁查看了我”撤销某家银行的查看，或撤回这笔需求。", "You can stop any bank's access in “Who looked at me”, or withdraw the demand, at any time."))</p>
            <form method="post" action="/portal/demands">\(PortalHtml.csrf(session))
            \(hidden("amount_yuan", Money.yuan(fen: d.amountFen)))\(hidden("term_months", String(d.termMonths)))\(hidden("purpose", d.purpose))
            \(d.collateralOffered ? hidden("collateral", "on") : "")\(d.firstLoan ? hidden("first_loan", "on") : "")\(d.referAfterDecline != false ? hidden("refer", "on") : "")
            \(hidden("confirm", "1"))\(hidden("once", PortalRoutes.onceToken()))
            <button class="btn" type="submit">\(lang.t("确认发布", "Post it"))</button>
            <a class="btn secondary" href="/portal/financing">\(lang.t("返回修改", "Go back and change it"))</a></form></section>
            """
    }
}
