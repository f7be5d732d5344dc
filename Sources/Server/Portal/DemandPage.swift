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
        if d.state == .takenUp {
            let holding = a.offers.filter(\.live).count
            body +=
                "<p>\(lang.t("\(holding) 家银行正在处理（最多 \(d.maxBanks) 家）；各家的报价见下方，您可接受其中一家。", "\(holding) bank(s) working on it (at most \(d.maxBanks)); their offers are below, and you may accept one."))</p>"
        }
        if let r = d.declineReason {
            body +=
                "<p><strong>\(lang.t("拒绝原因", "Reason declined"))</strong>: \(e(PortalHtml.declineReason(r, lang)))\(d.declineText.map { " — " + e($0) } ?? "")</p>"
        }
        if let amt = d.grantedAmountFen {
            body +=
                "<p><strong>\(lang.t("已接受的报价", "Offer accepted"))</strong>: \(PortalHtml.yuan(amt))\(d.grantedTermMonths.map { " · \($0) " + lang.t("个月", "months") } ?? "")\(d.grantedRateBp.map { " · " + PortalHtml.rate($0) } ?? "")\(d.repayment.map { " · " + PortalHtml.repayment($0, lang) } ?? "")</p>"
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
        if !a.offers.isEmpty { body += offers(a, lang: lang, session: session) }
        if d.state == .open {
            var rows: [[String]] = []
            for (i, m) in a.matches.enumerated() {
                rows.append([
                    "\(i + 1)", e(m.productName), e(m.bankName), e(Words.word(Words.productKinds, m.kind.rawValue, lang)),
                    "\(PortalHtml.yuan(m.amountMinFen)) – \(PortalHtml.yuan(m.amountMaxFen))",
                    "\(m.termMinMonths)–\(m.termMaxMonths)", "\(PortalHtml.rate(m.rateMinBp)) – \(PortalHtml.rate(m.rateMaxBp))",
                    PortalHtml.rate(m.fitBp),
                    m.indicativeFen.map { m.amountMinFen > $0 ? lang.t("低于产品最低额度", "below the product's minimum") : PortalHtml.yuan($0) }
                        ?? "–",
                ])
            }
            body +=
                "<h2>\(lang.t("匹配的产品", "Matching products")) (\(a.matches.count))</h2>"
                + "<p class=\"hint\">\(lang.t("参考额度由银行按其公布的规则（如近12个月纳税额的倍数，按信用等级设上限）估算，仅供参考，不构成授信承诺；实际额度以银行报价为准。", "An indicative amount is the bank's estimate under its published rule (such as a multiple of the tax paid in the last 12 months, capped by grade); it is not an offer — the bank's offer says what it lends."))</p>"
                + PortalHtml.table(
                    lang.t("按匹配度排序", "Best fit first"),
                    [
                        "#", lang.t("产品", "Product"), lang.t("银行", "Bank"), lang.t("类型", "Kind"), lang.t("额度", "Amount"),
                        lang.t("期限（月）", "Term (months)"), lang.t("利率", "Rate"), lang.t("匹配度", "Fit"),
                        lang.t("参考额度（非承诺）", "Indicative amount (not an offer)"),
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

    /// Every bank's part side by side: each offer with its monthly payment, last payment and
    /// total interest (exact, in fen), the cheapest marked; takes-up still deciding; declines with
    /// their reasons; lapses. An offer still valid on a demand no offer was accepted for can be
    /// accepted here.
    static func offers(_ a: DemandActions.Answer, lang: Lang, session: Sessions.Session?) -> String {
        let e = Html.escape
        let d = a.demand
        let today = Day.todayInChina()
        let open = a.offers.filter { $0.state == .offered }
        // The cheapest: by total interest where the offers lend the same amount for the same term
        // (comparable); otherwise by yearly rate, and said so.
        let comparable = Set(open.map { "\($0.amountFen ?? 0)/\($0.termMonths ?? 0)" }).count == 1
        let cheapest =
            comparable
            ? open.compactMap { o in o.plan.map { (o.id, $0.totalInterestFen) } }.min { $0.1 < $1.1 }?.0
            : open.compactMap { o in o.rateBp.map { (o.id, Int64($0)) } }.min { $0.1 < $1.1 }?.0
        var cards = ""
        for o in a.offers {
            var lines = ""
            func fact(_ k: String, _ v: String) { lines += "<dt>\(k)</dt><dd>\(v)</dd>" }
            // The terms of every offer made — also one that lapsed, so the business sees what it was.
            if o.state != .takenUp, o.state != .declined {
                if let amount = o.amountFen, let term = o.termMonths, let rate = o.rateBp, let plan = o.plan, let r = o.repayment {
                    fact(lang.t("金额", "Amount"), PortalHtml.yuan(amount))
                    fact(lang.t("期限", "Term"), lang.t("\(term) 个月", "\(term) months"))
                    fact(lang.t("年利率", "Yearly rate"), PortalHtml.rate(rate))
                    fact(lang.t("还款方式", "Repayment"), e(PortalHtml.repayment(r, lang)))
                    fact(lang.t("每月还款", "Monthly payment"), PortalHtml.yuan(plan.monthlyFen))
                    if plan.lastFen != plan.monthlyFen { fact(lang.t("最后一期", "Last payment"), PortalHtml.yuan(plan.lastFen)) }
                    fact(lang.t("总利息", "Total interest"), "<strong>\(PortalHtml.yuan(plan.totalInterestFen))</strong>")
                    fact(lang.t("还款总额", "Total repaid"), PortalHtml.yuan(plan.totalFen))
                }
                if let p = o.productName { fact(lang.t("产品", "Product"), e(p)) }
                if let c = o.conditions { fact(lang.t("条件", "Conditions"), e(c)) }
                if o.state == .offered, let v = o.validUntil { fact(lang.t("有效期至", "Valid until"), v) }
            }
            switch o.state {
            case .offered, .accepted: break
            case .takenUp:
                fact(lang.t("进展", "Progress"), lang.t("审批中，应在 \(o.decisionDueOn) 前答复", "Deciding; due by \(o.decisionDueOn)"))
            case .declined:
                fact(
                    lang.t("拒绝原因", "Reason declined"),
                    e(o.declineReason.map { PortalHtml.declineReason($0, lang) } ?? "") + (o.declineText.map { " — " + e($0) } ?? "")
                )
            case .lapsed:
                fact(lang.t("已失效", "Lapsed"), e(o.lapseReason.map { PortalHtml.lapseReason($0, lang) } ?? ""))
            }
            let badge: String =
                switch o.state {
                case .offered: PortalHtml.badge("live", lang.t("报价", "Offer"))
                case .accepted: PortalHtml.badge("granted", lang.t("已接受", "Accepted"))
                case .takenUp: PortalHtml.badge("taken_up", lang.t("审批中", "Deciding"))
                case .declined: PortalHtml.badge("declined", lang.t("已拒绝", "Declined"))
                case .lapsed: PortalHtml.badge("expired", lang.t("已失效", "Lapsed"))
                }
            var accept = ""
            if d.state == .takenUp, o.state == .offered, let v = o.validUntil.flatMap(Day.init), v >= today {
                accept = PortalHtml.button(
                    "/portal/demands/\(d.id.uuidString.lowercased())/offers/\(o.id.uuidString.lowercased())/accept",
                    lang.t("接受这份报价", "Accept this offer"),
                    session: session,
                    fields: ["once": PortalRoutes.onceToken()]
                )
            }
            let lowest = comparable ? lang.t("总利息最低", "Lowest interest") : lang.t("年利率最低", "Lowest rate")
            let low = o.id == cheapest && open.count > 1 ? " " + PortalHtml.badge("kept", lowest) : ""
            cards += """
                <section class="card offer" aria-label="\(e(o.bankName))"><h3>\(e(o.bankName))</h3><p>\(badge)\(low)</p>
                <dl class="facts">\(lines)</dl>\(accept)</section>
                """
        }
        let note =
            open.count > 1
            ? "<p class=\"hint\">\(lang.t("接受一份报价后，其他报价自动失效，相关银行会收到通知。", "Once you accept one offer, the others lapse and their banks are told."))</p>"
            : ""
        return "<h2>\(lang.t("银行报价", "Banks' offers")) (\(a.offers.count))</h2>\(note)<div class=\"offers\">\(cards)</div>"
    }
}
