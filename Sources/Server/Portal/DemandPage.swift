import CreditCore
import Foundation
import Store

/// A business's demand (`GET /portal/demands/{id}`): its state, the bank's answer, matching products
/// and near misses, every step. Loaded by `DemandActions.mine` (the API's read too); rendered here.
enum DemandPage {
    static func render(_ a: DemandActions.Answer, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        let d = a.demand
        var body =
            "<div class=\"card\"><p>\(PortalHtml.badge(d.state.rawValue, PortalHtml.demandState(d.state.rawValue, lang))) \(PortalHtml.yuan(d.amountFen)) · \(d.termMonths) \(lang.t("个月", "months")) · \(e(d.purpose))</p>"
        if d.state == .open {
            body += "<p>\(lang.t("银行应在 \(d.takeUpDueOn) 前受理或放弃。", "Banks should take it up or pass by \(d.takeUpDueOn)."))</p>"
        }
        if let due = d.decisionDueOn, d.state == .takenUp {
            body += "<p>\(lang.t("银行已受理，应在 \(due) 前作出决定。", "A bank took it up and should decide by \(due)."))</p>"
        }
        if let r = d.declineReason {
            body +=
                "<p><strong>\(lang.t("拒绝原因", "Reason declined"))</strong>: \(e(PortalHtml.declineReason(r, lang)))\(d.declineText.map { " — " + e($0) } ?? "")</p>"
        }
        if let amt = d.grantedAmountFen {
            body +=
                "<p><strong>\(lang.t("已批准", "Granted"))</strong>: \(PortalHtml.yuan(amt))\(d.grantedTermMonths.map { " · \($0) " + lang.t("个月", "months") } ?? "")\(d.grantedRateBp.map { " · " + PortalHtml.rate($0) } ?? "")</p>"
        }
        if d.state == .open || d.state == .takenUp {
            body += PortalHtml.button(
                "/portal/demands/\(d.id.uuidString.lowercased())/withdraw",
                lang.t("撤回需求", "Withdraw the demand"),
                session: session,
                style: "btn secondary"
            )
        }
        body += "</div>"
        if d.state == .open {
            var rows: [[String]] = []
            for (i, m) in a.matches.enumerated() {
                rows.append([
                    "\(i + 1)", e(m.productName), e(m.bankName), e(Words.word(Words.productKinds, m.kind.rawValue, lang)),
                    "\(PortalHtml.yuan(m.amountMinFen)) – \(PortalHtml.yuan(m.amountMaxFen))",
                    "\(m.termMinMonths)–\(m.termMaxMonths)", "\(PortalHtml.rate(m.rateMinBp)) – \(PortalHtml.rate(m.rateMaxBp))",
                    PortalHtml.rate(m.fitBp),
                ])
            }
            body +=
                "<h2>\(lang.t("匹配的产品", "Matching products")) (\(a.matches.count))</h2>"
                + PortalHtml.table(
                    lang.t("按匹配度排序", "Best fit first"),
                    [
                        "#", lang.t("产品", "Product"), lang.t("银行", "Bank"), lang.t("类型", "Kind"), lang.t("额度", "Amount"),
                        lang.t("期限（月）", "Term (months)"), lang.t("利率", "Rate"), lang.t("匹配度", "Fit"),
                    ],
                    rows,
                    empty: lang.t("暂时没有完全匹配的产品。", "No product fits every rule yet.")
                )
            var near: [[String]] = []
            for n in a.nearMisses {
                near.append([e(n.offer.productName), e(n.offer.bankName), e(lang.english ? n.failed.en : n.failed.zh)])
            }
            body +=
                "<h2>\(lang.t("差一点匹配", "Near misses")) (\(a.nearMisses.count))</h2>"
                + PortalHtml.table(
                    lang.t("只差一条规则的产品：改变它就能匹配", "Products that fail one rule only: change it and they fit"),
                    [lang.t("产品", "Product"), lang.t("银行", "Bank"), lang.t("未满足的规则", "The rule not met")],
                    near,
                    empty: lang.t("没有。", "None.")
                )
        }
        var steps: [[String]] = []
        for t in a.transitions {
            steps.append([
                PortalHtml.day(t.at), e(Words.word(Words.actorKinds, t.actorKind, lang)),
                e(t.fromState.map { PortalHtml.demandState($0, lang) } ?? "–"),
                e(PortalHtml.demandState(t.toState, lang)),
            ])
        }
        body +=
            "<h2>\(lang.t("进展", "Progress"))</h2>"
            + PortalHtml.table(
                lang.t("需求的每一步", "Every step of the demand"),
                [lang.t("时间", "When"), lang.t("操作方", "By"), lang.t("从", "From"), lang.t("到", "To")],
                steps,
                empty: ""
            )
        body += "<p><a href=\"/portal/financing\">\(lang.t("← 返回融资", "← Back to financing"))</a></p>"
        return body
    }
}
