import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// A bank credit officer's pages: the queue of demands matching the bank's products with their
/// deadlines, take up / grant / decline; an authorised business's profile; the portfolio's
/// monitoring events.
extension PortalRoutes {
    func registerBank(_ api: API) {
        api.on(.get, "/portal/bank") { call in try await queue(call) }
        api.on(.post, "/portal/bank/demands/:demandId/take-up") { call in
            try await Self.act(call, back: "/portal/bank") { _ in
                _ = try await demands.takeUp(call, id: try call.uuidParameter("demandId"))
                return "/portal/bank?done=taken_up"
            }
        }
        api.on(.post, "/portal/bank/demands/:demandId/pass") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                _ = try await demands.pass(call, id: try call.uuidParameter("demandId"), DemandActions.Pass(reason: f["reason"]))
                return "/portal/bank?done=passed"
            }
        }
        api.on(.post, "/portal/bank/demands/:demandId/decline") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                _ = try await demands.decline(
                    call,
                    id: try call.uuidParameter("demandId"),
                    DemandActions.Decline(reason: f["reason"] ?? "", text: f["text"])
                )
                return "/portal/bank?done=declined"
            }
        }
        api.on(.post, "/portal/bank/demands/:demandId/grant") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                let lang = Lang(call.request)
                guard let fen = Money.fen((f["amount_yuan"] ?? "").trimmingCharacters(in: .whitespaces)),
                    let term = Int(f["term_months"] ?? ""),
                    let rate = Self.basisPoints(f["rate_percent"] ?? "")
                else {
                    throw Problem(
                        .validationFailed,
                        lang.t(
                            "请填写金额（元）、期限（月）和年利率（%，最多两位小数）。",
                            "Fill in the amount (yuan), term (months) and yearly rate (%, at most two decimals)."
                        )
                    )
                }
                _ = try await demands.grant(
                    call,
                    id: try call.uuidParameter("demandId"),
                    DemandActions.Grant(amountFen: fen, termMonths: term, rateBp: rate, productId: nil)
                )
                return "/portal/bank?done=granted"
            }
        }
        api.on(.post, "/portal/bank/demands/:demandId/disburse") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                let lang = Lang(call.request)
                guard let fen = Money.fen((f["amount_yuan"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw Problem(
                        .validationFailed,
                        lang.t("请填写放款金额（元，最多两位小数）。", "Fill in the amount disbursed (yuan, at most two decimals).")
                    )
                }
                _ = try await demands.disburse(
                    call,
                    id: try call.uuidParameter("demandId"),
                    DemandActions.Disbursement(amountFen: fen, disbursedOn: f["disbursed_on"] ?? "")
                )
                return "/portal/bank?done=disbursed"
            }
        }
        api.on(.get, "/portal/bank/loans") { call in try await loans(call) }
        api.on(.post, "/portal/bank/demands/:demandId/outcome") { call in
            try await Self.act(call, back: "/portal/bank/loans") { f in
                _ = try await demands.reportOutcome(
                    call,
                    id: try call.uuidParameter("demandId"),
                    DemandActions.OutcomeBody(month: f["month"] ?? "", status: f["status"] ?? "")
                )
                return "/portal/bank/loans?done=outcome"
            }
        }
        api.on(.get, "/portal/bank/lookup") { call in try await lookup(call) }
        api.on(.get, "/portal/bank/events") { call in try await events(call) }
    }

    /// `4.35` → 435 basis points (at most two decimals).
    static func basisPoints(_ text: String) -> Int? {
        guard let fen = Money.fen(text.trimmingCharacters(in: .whitespaces)), fen <= Int64(Int32.max) else { return nil }
        return Int(fen)
    }

    func queue(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let e = Html.escape
        let today = Day.todayInChina()
        let (items, names) = try await db.withConnection { c in
            let items = try await Demands.bankQueue(c, logger: call.logger, bank: call.caller.orgId)
            return (items, try await Disclosure.names(Array(Set(items.map(\.uscc))), c, logger: call.logger))
        }
        var reasons = ""
        for r in Demands.declineReasons { reasons += "<option value=\"\(r)\">\(e(PortalHtml.declineReason(r, lang)))</option>" }
        var body =
            "<p class=\"muted\">\(lang.t("与本行产品匹配、企业已授权的需求，以及本行已受理的需求。期限按工作日计。", "Demands matching this bank's products (the business authorised the bank) and those the bank took up. Deadlines count working days."))</p>"
        guard !items.isEmpty else {
            body += "<p>\(lang.t("暂无待办需求。", "Nothing waiting."))</p>"
            return Self.html(call, title: lang.t("融资需求", "Demands"), current: "/portal/bank", body: body)
        }
        for d in items {
            let id = d.id.uuidString.lowercased()
            let due = d.state == .open ? d.takeUpDueOn : (d.decisionDueOn ?? d.takeUpDueOn)
            let left = Day(due).map { PortalHtml.workingDaysLeft($0, today: today) } ?? 0
            let deadline =
                left >= 0
                ? lang.t("剩 \(left) 个工作日（\(due)）", "\(left) working days left (\(due))")
                : lang.t("已逾期 \(-left) 个工作日（\(due)）", "\(-left) working days overdue (\(due))")
            body += """
                <section class="card" aria-labelledby="d-\(id)"><h2 id="d-\(id)">\(e(names[d.uscc] ?? d.uscc)) · \(PortalHtml.yuan(d.amountFen)) · \(d.termMonths) \(lang.t("个月", "months"))</h2>
                \(names[d.uscc] == nil ? "" : "<p class=\"muted\">\(e(d.uscc))</p>")
                <p>\(PortalHtml.badge(d.state.rawValue, PortalHtml.demandState(d.state.rawValue, lang))) \(PortalHtml.badge(left < 0 || d.overdue ? "overdue" : "", deadline))
                · \(e(d.purpose))\(d.collateralOffered ? " · " + lang.t("可提供担保", "collateral offered") : "")\(d.firstLoan ? " · " + lang.t("首贷", "first loan") : "")</p>
                <p><a href="/portal/bank/lookup?uscc=\(e(d.uscc))&amp;purpose=loan_application">\(lang.t("查看企业信用档案", "See the business's profile"))</a></p>
                """
            if d.state == .open {
                body += PortalHtml.button("/portal/bank/demands/\(id)/take-up", lang.t("受理", "Take up"), session: call.session)
                body += """
                    <details><summary>\(lang.t("放弃", "Pass"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/pass">\(PortalHtml.csrf(call.session))
                    <label for="pr-\(id)">\(lang.t("原因（可选）", "Why (optional)"))</label>
                    <textarea id="pr-\(id)" name="reason" maxlength="\(DemandActions.maxPurposeLength)" rows="2"></textarea>
                    <p class="hint">\(lang.t("放弃后本行不再看到该需求，也不再能查询该企业的档案。", "After passing, the bank no longer sees this demand nor may read the business's profile for it."))</p>
                    <button class="btn secondary" type="submit">\(lang.t("放弃", "Pass"))</button></form></details>
                    """
            } else if d.state == .takenUp {
                body += """
                    <details><summary>\(lang.t("批准", "Grant"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/grant">\(PortalHtml.csrf(call.session))
                    <label for="ga-\(id)">\(lang.t("金额（元）", "Amount (yuan)"))</label><input id="ga-\(id)" name="amount_yuan" type="number" min="1" step="0.01" required value="\(Money.yuan(fen: d.amountFen))">
                    <label for="gt-\(id)">\(lang.t("期限（月）", "Term (months)"))</label><input id="gt-\(id)" name="term_months" type="number" min="1" max="360" required value="\(d.termMonths)">
                    <label for="gr-\(id)">\(lang.t("年利率（%）", "Yearly rate (%)"))</label><input id="gr-\(id)" name="rate_percent" type="number" min="0" max="36" step="0.01" required placeholder="4.35">
                    <button class="btn" type="submit">\(lang.t("批准", "Grant"))</button></form></details>
                    <details><summary>\(lang.t("拒绝", "Decline"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/decline">\(PortalHtml.csrf(call.session))
                    <label for="dr-\(id)">\(lang.t("原因", "Reason"))</label><select id="dr-\(id)" name="reason" required>\(reasons)</select>
                    <label for="dt-\(id)">\(lang.t("说明（企业可见，可选）", "Note the business sees (optional)"))</label>
                    <textarea id="dt-\(id)" name="text" maxlength="\(DemandActions.maxPurposeLength)" rows="2"></textarea>
                    <button class="btn danger" type="submit">\(lang.t("拒绝", "Decline"))</button></form></details>
                    """
            }
            if d.state == .granted {
                body += """
                    <details><summary>\(lang.t("登记放款", "Record the disbursement"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/disburse">\(PortalHtml.csrf(call.session))
                    <label for="da-\(id)">\(lang.t("放款金额（元，不超过批准金额）", "Amount (yuan, at most the amount granted)"))</label>
                    <input id="da-\(id)" name="amount_yuan" type="number" min="0.01" step="0.01" required value="\(Money.yuan(fen: d.grantedAmountFen ?? d.amountFen))">
                    <label for="dd-\(id)">\(lang.t("放款日期", "Date"))</label><input id="dd-\(id)" name="disbursed_on" type="date" required max="\(today)" value="\(today)">
                    <button class="btn" type="submit">\(lang.t("登记放款", "Record"))</button></form></details>
                    """
            }
            body += "</section>"
        }
        return Self.html(call, title: lang.t("融资需求", "Demands"), current: "/portal/bank", body: body)
    }

    func lookup(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let e = Html.escape
        let q = call.request.uri.queryParameters
        let given = q.get("uscc") ?? ""
        var purposes = ""
        for p in AccessPurpose.allCases {
            purposes += "<option value=\"\(p.rawValue)\"\(q.get("purpose") == p.rawValue ? " selected" : "")>\(p.rawValue)</option>"
        }
        var body = """
            <section class="card"><form class="stack" method="get" action="/portal/bank/lookup">
            <label for="uscc">\(lang.t("统一社会信用代码", "Unified social credit code"))</label>
            <input id="uscc" name="uscc" type="text" required pattern="[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}" maxlength="18" placeholder="91320602MA1XXXXXXX" value="\(e(given))">
            <label for="purpose">\(lang.t("查询用途（须有企业的有效授权）", "Purpose (the business's live authorisation is needed)"))</label><select id="purpose" name="purpose">\(purposes)</select>
            <button class="btn" type="submit">\(lang.t("查询", "Look up"))</button></form></section>
            """
        guard !given.isEmpty else {
            return Self.html(call, title: lang.t("企业查询", "Look up a business"), current: "/portal/bank/lookup", body: body)
        }
        guard let code = USCC(given.uppercased()) else {
            return Self.html(
                call,
                title: lang.t("企业查询", "Look up a business"),
                current: "/portal/bank/lookup",
                body: body + "<p class=\"flash err\" role=\"alert\">\(lang.t("代码无效（校验位不符）。", "Not a valid code (check characters)."))</p>",
                status: .unprocessableContent
            )
        }
        let purpose = AccessPurpose(rawValue: q.get("purpose") ?? "") ?? .loanApplication
        let logger = call.logger
        let uscc = code.value
        do {
            let (p, _) = try await creditReads.bankRead(call, uscc: uscc, scope: .profile, purpose: purpose, action: "profile.read") {
                c,
                auth in
                try await CreditRoutes.profileBody(c, logger: logger, uscc: uscc, lineage: false, auth: auth)
            }
            let profile = p.profile
            var reasons = ""
            for r in profile.reasons { reasons += "<li>\(e(lang.english ? r.en : r.zh))</li>" }
            var rows: [[String]] = []
            for f in Feature.allCases {
                let v = profile.features[f.rawValue] ?? .missing
                rows.append([
                    e(lang.english ? f.definition.en : f.definition.zh),
                    e(PortalHtml.code(Scorecard.render(v, f, chinese: !lang.english), lang)), "\(profile.points[f.rawValue] ?? 0)",
                ])
            }
            body += """
                <section class="card"><h2>\(e(uscc))</h2><p>\(lang.t("评分", "Score")) <strong>\(profile.score.map(String.init) ?? "–")</strong> ·
                \(lang.t("等级", "grade")) <strong>\(e(profile.grade ?? "–"))</strong>\(profile.thinFile ? " · " + lang.t("数据不足", "thin file") : "") ·
                \(lang.t("评分卡", "scorecard")) \(e(profile.scorecardVersion)) · \(lang.t("授权", "authorisation")) <code>\(e(p.authorisationId?.uuidString.lowercased() ?? ""))</code></p>
                <ol>\(reasons)</ol></section>
                """
                + PortalHtml.table(
                    lang.t("指标", "Features"),
                    [lang.t("指标", "Feature"), lang.t("取值", "Value"), lang.t("得分", "Points")],
                    rows,
                    empty: ""
                )
            return Self.html(call, title: lang.t("企业查询", "Look up a business"), current: "/portal/bank/lookup", body: body)
        } catch let p as Problem where p.status.code < 500 {
            return Self.html(
                call,
                title: lang.t("企业查询", "Look up a business"),
                current: "/portal/bank/lookup",
                body: body + "<p class=\"flash err\" role=\"alert\">\(e(Self.problemText(p)))</p>",
                status: p.status
            )
        }
    }

    /// The loans the bank disbursed: each with its monthly outcomes and a form for the next
    /// month's (they are what the regulators' KS, AUC and default rates are computed from).
    func loans(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let e = Html.escape
        let thisMonth = String(Day.todayInChina().description.prefix(7))
        let (loans, names) = try await db.withConnection { c in
            let loans = try await Demands.bankLoans(c, logger: call.logger, bank: call.caller.orgId)
            return (loans, try await Disclosure.names(Array(Set(loans.map(\.0.uscc))), c, logger: call.logger))
        }
        var statuses = ""
        for s in Demands.outcomeStatuses { statuses += "<option value=\"\(s)\">\(e(PortalHtml.outcomeStatus(s, lang)))</option>" }
        var body =
            "<p class=\"muted\">\(lang.t("本行已放款的贷款。请每月登记还款表现：监管部门据此检验评分模型（KS、AUC、违约率）。同一月份再次登记以最后一次为准。", "The loans this bank disbursed. Report each month's repayment: regulators test the scoring model on these (KS, AUC, default rates). Reporting a month again replaces it."))</p>"
        guard !loans.isEmpty else {
            body += "<p>\(lang.t("暂无已放款的贷款。", "No loans disbursed yet."))</p>"
            return Self.html(call, title: lang.t("贷款表现", "Loan outcomes"), current: "/portal/bank/loans", body: body)
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
                <details><summary>\(lang.t("登记月度表现", "Report a month"))</summary><form class="stack" method="post" action="/portal/bank/demands/\(id)/outcome">\(PortalHtml.csrf(call.session))
                <label for="om-\(id)">\(lang.t("月份", "Month"))</label><input id="om-\(id)" name="month" type="month" required max="\(thisMonth)" value="\(thisMonth)">
                <label for="os-\(id)">\(lang.t("表现", "Outcome"))</label><select id="os-\(id)" name="status" required>\(statuses)</select>
                <button class="btn" type="submit">\(lang.t("登记", "Report"))</button></form></details></section>
                """
        }
        return Self.html(call, title: lang.t("贷款表现", "Loan outcomes"), current: "/portal/bank/loans", body: body)
    }

    func events(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let e = Html.escape
        // Monitoring events carry businesses' scores and grades: the page's read is audited.
        let items = try await db.withTransaction { c in
            let items = try await Webhooks.events(c, logger: call.logger, bank: call.caller.orgId, limit: Self.maxLogRows)
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(
                    action: "events.read",
                    result: .allowed,
                    detail: ["events": String(items.count)]
                )
            )
            return items
        }
        let names: [String: (String, String)] = [
            "profile.grade_changed": ("等级变化", "grade changed"), "profile.score_moved": ("评分大幅变动", "score moved"),
            "record.new_penalty": ("新增行政处罚", "new penalty"), "record.new_blacklisting": ("列入失信名单", "new listing"),
            "arrears.tax_started": ("开始欠税", "tax arrears started"),
            "arrears.social_insurance_started": ("开始欠缴社保", "social-insurance arrears started"),
            "demand.state_changed": ("需求状态变化", "demand state changed"), "record.corrected": ("记录已更正", "record corrected"),
            "record.repaired": ("处罚已修复", "penalty repaired"), "record.listing_removed": ("移出失信名单", "listing removed"),
        ]
        let rows = items.map { ev in
            [
                PortalHtml.day(ev.createdAt), e(names[ev.type].map { lang.t($0.0, $0.1) } ?? ev.type), e(ev.uscc ?? "–"),
                "<code>\(e(String(ev.payload.prefix(200))))</code>",
            ]
        }
        let body =
            "<p class=\"muted\">\(lang.t("本行关注的企业（贷后监测授权或本行放款）的变化；同样的事件也推送到本行登记的 webhook。", "Changes at the businesses this bank watches (a post-loan monitoring authorisation or a loan it disbursed); the same events go to the bank's webhooks."))</p>"
            + PortalHtml.table(
                lang.t("最近的事件", "Recent events"),
                [lang.t("时间", "When"), lang.t("事件", "Event"), lang.t("企业", "Business"), lang.t("内容", "Details")],
                rows,
                empty: lang.t("暂无事件。", "No events yet.")
            )
        return Self.html(call, title: lang.t("贷后监测", "Monitoring events"), current: "/portal/bank/events", body: body)
    }
}
