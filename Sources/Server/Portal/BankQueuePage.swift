import CreditCore
import Foundation
import PostgresNIO
import Store

/// A bank officer's queue (`GET /portal/bank`): the demands matched to the bank and those it
/// holds, each with the business's grade and score, the product it matched, its deadline in
/// working days and the forms for the next step; filtered and paged (`BankQueueFilter`).
///
/// Grade and score are credit data: they are read only under the business's live authorisation,
/// and each business whose grade the page read — the cards shown, or with a grade filter every
/// business it sifted — gets an audit row (`profile.read`, `view: queue`) in the same transaction,
/// so the business's "who looked at me" stays true.
enum BankQueuePage {
    struct Model {
        /// The whole queue, and the page of it the filter keeps.
        var items: [Demand]
        var shown: [Demand] = []
        var matching = 0
        var page = 1
        var pages = 1
        var names: [String: String] = [:]
        /// Each business's size, district and industry (public register facts).
        var facts: [String: Disclosure.RegistryFacts] = [:]
        /// This bank's best-fitting product each open demand matches (waiting or held).
        var products: [UUID: ListedProduct] = [:]
        /// Grade and score of the businesses shown that this bank may read now.
        var grades: [String: Demands.QueueGrade] = [:]
        /// The active scorecard's grades, best first.
        var gradeOrder: [String] = []
        /// The most this person may offer alone (the bank's limit for officers; nil: no limit).
        var offerLimitFen: Int64? = nil
    }

