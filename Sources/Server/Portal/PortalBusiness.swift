import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// The business's pages: its credit check-up, who looked at it, financing, objections, repair
/// and commitments, its signed report. Its own data only (the session's USCC).
extension PortalRoutes {
    func registerBusiness(_ api: API) {
        api.on(.get, "/portal") { call in try await checkUp(call) }
        api.on(.get, "/portal/access") { call in try await access(call) }
        api.on(.get, "/portal/authorisations/:authorisationId/revoke") { call in try await confirmRevoke(call) }
        api.on(.post, "/portal/authorisations/:authorisationId/revoke") { call in
            try await Self.act(call, back: "/portal/access") { _ in
                _ = try await credit.revoke(call, id: try call.uuidParameter("authorisationId"))
                return "/portal/access?done=revoked"
            }
        }
        api.on(.post, "/portal/authorisations") { call in
            try await Self.act(call, back: "/portal/access") { f in
                let lang = Lang(call.request)
                let scopes = AuthorisationScope.allCases.filter { f["s_" + $0.rawValue] == "on" }
                guard let bank = f["bank_org_id"].flatMap(UUID.init(uuidString:)),
                    let purpose = f["purpose"].flatMap(AccessPurpose.init(rawValue:)),
                    let days = Int(f["days"] ?? ""), Self.authorisationDays.contains(days)
                else {
                    throw Problem(.validationFailed, lang.t("请选择银行、用途和期限。", "Choose a bank, a purpose and a period."))
                }
                _ = try await credit.grant(
                    call,
                    CreditActions.NewAuthorisation(
                        bankOrgId: bank,
                        scopes: scopes,
                        purpose: purpose,
                        expiresAt: Date().addingTimeInterval(Double(days) * 86_400)
                    )
                )
                return "/portal/access?done=granted_authorisation"
            }
        }
        api.on(.post, "/portal/demands/:demandId/withdraw") { call in
            let page = "/portal/demands/\(try call.uuidParameter("demandId").uuidString.lowercased())"
            return try await Self.act(call, back: page) { _ in
                _ = try await demands.withdraw(call, id: try call.uuidParameter("demandId"))
                return page + "?done=withdrawn"
            }
        }
        api.on(.get, "/portal/financing") { call in try await financing(call, values: [:], error: nil) }
        api.on(.post, "/portal/demands") { call in
            let f = try await Self.form(call)
            let lang = Lang(call.request)
            guard let fen = Money.fen((f["amount_yuan"] ?? "").trimmingCharacters(in: .whitespaces)), fen > 0 else {
                return try await financing(
                    call,
                    values: f,
                    error: lang.t("金额：请填写大于 0 的元数，最多两位小数。", "Amount: yuan above 0, at most two decimals.")
                )
            }
            guard let term = Int(f["term_months"] ?? "") else {
                return try await financing(call, values: f, error: lang.t("期限：请填写 1 至 360 的月数。", "Term: 1 to 360 months."))
            }
            let body = DemandActions.NewDemand(
                amountFen: fen,
                termMonths: term,
                purpose: f["purpose"] ?? "",
                collateralOffered: f["collateral"] == "on",
                firstLoan: f["first_loan"] == "on"
            )
            do {
                let answer = try await demands.post(call, body)
                return WebSession.redirect("/portal/demands/\(answer.demand.id.uuidString.lowercased())")
            } catch let p as Problem where p.status.code < 500 {
                return try await financing(call, values: f, error: Self.problemText(p))
            }
        }
        api.on(.get, "/portal/demands/:demandId") { call in try await demandPage(call) }
        api.on(.get, "/portal/governance") { call in try await governance(call) }
        api.on(.get, "/portal/objections/new") { call in try await objectionForm(call) }
        api.on(.post, "/portal/objections") { call in
            try await Self.act(call, back: "/portal") { f in
                _ = try await objections.raise(
                    call,
                    ObjectionActions.Raise(
                        dataset: f["dataset"] ?? "",
                        recordId: f["record_id"] ?? "",
                        reason: f["reason"] ?? "",
                        evidence: (f["evidence"] ?? "").isEmpty ? nil : f["evidence"]
                    )
                )
                return "/portal/governance?done=objection"
            }
        }
        api.on(.get, "/portal/repairs/new") { call in try await repairForm(call) }
        api.on(.post, "/portal/repairs") { call in
            try await Self.act(call, back: "/portal") { f in
                let corrections = Repairs.corrections.sorted().filter { f["c_" + $0] == "on" }
                _ = try await repairs.apply(
                    call,
                    RepairActions.Apply(recordId: f["record_id"] ?? "", corrections: corrections, evidence: f["evidence"] ?? "")
                )
                return "/portal/governance?done=repair"
            }
        }
        api.on(.post, "/portal/commitments") { call in
            try await Self.act(call, back: "/portal/governance") { f in
                _ = try await commitments.make(call, CommitmentActions.Make(kind: f["kind"] ?? "", months: Int(f["months"] ?? "") ?? 0))
                return "/portal/governance?done=commitment"
            }
        }
        api.on(.get, "/portal/reports") { call in try await reportsPage(call) }
        api.on(.post, "/portal/reports") { call in
            try await Self.act(call, back: "/portal/reports") { _ in "/portal/reports/\(try await credit.ownReport(call, asOf: nil).number)"
            }
        }
        api.on(.get, "/portal/reports/:number") { call in try await reportPage(call) }
        api.on(.get, "/portal/reports/:number/download") { call in
            let r = try await ownReport(call)
            var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
            headers[.contentDisposition] = "attachment; filename=\"\(r.number).json\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.document)))
        }
    }

