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
                let scopes = AuthorisationScope.allCases.filter { f["s_" + $0.rawValue] == "on" }
                guard let bank = f["bank_org_id"].flatMap(UUID.init(uuidString:)),
                    let purpose = f["purpose"].flatMap(AccessPurpose.init(rawValue:)),
                    let days = Int(f["days"] ?? ""), Self.authorisationDays.contains(days)
                else {
                    throw Problem(.validationFailed, "Choose a bank, a purpose and a period.", zh: "请选择银行、用途和期限。")
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
        api.on(.post, "/portal/demands/:demandId/offers/:offerId/accept") { call in
            let page = "/portal/demands/\(try call.uuidParameter("demandId").uuidString.lowercased())"
            return try await Self.act(call, back: page) { _ in
                _ = try await demands.accept(call, id: try call.uuidParameter("demandId"), offer: try call.uuidParameter("offerId"))
                return page + "?done=accepted"
            }
        }
        api.on(.get, "/portal/financing") { call in try await financing(call, values: [:], error: nil) }
        api.on(.post, "/portal/demands") { call in
            // A one-time token from the form makes a second submit replay the first (one demand).
            try await Self.once(call, db: db) { call in
                let f = try await Self.form(call)
                let lang = Lang(call.request)
                guard let fen = Money.parseYuan(f["amount_yuan"] ?? ""), fen > 0, fen <= DemandActions.maxAmountFen else {
                    return try await financing(
                        call,
                        values: f,
                        error: lang.t(
                            "金额：请填写 ¥0.01 至 \(Money.display(fen: DemandActions.maxAmountFen)) 的金额，如 500000、500,000.00 或 50万。",
                            "Amount: ¥0.01 to \(Money.display(fen: DemandActions.maxAmountFen)), e.g. 500000, 500,000.00 or 50万."
                        )
                    )
                }
                guard let term = Int(f["term_months"] ?? ""), (1...DemandActions.maxTermMonths).contains(term) else {
                    return try await financing(
                        call,
                        values: f,
                        error: lang.t("期限：请填写 1 至 \(DemandActions.maxTermMonths) 的月数。", "Term: 1 to \(DemandActions.maxTermMonths) months.")
                    )
                }
                let body = DemandActions.NewDemand(
                    amountFen: fen,
                    termMonths: term,
                    purpose: f["purpose"] ?? "",
                    collateralOffered: f["collateral"] == "on",
                    firstLoan: f["first_loan"] == "on",
                    referAfterDecline: f["refer"] == "on"
                )
                // First the business sees what was understood, and who will read what, and confirms.
                guard f["confirm"] == "1" else {
                    let uscc = try call.ownUSCC()
                    let banks = try await db.withConnection { c in
                        try await Demands.preview(
                            c,
                            logger: call.logger,
                            uscc: uscc,
                            terms: DemandTerms(
                                amountFen: fen,
                                termMonths: term,
                                collateralOffered: body.collateralOffered,
                                firstLoan: body.firstLoan
                            ),
                            today: Day.todayInChina()
                        )
                    }
                    return try await Self.businessHTML(
                        call,
                        title: lang.t("确认融资需求", "Confirm the financing demand"),
                        current: "/portal/financing",
                        body: FinancingPage.confirm(
                            body,
                            banks: banks,
                            values: f,
                            maxBanks: demands.maxBanks,
                            lang: lang,
                            session: call.session
                        )
                    )
                }
                do {
                    let answer = try await demands.post(call, body)
                    return WebSession.redirect("/portal/demands/\(answer.demand.id.uuidString.lowercased())")
                } catch let p as Problem where p.status.code < 500 {
                    return try await financing(call, values: f, error: Self.problemText(p, lang))
                }
            }
        }
        api.on(.get, "/portal/demands/:demandId") { call in try await demandPage(call) }
        api.on(.get, "/portal/governance") { call in try await governance(call) }
        api.on(.get, "/portal/objections/new") { call in try await objectionForm(call) }
        api.on(.get, "/portal/messages") { call in
            let uscc = try call.ownUSCC()
            let m = try await call.audited(
                db,
                action: "messages.read",
                subject: { _ in .init(uscc: uscc) },
                do: { c in
                    try await MessagesPage.load(c, call)
                }
            )
            let lang = Lang(call.request)
            return try await Self.businessHTML(
                call,
                title: lang.t("消息", "Messages"),
                current: "/portal/messages",
                body: MessagesPage.render(m, lang: lang, session: call.session)
            )
        }
        api.on(.post, "/portal/messages/seen") { call in
            try await Self.act(call, back: "/portal/messages") { _ in
                let uscc = try call.ownUSCC()
                try await db.withConnection { c in try await Messages.markSeen(c, logger: call.logger, uscc: uscc) }
                return "/portal/messages"
            }
        }
        api.on(.get, "/portal/statements/new") { call in try await statementForm(call) }
        api.on(.post, "/portal/statements") { call in
            try await Self.act(call, back: "/portal") { f in
                _ = try await objections.addStatement(
                    call,
                    ObjectionActions.NewStatement(dataset: f["dataset"] ?? "", recordId: f["record_id"] ?? "", text: f["text"] ?? "")
                )
                return "/portal/governance?done=statement"
            }
        }
        api.on(.post, "/portal/statements/:statementId/withdraw") { call in
            try await Self.act(call, back: "/portal/governance") { _ in
                _ = try await objections.withdrawStatement(call, id: try call.uuidParameter("statementId"))
                return "/portal/governance?done=statement_withdrawn"
            }
        }
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
                    RepairActions.Apply(
                        recordId: f["record_id"] ?? "",
                        corrections: corrections,
                        evidence: f["evidence"] ?? "",
                        commitmentId: f["commitment_id"] ?? "",
                        signedBy: f["signed_by"] ?? ""
                    )
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
            let r = try await ownReport(call).report
            var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
            headers[.contentDisposition] = "attachment; filename=\"\(r.number).json\""
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: r.document)))
        }
    }

    // MARK: Check-up

    /// The check-up: loaded through Store with its audit row, then rendered (`CheckUpPage`).
    func checkUp(_ call: Call) async throws -> Response {
        let uscc = try call.ownUSCC()
        let cards = cards
        let view = try await call.audited(
            db,
            action: "profile.read",
            subject: { _ in .init(uscc: uscc, purpose: "self") },
            do: { c in
                try await CheckUp.load(
                    c,
                    logger: call.logger,
                    uscc: uscc,
                    cards: cards,
                    maxRecords: Self.maxRecords,
                    today: Day.todayInChina()
                )
            }
        )
        let lang = Lang(call.request)
        return try await Self.businessHTML(
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
        return try await Self.businessHTML(
            call,
            title: lang.t("谁查看了我", "Who looked at me"),
            current: "/portal/access",
            body: AccessPage.render(model, lang: lang)
        )
    }

    func confirmRevoke(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let a = try await db.withConnection { c in try await ConfirmRevokePage.load(c, call) }
        return try await Self.businessHTML(
            call,
            title: lang.t("撤销授权", "Revoke an authorisation"),
            current: "/portal/access",
            body: ConfirmRevokePage.render(a, lang: lang, session: call.session)
        )
    }

    // MARK: Financing

    func financing(_ call: Call, values: [String: String], error: String?) async throws -> Response {
        let lang = Lang(call.request)
        let mine = try await db.withConnection { c in try await FinancingPage.load(c, call) }
        return try await Self.businessHTML(
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
        return try await Self.businessHTML(
            call,
            title: lang.t("融资需求", "Financing demand"),
            current: "/portal/financing",
            body: DemandPage.render(a, lang: lang, session: call.session)
        )
    }

    // MARK: Objections, repair, commitments

    func governance(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let m = try await db.withConnection { c in try await GovernancePage.load(c, call) }
        return try await Self.businessHTML(
            call,
            title: lang.t("异议·修复·承诺", "Objections, repair, commitments"),
            current: "/portal/governance",
            body: GovernancePage.render(m.objections, m.repairs, m.commitments, statements: m.statements, lang: lang, session: call.session)
        )
    }

    /// The record a form from a check-up row is about (`dataset` and `record` in the query); a
    /// bad one says which link of the row leads here (`from`).
    static func recordQuery(_ call: Call, from link: String) throws -> (Dataset, String) {
        _ = try call.ownUSCC()
        let q = call.request.uri.queryParameters
        guard let ds = q.get("dataset").flatMap(Dataset.init(rawValue:)), let record = q.get("record"), !record.isEmpty,
            record.unicodeScalars.count <= TextLimits.identifier
        else {
            throw Problem.invalid("record", "a dataset and a record id of yours", zh: "请从信用体检页面中记录旁的“\(link)”进入")
        }
        return (ds, record)
    }

    func objectionForm(_ call: Call) async throws -> Response {
        let (ds, record) = try Self.recordQuery(call, from: "提出异议")
        let lang = Lang(call.request)
        return try await Self.businessHTML(
            call,
            title: lang.t("提出异议", "Object to a record"),
            current: "/portal",
            body: ObjectionFormPage.render(dataset: ds, record: record, lang: lang, session: call.session)
        )
    }

    func statementForm(_ call: Call) async throws -> Response {
        let (ds, record) = try Self.recordQuery(call, from: "添加说明")
        let lang = Lang(call.request)
        return try await Self.businessHTML(
            call,
            title: lang.t("对记录添加说明", "Add a statement to a record"),
            current: "/portal",
            body: ObjectionFormPage.statement(dataset: ds, record: record, lang: lang, session: call.session)
        )
    }

    func repairForm(_ call: Call) async throws -> Response {
        _ = try call.ownUSCC()
        let lang = Lang(call.request)
        guard let record = call.request.uri.queryParameters.get("record"), !record.isEmpty,
            record.unicodeScalars.count <= TextLimits.identifier
        else {
            throw Problem.invalid("record", "the record id of one of your penalties", zh: "请从信用体检页面中处罚记录旁的“申请信用修复”进入")
        }
        return try await Self.businessHTML(
            call,
            title: lang.t("申请信用修复", "Apply for credit repair"),
            current: "/portal",
            body: RepairFormPage.render(record: record, lang: lang, session: call.session)
        )
    }

    // MARK: Reports

    func reportsPage(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let reports = try await db.withConnection { c in try await ReportsPage.load(c, call) }
        return try await Self.businessHTML(
            call,
            title: lang.t("信用报告", "Credit report"),
            current: "/portal/reports",
            body: ReportsPage.render(reports, lang: lang, session: call.session)
        )
    }

    /// One of the business's reports, read with its audit row as the API's read is.
    func ownReport(_ call: Call) async throws -> ReportPage.Model {
        try await call.audited(
            db,
            action: "report.read",
            subject: { .init(uscc: $0.report.uscc, id: $0.report.number) },
            do: { c in
                try await ReportPage.load(c, call)
            }
        )
    }

    func reportPage(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let r = try await ownReport(call)
        return try await Self.businessHTML(
            call,
            title: lang.t("信用报告", "Credit report") + " " + r.report.number,
            current: "/portal/reports",
            body: ReportPage.render(r, lang: lang)
        )
    }
}