    /// Loads the queue and audits the grades read; run it in a transaction.
    static func load(
        _ c: PostgresConnection,
        _ call: Call,
        filter: BankQueueFilter,
        cards: ScorecardCache,
        today: Day
    ) async throws -> Model {
        let bank = call.caller.orgId
        let items = try await Demands.bankQueue(c, logger: call.logger, bank: bank)
        let facts = try await Disclosure.registryFacts(Array(Set(items.map(\.uscc))), c, logger: call.logger)
        // The product each open demand would be offered under: this bank's best-fitting matching
        // one, whose ranges the offer form shows and the offer is held to.
        let open = items.filter { [.waiting, .held].contains(BankQueueFilter.stage(of: $0)) }
        var products: [UUID: ListedProduct] = [:]
        for (id, m) in try await Demands.match(c, logger: call.logger, demands: open, today: today) {
            products[id] = m.ranked.matches.map { m.products[$0.productIndex] }.first { $0.bankOrgId == bank }
        }
        let order = try await cards.active(c, logger: call.logger)?.grades.map(\.grade) ?? []
        let names = facts.compactMapValues(\.name)
        var kept = filter.apply(items, names: names, products: products, today: today)
        // With a grade filter, every business sifted has its grade read; without, the page's.
        var grades: [String: Demands.QueueGrade] = [:]
        if filter.gradeFilter(order: order) != nil {
            grades = try await Demands.queueGrades(c, logger: call.logger, bank: bank, usccs: Array(Set(kept.map(\.uscc))))
            kept = filter.apply(
                kept,
                names: names,
                products: products,
                grades: grades.compactMapValues(\.grade),
                order: order,
                today: today
            )
        }
        let (shown, page, pages) = filter.paged(kept)
        if filter.gradeFilter(order: order) == nil {
            grades = try await Demands.queueGrades(c, logger: call.logger, bank: bank, usccs: Array(Set(shown.map(\.uscc))))
        }
        for g in grades.values.sorted(by: { $0.uscc < $1.uscc }) {
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(
                    action: "profile.read",
                    result: .allowed,
                    subjectUSCC: g.uscc,
                    purpose: AccessPurpose.loanApplication.rawValue,
                    detail: ["scope": "profile", "view": "queue", "authorisation_id": g.authorisationId.uuidString.lowercased()]
                )
            )
        }
        // Only the grades of the cards shown go to the page.
        let onPage = Set(shown.map(\.uscc))
        // An officer's offers above the bank's limit are a manager's: the form says so up front.
        let limit = call.caller.reaches(.manager) ? nil : try await Register.officerOfferLimit(on: c, logger: call.logger, bank: bank)
        return Model(
            items: items,
            shown: shown,
            matching: kept.count,
            page: page,
            pages: pages,
            names: names,
            facts: facts,
            products: products,
            grades: grades.filter { onPage.contains($0.key) },
            gradeOrder: order,
            offerLimitFen: limit
        )
    }

    static func render(
        _ m: Model,
        filter: BankQueueFilter = BankQueueFilter(),
        today: Day,
        lang: Lang,
        session: Sessions.Session?
    ) -> String {
        let names = m.names
        let products = m.products
        let facts = m.facts
        let offerLimitFen = m.offerLimitFen
        let e = Html.escape
        var reasons = ""
        for r in Demands.declineReasons { reasons += "<option value=\"\(r)\">\(e(PortalHtml.declineReason(r, lang)))</option>" }
        var body =
            "<p class=\"muted\">\(lang.t("与本行产品匹配、企业已授权的需求，以及本行已受理的需求。期限按工作日计。", "Demands matching this bank's products (the business authorised the bank) and those the bank took up. Deadlines count working days."))</p>"
        guard !m.items.isEmpty else {
            body += "<p>\(lang.t("暂无待办需求。", "Nothing waiting."))</p>"
            return body
        }
        var offeredUnder: [ListedProduct] = []
        for p in products.values.sorted(by: { $0.name < $1.name }) where !offeredUnder.contains(where: { $0.id == p.id }) {
            offeredUnder.append(p)
        }
        body += filter.form(
            products: offeredUnder,
            grades: m.gradeOrder,
            lang: lang,
            shown: m.matching,
            of: m.items.count,
            page: m.page,
            pages: m.pages
        )
        if m.shown.isEmpty { body += "<p>\(lang.t("没有符合筛选条件的需求。", "No demand matches the filter."))</p>" }
        for d in m.shown {
            let id = d.id.uuidString.lowercased()
            // The deadline this bank answers to: its own decision while it holds the demand, the
            // take-up otherwise.
            let due = d.offer?.state == .takenUp ? d.offer!.decisionDueOn : d.takeUpDueOn
            let left = Day(due).map { today.workingDays(until: $0) } ?? 0
            let deadline =
                left >= 0
                ? lang.t("剩 \(left) 个工作日（\(due)）", "\(left) working days left (\(due))")
                : lang.t("已逾期 \(-left) 个工作日（\(due)）", "\(-left) working days overdue (\(due))")
            body += """
                <section class="card" aria-labelledby="d-\(id)"><h2 id="d-\(id)">\(e(names[d.uscc] ?? d.uscc)) · \(PortalHtml.yuan(d.amountFen)) · \(d.termMonths) \(lang.t("个月", "months"))</h2>
                \(names[d.uscc] == nil ? "" : "<p class=\"muted\">\(e(d.uscc))\(Self.factsLine(facts[d.uscc], lang))</p>")
                <p>\(stateBadge(d, lang)) \(d.offer?.state == .offered || d.state == .granted ? "" : PortalHtml.badge(left < 0 || (d.offer?.overdue ?? false) ? "overdue" : "", deadline))
                · \(e(d.purpose))\(d.collateralOffered ? " · " + lang.t("可提供担保", "collateral offered") : "")\(d.firstLoan ? " · " + lang.t("首贷", "first loan") : "")</p>
                <p>\(Self.gradeLine(m.grades[d.uscc], lang))\(products[d.id].map { " · " + lang.t("匹配本行产品“\(e($0.name))”", "matches this bank's product “\(e($0.name))”") } ?? "")</p>
                \(m.grades[d.uscc] == nil ? "" : "<p><a href=\"/portal/bank/lookup?uscc=\(e(d.uscc))&amp;purpose=loan_application\">\(lang.t("查看企业信用档案", "See the business's profile"))</a></p>")
                """
            if let o = d.offer, o.state == .offered, let amount = o.amountFen, let term = o.termMonths, let rate = o.rateBp {
                body +=
                    "<p>\(lang.t("本行报价", "This bank's offer")): \(PortalHtml.yuan(amount)) · \(term) \(lang.t("个月", "months")) · \(PortalHtml.rate(rate)) · \(o.repayment.map { PortalHtml.repayment($0, lang) } ?? "")；\(lang.t("有效期至 \(o.validUntil ?? "")，等待企业选择", "valid until \(o.validUntil ?? ""), waiting for the business to choose"))</p>"
            }
            if d.offer == nil, d.state == .open || d.state == .takenUp {
                body += PortalHtml.button("/portal/bank/demands/\(id)/take-up", lang.t("受理", "Take up"), session: session)
                body += """
                    <details><summary>\(lang.t("放弃", "Pass"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/pass">\(PortalHtml.csrf(session))
                    <label for="pr-\(id)">\(lang.t("原因（可选）", "Why (optional)"))</label>
                    <textarea id="pr-\(id)" name="reason" maxlength="\(DemandActions.maxPurposeLength)" rows="2"></textarea>
                    <p class="hint">\(lang.t("放弃后本行不再看到该需求，也不再能查询该企业的档案。", "After passing, the bank no longer sees this demand nor may read the business's profile for it."))</p>
                    <button class="btn secondary" type="submit">\(lang.t("放弃", "Pass"))</button></form></details>
                    """
            } else if d.offer?.state == .takenUp {
                // The bounds the offer is held to, beside each field: the amount asked and the
                // matching product's ranges.
                let p = products[d.id]
                let amountMax = min(d.amountFen, p?.terms.amountMaxFen ?? d.amountFen, offerLimitFen ?? Int64.max)
                let limited =
                    offerLimitFen.map {
                        $0 < min(d.amountFen, p?.terms.amountMaxFen ?? d.amountFen)
                            ? lang.t("（超过 \(PortalHtml.yuan($0)) 须由审批经理报价）", " (above \(PortalHtml.yuan($0)) a manager makes the offer)")
                            : ""
                    } ?? ""
                let amountMin = p?.terms.amountMinFen ?? 1
                // Under the bank's limit no offer the product allows is left: the manager's to make.
                if amountMax < amountMin {
                    body += """
                        <p class="hint">\(lang.t("本行客户经理报价上限为 \(PortalHtml.yuan(offerLimitFen ?? 0))，低于该产品的最低金额 \(PortalHtml.yuan(amountMin))：请审批经理报价。", "This bank's officers offer at most \(PortalHtml.yuan(offerLimitFen ?? 0)), below the product's least amount of \(PortalHtml.yuan(amountMin)): a manager makes this offer."))</p>
                        """
                }
                let terms = p.map { ($0.terms.termMinMonths, $0.terms.termMaxMonths) } ?? (1, DemandActions.maxTermMonths)
                let rates = p.map { ($0.terms.rateMinBp, $0.terms.rateMaxBp) } ?? (0, ProductValidation.maxRateBp)
                let under =
                    p.map {
                        "<p class=\"hint\">\(lang.t("按本行产品“\(e($0.name))”报价", "Offered under this bank's product “\(e($0.name))”"))</p><input type=\"hidden\" name=\"product_id\" value=\"\($0.id.uuidString.lowercased())\">"
                    }
                    ?? "<p class=\"hint\">\(lang.t("本行已没有与该需求匹配的已发布产品。", "None of this bank's published products matches this demand now."))</p>"
                if amountMax >= amountMin {
                    body += """
                        <details><summary>\(lang.t("报价", "Make an offer"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/offer">\(PortalHtml.csrf(session))\(under)
                        <label for="ga-\(id)">\(lang.t("金额（元）", "Amount (yuan)"))</label>
                        <p class="hint" id="gah-\(id)">\(lang.t("企业申请 \(PortalHtml.yuan(d.amountFen))；可报价 \(PortalHtml.yuan(amountMin)) 至 \(PortalHtml.yuan(amountMax))", "Asked \(PortalHtml.yuan(d.amountFen)); offerable \(PortalHtml.yuan(amountMin)) to \(PortalHtml.yuan(amountMax))"))\(limited)</p>
                        <input id="ga-\(id)" name="amount_yuan" type="number" min="\(Money.yuan(fen: amountMin))" max="\(Money.yuan(fen: amountMax))" step="0.01" required aria-describedby="gah-\(id)" value="\(Money.yuan(fen: amountMax))">
                        <label for="gt-\(id)">\(lang.t("期限（月）", "Term (months)"))</label>
                        <p class="hint" id="gth-\(id)">\(lang.t("\(terms.0) 至 \(terms.1) 个月", "\(terms.0) to \(terms.1) months"))</p>
                        <input id="gt-\(id)" name="term_months" type="number" min="\(terms.0)" max="\(terms.1)" required aria-describedby="gth-\(id)" value="\(min(max(d.termMonths, terms.0), terms.1))">
                        <label for="gr-\(id)">\(lang.t("年利率（%）", "Yearly rate (%)"))</label>
                        <p class="hint" id="grh-\(id)">\(PortalHtml.rate(rates.0)) – \(PortalHtml.rate(rates.1))</p>
                        <input id="gr-\(id)" name="rate_percent" type="number" min="\(Money.yuan(fen: Int64(rates.0)))" max="\(Money.yuan(fen: Int64(rates.1)))" step="0.01" required aria-describedby="grh-\(id)" placeholder="\(Money.yuan(fen: Int64(rates.0)))">
                        <label for="gp-\(id)">\(lang.t("还款方式", "Repayment"))</label>
                        <select id="gp-\(id)" name="repayment" required>\(Repayment.allCases.map { "<option value=\"\($0.rawValue)\">\(PortalHtml.repayment($0, lang))</option>" }.joined())</select>
                        <label for="gc-\(id)">\(lang.t("条件（企业可见，可选）", "Conditions the business sees (optional)"))</label>
                        <textarea id="gc-\(id)" name="conditions" maxlength="\(Demands.maxConditionsLength)" rows="2"></textarea>
                        <label for="gv-\(id)">\(lang.t("报价有效期至", "Valid until"))</label>
                        <p class="hint" id="gvh-\(id)">\(lang.t("今天至 \(today.addingDays(Demands.maxOfferValidityDays))；过期未被接受即失效", "From today to \(today.addingDays(Demands.maxOfferValidityDays)); not accepted by then, it lapses"))</p>
                        <input id="gv-\(id)" name="valid_until" type="date" min="\(today)" max="\(today.addingDays(Demands.maxOfferValidityDays))" required aria-describedby="gvh-\(id)" value="\(today.addingDays(14))">
                        <fieldset><legend>\(lang.t("本行征信查询显示该企业此前没有银行贷款（首贷）", "This bank's credit check shows no earlier bank loan (first loan)"))</legend>
                        <label><input type="radio" name="first_loan_attested" value="yes" required> \(lang.t("是", "Yes"))</label>
                        <label><input type="radio" name="first_loan_attested" value="no"> \(lang.t("否", "No"))</label></fieldset>
                        <p class="hint">\(lang.t("企业会并排看到各家银行的报价（含月供与总利息），接受其中一家；其余报价随之失效。", "The business sees every bank's offer side by side (with the monthly payment and total interest) and accepts one; the others lapse."))</p>
                        <button class="btn" type="submit">\(lang.t("提交报价", "Send the offer"))</button></form></details>
                        """
                }
                body += """
                    <details><summary>\(lang.t("拒绝", "Decline"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/decline">\(PortalHtml.csrf(session))
                    <label for="dr-\(id)">\(lang.t("原因", "Reason"))</label><select id="dr-\(id)" name="reason" required>\(reasons)</select>
                    <label for="dt-\(id)">\(lang.t("说明（企业可见，可选）", "Note the business sees (optional)"))</label>
                    <textarea id="dt-\(id)" name="text" maxlength="\(DemandActions.maxPurposeLength)" rows="2"></textarea>
                    <button class="btn danger" type="submit">\(lang.t("拒绝", "Decline"))</button></form></details>
                    """
            }
            if d.state == .granted {
                let granted = d.grantedAmountFen ?? d.amountFen
                body += """
                    <p>\(lang.t("企业已接受本行报价：批准 \(PortalHtml.yuan(granted)) · \(d.grantedTermMonths ?? d.termMonths) 个月", "The business accepted this bank's offer: \(PortalHtml.yuan(granted)) granted · \(d.grantedTermMonths ?? d.termMonths) months"))</p>
                    <details><summary>\(lang.t("登记放款", "Record the disbursement"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/disburse">\(PortalHtml.csrf(session))
                    <label for="da-\(id)">\(lang.t("放款金额（元，不超过批准金额）", "Amount (yuan, at most the amount granted)"))</label>
                    <input id="da-\(id)" name="amount_yuan" type="number" min="0.01" max="\(Money.yuan(fen: granted))" step="0.01" required value="\(Money.yuan(fen: granted))">
                    <label for="dd-\(id)">\(lang.t("放款日期", "Date"))</label><input id="dd-\(id)" name="disbursed_on" type="date" required max="\(today)" value="\(today)">
                    <button class="btn" type="submit">\(lang.t("登记放款", "Record"))</button></form></details>
                    """
            }
            body += "</section>"
        }
        if m.pages > 1 {
            body += "<nav class=\"pages\" aria-label=\"\(lang.t("翻页", "Pages"))\">"
            if m.page > 1 {
                body += "<a class=\"btn secondary\" href=\"\(filter.link(page: m.page - 1))\">\(lang.t("上一页", "Previous"))</a> "
            }
            if m.page < m.pages {
                body += "<a class=\"btn secondary\" href=\"\(filter.link(page: m.page + 1))\">\(lang.t("下一页", "Next"))</a>"
            }
            body += "</nav>"
        }
        return body
    }

    /// "信用等级 B · 720 分", "数据不足，暂无等级", or why no grade is shown.
    static func gradeLine(_ g: Demands.QueueGrade?, _ lang: Lang) -> String {
        guard let g else {
            return
                "<span class=\"muted\">\(lang.t("企业未授权本行查询信用档案，不显示等级", "The business has not authorised this bank to read its profile: no grade shown"))</span>"
        }
        guard let grade = g.grade, let score = g.score else {
            return PortalHtml.badge("", lang.t("数据不足，暂无等级", "Too little data for a grade"))
        }
        return PortalHtml.badge("", lang.t("信用等级 \(Html.escape(grade))", "Grade \(Html.escape(grade))")) + " "
            + lang.t("\(score) 分", "score \(score)")
    }

    /// The demand's state as this bank sees it: its own part while it holds the demand.
    /// " · 小型 · 海门区 · 纺织业": the business's size, district and industry, in words.
    static func factsLine(_ f: Disclosure.RegistryFacts?, _ lang: Lang) -> String {
        guard let f else { return "" }
        let zh = !lang.english
        let parts = [
            f.sizeClass.map { Names.size($0, chinese: zh) }, f.districtCode.map { Names.district($0, chinese: zh) },
            f.industryCode.map { Names.industry($0, chinese: zh) },
        ].compactMap { $0 }
        return parts.map { " · " + Html.escape($0) }.joined()
    }

    static func stateBadge(_ d: Demand, _ lang: Lang) -> String {
        switch d.offer?.state {
        case .offered?: PortalHtml.badge("taken_up", lang.t("已报价", "Offered"))
        case .takenUp?: PortalHtml.badge("taken_up", lang.t("本行已受理", "Taken up by this bank"))
        default: PortalHtml.badge(d.state.rawValue, PortalHtml.demandState(d.state.rawValue, lang))
        }
    }
}