    // MARK: Check-up

    /// The check-up: loaded through Store with its audit row, then rendered (`CheckUpPage`).
    func checkUp(_ call: Call) async throws -> Response {
        let uscc = try call.ownUSCC()
        let view = try await db.withTransaction { c in
            let view = try await CheckUp.load(
                c,
                logger: call.logger,
                uscc: uscc,
                cards: cards,
                maxRecords: Self.maxRecords,
                today: Day.todayInChina()
            )
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(action: "profile.read", result: .allowed, subjectUSCC: uscc, purpose: "self")
            )
            return view
        }
        let lang = Lang(call.request)
        return Self.html(
            call,
            title: lang.t("信用体检", "Credit check-up"),
            current: "/portal",
            body: CheckUpPage.render(view.map(CheckUpPage.model), lang: lang)
        )
    }

    // MARK: Who looked at me

    func access(_ call: Call) async throws -> Response {
        let uscc = try call.ownUSCC()
        let lang = Lang(call.request)
        let model = try await db.withConnection { c in try await AccessPage.load(c, call, uscc: uscc) }
        return Self.html(
            call,
            title: lang.t("谁查看了我", "Who looked at me"),
            current: "/portal/access",
            body: AccessPage.render(model, lang: lang)
        )
    }

    func confirmRevoke(_ call: Call) async throws -> Response {
        let uscc = try call.ownUSCC()
        let lang = Lang(call.request)
        let id = try call.uuidParameter("authorisationId")
        let auths = try await db.withConnection { c in try await Authorisations.forEnterprise(c, logger: call.logger, uscc: uscc) }
        guard let a = auths.first(where: { $0.id == id }) else { throw Problem(.notFound, "no authorisation \(id) of yours") }
        let body = """
            <div class="card"><p>\(lang.t("确定撤销对 \(Html.escape(a.bankName)) 的授权（\(a.purpose.rawValue)）吗？撤销立即生效，此后该银行的查询都会被拒绝。",
                                          "Revoke \(Html.escape(a.bankName))'s authorisation (\(a.purpose.rawValue))? It takes effect at once: every read after it is denied."))</p>
            \(PortalHtml.button("/portal/authorisations/\(id.uuidString.lowercased())/revoke", lang.t("确认撤销", "Yes, revoke"), session: call.session, style: "btn danger"))
            <a class="btn secondary" href="/portal/access">\(lang.t("取消", "Cancel"))</a></div>
            """
        return Self.html(call, title: lang.t("撤销授权", "Revoke an authorisation"), current: "/portal/access", body: body)
    }

    // MARK: Financing

    func financing(_ call: Call, values: [String: String], error: String?) async throws -> Response {
        let uscc = try call.ownUSCC()
        let lang = Lang(call.request)
        let mine = try await db.withConnection { c in try await Demands.list(c, logger: call.logger, uscc: uscc) }
        return Self.html(
            call,
            title: lang.t("融资", "Financing"),
            current: "/portal/financing",
            body: FinancingPage.render(mine, values: values, error: error, lang: lang, session: call.session),
            status: error == nil ? .ok : .unprocessableContent
        )
    }

    func demandPage(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let a = try await demands.mine(call, id: try call.uuidParameter("demandId"))
        return Self.html(
            call,
            title: lang.t("融资需求", "Financing demand"),
            current: "/portal/financing",
            body: DemandPage.render(a, lang: lang, session: call.session)
        )
    }

    // MARK: Objections, repair, commitments

    func governance(_ call: Call) async throws -> Response {
        let uscc = try call.ownUSCC()
        let lang = Lang(call.request)
        let e = Html.escape
        let (objs, reps, coms) = try await db.withConnection { c in
            (
                try await Objections.mine(c, logger: call.logger, uscc: uscc), try await Repairs.mine(c, logger: call.logger, uscc: uscc),
                try await CommitmentStore.mine(c, logger: call.logger, uscc: uscc)
            )
        }
        var body = "<h2>\(lang.t("异议", "Objections"))</h2>"
        body += PortalHtml.table(
            lang.t("在“信用体检”的记录行上提出异议", "Raise one from a record's row on the check-up page"),
            [
                lang.t("提出时间", "Raised"), lang.t("记录", "Record"), lang.t("理由", "Reason"), lang.t("答复期限", "Answer due"),
                lang.t("状态", "State"), lang.t("答复", "Answer"),
            ],
            objs.map { o in
                [
                    PortalHtml.day(o.createdAt), e("\(PortalHtml.dataset(Dataset(rawValue: o.dataset) ?? .taxFiling, lang)) \(o.recordId)"),
                    e(o.reason), e(o.dueOn),
                    PortalHtml.badge(
                        o.overdue ? "overdue" : o.state,
                        PortalHtml.governanceState(o.state, lang) + (o.overdue ? " · " + lang.t("逾期", "overdue") : "")
                    ), e(o.resolution ?? ""),
                ]
            },
            empty: lang.t("没有异议。", "No objections.")
        )
        body += "<h2>\(lang.t("信用修复", "Credit repair"))</h2>"
        body += PortalHtml.table(
            lang.t("在行政处罚的记录行上申请修复", "Apply from a penalty's row on the check-up page"),
            [
                lang.t("申请时间", "Applied"), lang.t("处罚记录", "Penalty"), lang.t("整改", "Corrections"), lang.t("答复期限", "Answer due"),
                lang.t("状态", "State"), lang.t("说明", "Note"),
            ],
            reps.map { r in
                [
                    PortalHtml.day(r.createdAt), e(r.recordId), e(r.corrections.joined(separator: ", ")), e(r.dueOn),
                    PortalHtml.badge(r.state == "approved" ? "repaired" : r.state, PortalHtml.governanceState(r.state, lang)),
                    e(r.reason ?? r.repairedOn.map { lang.t("\($0) 起停止公示", "unpublished from \($0)") } ?? ""),
                ]
            },
            empty: lang.t("没有修复申请。", "No repair applications.")
        )
        var options = ""
        for k in Commitments.Kind.allCases { options += "<option value=\"\(k.rawValue)\">\(e(lang.english ? k.en : k.zh))</option>" }
        var months = ""
        for m in Commitments.periods.sorted() {
            months += "<option value=\"\(m)\"\(m == 6 ? " selected" : "")>\(m) \(lang.t("个月", "months"))</option>"
        }
        body += """
            <h2>\(lang.t("信用承诺", "Credit commitments"))</h2>
            <section class="card"><form class="stack" method="post" action="/portal/commitments">\(PortalHtml.csrf(call.session))
            <label for="kind">\(lang.t("承诺内容", "Commitment"))</label><select id="kind" name="kind">\(options)</select>
            <label for="months">\(lang.t("期限", "Period"))</label><select id="months" name="months">\(months)</select>
            <p class="hint">\(lang.t("承诺将公示，并按归集的数据自动评价：履行或违背都计入信用评分。", "A commitment is public and judged from the data: kept or broken, it counts in the credit score."))</p>
            <button class="btn" type="submit">\(lang.t("作出承诺", "Make the commitment"))</button></form></section>
            """
        body += PortalHtml.table(
            lang.t("我的承诺及进展", "My commitments and their progress"),
            [lang.t("承诺", "Commitment"), lang.t("开始", "From"), lang.t("结束", "To"), lang.t("状态", "State"), lang.t("违背记录", "Broken by")],
            coms.map { m in
                [
                    e(Commitments.Kind(rawValue: m.kind).map { lang.english ? $0.en : $0.zh } ?? m.kind), e(m.startsOn), e(m.endsOn),
                    PortalHtml.badge(m.state, PortalHtml.governanceState(m.state, lang)), e(m.brokenBy ?? ""),
                ]
            },
            empty: lang.t("还没有承诺。", "No commitments yet.")
        )
        return Self.html(call, title: lang.t("异议·修复·承诺", "Objections, repair, commitments"), current: "/portal/governance", body: body)
    }

    func objectionForm(_ call: Call) async throws -> Response {
        _ = try call.ownUSCC()
        let lang = Lang(call.request)
        let q = call.request.uri.queryParameters
        guard let ds = q.get("dataset").flatMap(Dataset.init(rawValue:)), let record = q.get("record"), !record.isEmpty,
            record.unicodeScalars.count <= 200
        else {
            throw Problem.invalid("record", "a dataset and a record id of yours")
        }
        let e = Html.escape
        let body = """
            <section class="card"><p>\(lang.t("对记录", "Object to record")) <strong>\(e(PortalHtml.dataset(ds, lang))) \(e(record))</strong></p>
            <form class="stack" method="post" action="/portal/objections">\(PortalHtml.csrf(call.session))
            <input type="hidden" name="dataset" value="\(ds.rawValue)"><input type="hidden" name="record_id" value="\(e(record))">
            <label for="reason">\(lang.t("理由", "Reason"))</label>
            <textarea id="reason" name="reason" required maxlength="\(Objections.maxReason)" rows="3" placeholder="\(lang.t("哪里有误", "What is wrong"))"></textarea>
            <label for="evidence">\(lang.t("证据说明（可选）", "Evidence (optional)"))</label>
            <textarea id="evidence" name="evidence" maxlength="\(Objections.maxEvidence)" rows="3" placeholder="\(lang.t("如缴款凭证编号", "e.g. a payment receipt number"))"></textarea>
            <p class="hint">\(lang.t("提交后该记录立即标记为有争议，银行和报告中可见；20 天内答复。", "The record is marked disputed at once, in banks' views and reports; the answer is due within 20 days."))</p>
            <button class="btn" type="submit">\(lang.t("提交异议", "Raise the objection"))</button> <a class="btn secondary" href="/portal">\(lang.t("取消", "Cancel"))</a></form></section>
            """
        return Self.html(call, title: lang.t("提出异议", "Object to a record"), current: "/portal", body: body)
    }

    func repairForm(_ call: Call) async throws -> Response {
        _ = try call.ownUSCC()
        let lang = Lang(call.request)
        guard let record = call.request.uri.queryParameters.get("record"), !record.isEmpty, record.unicodeScalars.count <= 200 else {
            throw Problem.invalid("record", "the record id of one of your penalties")
        }
        let e = Html.escape
        let names: [String: (String, String)] = [
            "fine_paid": ("已缴清罚款", "the fine is paid"), "commitment_made": ("已作出信用承诺", "a credit commitment is made"),
            "training_done": ("已参加信用修复培训", "repair training is done"),
        ]
        var boxes = ""
        for c in Repairs.corrections.sorted() {
            boxes +=
                "<p><input type=\"checkbox\" id=\"c_\(c)\" name=\"c_\(c)\"> <label for=\"c_\(c)\" class=\"inl\">\(e(names[c].map { lang.t($0.0, $0.1) } ?? c))</label></p>"
        }
        let body = """
            <section class="card"><p>\(lang.t("申请提前终止公示：行政处罚", "End publication early: penalty")) <strong>\(e(record))</strong></p>
            <form class="stack" method="post" action="/portal/repairs">\(PortalHtml.csrf(call.session))<input type="hidden" name="record_id" value="\(e(record))">
            <fieldset><legend>\(lang.t("已完成的整改（至少一项）", "Corrections done (at least one)"))</legend>\(boxes)</fieldset>
            <label for="evidence">\(lang.t("证明材料说明", "Evidence"))</label>
            <textarea id="evidence" name="evidence" required maxlength="\(Repairs.maxEvidence)" rows="3" placeholder="\(lang.t("如罚款缴纳凭证号", "e.g. the fine's receipt number"))"></textarea>
            <p class="hint">\(lang.t("3 个工作日内答复；批准后立即停止公示并重新计算信用档案。", "Answered within 3 working days; approved, publication stops at once and the profile is recomputed."))</p>
            <button class="btn" type="submit">\(lang.t("提交申请", "Apply"))</button> <a class="btn secondary" href="/portal">\(lang.t("取消", "Cancel"))</a></form></section>
            """
        return Self.html(call, title: lang.t("申请信用修复", "Apply for credit repair"), current: "/portal", body: body)
    }

    // MARK: Reports

    func reportsPage(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let body = """
            <section class="card"><p>\(lang.t("生成一份带编号、经本服务签名的信用报告：可下载 JSON，也可打印；任何人都可在线核验。",
                                              "Produce a numbered credit report signed by this service: download it as JSON or print it; anyone can verify it online."))</p>
            \(PortalHtml.button("/portal/reports", lang.t("生成信用报告", "Produce my credit report"), session: call.session))</section>
            """
        return Self.html(call, title: lang.t("信用报告", "Credit report"), current: "/portal/reports", body: body)
    }

    /// One of the business's reports (audited as the API's read is).
    func ownReport(_ call: Call) async throws -> SignedReport {
        let uscc = try call.ownUSCC()
        let number = try call.parameter("number")
        return try await db.withTransaction { c in
            guard let found = try await Reports.find(c, logger: call.logger, number: number), found.report.uscc == uscc else {
                throw Problem(.notFound, "no report \(number) of yours")
            }
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(action: "report.read", result: .allowed, subjectUSCC: uscc, subjectId: number)
            )
            return found.report
        }
    }

    /// A part of a report as a table: an object as field → value, an array of objects as rows.
    static func jsonTable(_ v: JSONValue) -> String {
        let e = Html.escape
        func text(_ x: JSONValue) -> String {
            switch x {
            case .string(let s): return s
            case .null: return "–"
            default: return x.jsonText
            }
        }
        switch v {
        case .object(let o):
            guard o.count > 0 else { return "<p class=\"muted\">–</p>" }
            return PortalHtml.table("", ["·", "·"], o.pairs.map { [e($0.key), e(text($0.value))] }, empty: "–")
        case .array(let items):
            var keys: [String] = []
            for item in items { if case .object(let o) = item { for p in o.pairs where !keys.contains(p.key) { keys.append(p.key) } } }
            guard !keys.isEmpty else { return "<p class=\"muted\">–</p>" }
            return PortalHtml.table("", keys, items.map { item in keys.map { e(item[$0].map(text) ?? "–") } }, empty: "–")
        default:
            return "<p>\(e(text(v)))</p>"
        }
    }

    func reportPage(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let e = Html.escape
        let r = try await ownReport(call)
        let report = (try? JSONParser.parse(Array(r.canonical.utf8))) ?? .null
        let content = report["content"] ?? .null
        var body = """
            <div class="card"><p><strong>\(lang.t("报告编号", "Report number"))</strong>: \(e(r.number)) · \(lang.t("出具时间", "issued")) \(PortalHtml.day(r.createdAt))
            · \(lang.t("数据截至", "as of")) \(e(content["as_of"]?.stringValue ?? ""))</p>
            <p><strong>\(lang.t("核验地址", "Verify at"))</strong>: <code>/v1/reports/\(e(r.number))/verification</code> ·
            \(lang.t("签名", "signature")) Ed25519 · \(lang.t("密钥", "key")) <code>\(e(r.keyId))</code></p>
            <p class="noprint"><a class="btn" href="/portal/reports/\(e(r.number))/download">\(lang.t("下载 JSON", "Download JSON"))</a>
            <a class="btn secondary" href="/v1/reports/\(e(r.number))/verification">\(lang.t("在线核验", "Verify online"))</a></p></div>
            """
        if let ent = content["enterprise"] {
            body += "<h2>\(lang.t("登记信息", "Register"))</h2>" + Self.jsonTable(ent)
        }
        if let p = content["profile"] {
            body +=
                "<h2>\(lang.t("信用档案", "Profile"))</h2><p>\(lang.t("评分", "Score")) <strong>\(e(p["score"]?.jsonText ?? "–"))</strong> · \(lang.t("等级", "grade")) <strong>\(e(p["grade"]?.stringValue ?? "–"))</strong> · \(e(p["scorecard_version"]?.stringValue ?? ""))</p>"
            if case .array(let reasons)? = p["reasons"] {
                body += "<ol>" + reasons.map { "<li>\(e((lang.english ? $0["en"] : $0["zh"])?.stringValue ?? ""))</li>" }.joined() + "</ol>"
            }
        }
        for (key, zh, en) in [
            ("records_by_dataset", "记录汇总", "Records by dataset"), ("published_penalties", "公示中的行政处罚", "Published penalties"),
            ("dishonesty_listings", "失信名单", "Dishonesty listings"), ("disputed_records", "有争议的记录", "Disputed records"),
            ("commitments", "信用承诺", "Credit commitments"), ("query_history", "查询记录", "Query history"),
        ] {
            guard let v = content[key] else { continue }
            body += "<h2>\(lang.t(zh, en))</h2>" + Self.jsonTable(v)
        }
        body +=
            "<h2 class=\"noprint\">\(lang.t("报告全文", "The whole report"))</h2><details class=\"noprint\"><summary>JSON</summary><pre class=\"wrap\">\(e(r.canonical))</pre></details>"
        return Self.html(call, title: lang.t("信用报告", "Credit report") + " " + r.number, current: "/portal/reports", body: body)
    }
}
