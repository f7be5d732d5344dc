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
        api.on(.post, "/portal/bank/demands/:demandId/offer") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                guard let fen = Money.fen((f["amount_yuan"] ?? "").trimmingCharacters(in: .whitespaces)),
                    let term = Int(f["term_months"] ?? ""),
                    let rate = Self.basisPoints(f["rate_percent"] ?? "")
                else {
                    throw Problem(
                        .validationFailed,
                        "Fill in the amount (yuan), term (months) and yearly rate (%, at most two decimals).",
                        zh: "请填写金额（元）、期限（月）和年利率（%，最多两位小数）。"
                    )
                }
                guard let attested = ["yes": true, "no": false][f["first_loan_attested"] ?? ""] else {
                    throw Problem.invalid(
                        "first_loan_attested",
                        "yes or no: does this bank's credit check show no earlier bank loan?",
                        zh: "请选择本行征信查询是否显示该企业此前没有银行贷款"
                    )
                }
                _ = try await demands.offer(
                    call,
                    id: try call.uuidParameter("demandId"),
                    DemandActions.OfferBody(
                        amountFen: fen,
                        termMonths: term,
                        rateBp: rate,
                        repayment: f["repayment"] ?? "",
                        conditions: f["conditions"],
                        validUntil: f["valid_until"] ?? "",
                        firstLoanAttested: attested,
                        productId: f["product_id"].flatMap(UUID.init(uuidString:))
                    )
                )
                return "/portal/bank?done=offered"
            }
        }
        api.on(.post, "/portal/bank/demands/:demandId/disburse") { call in
            try await Self.act(call, back: "/portal/bank") { f in
                guard let fen = Money.fen((f["amount_yuan"] ?? "").trimmingCharacters(in: .whitespaces)) else {
                    throw Problem(
                        .validationFailed,
                        "Fill in the amount disbursed (yuan, at most two decimals).",
                        zh: "请填写放款金额（元，最多两位小数）。"
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

    /// The query string's first value of each name.
    static func queryValues(_ call: Call) -> [String: String] {
        var out: [String: String] = [:]
        for (k, v) in call.request.uri.queryParameters where out[String(k)] == nil { out[String(k)] = String(v) }
        return out
    }

    func queue(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let today = Day.todayInChina()
        let filter = BankQueueFilter(Self.queryValues(call))
        let cards = self.cards
        let m = try await db.withTransaction { c in try await BankQueuePage.load(c, call, filter: filter, cards: cards, today: today) }
        return Self.html(
            call,
            title: lang.t("融资需求", "Demands"),
            current: "/portal/bank",
            body: BankQueuePage.render(m, filter: filter, today: today, lang: lang, session: call.session)
        )
    }

    func lookup(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let q = call.request.uri.queryParameters
        let given = q.get("uscc") ?? ""
        let title = lang.t("企业查询", "Look up a business")
        let query = String((q.get("q") ?? "").prefix(LookupPage.maxQuery))
        // The businesses with a live authorisation for this bank, by name (the register's).
        let bank = call.caller.orgId
        let authorised = try await db.withConnection { c -> [LookupPage.Authorised] in
            let live = try await Authorisations.forBank(c, logger: call.logger, bankOrgId: bank, liveOnly: true)
            let names = try await Disclosure.names(Array(Set(live.map(\.uscc))), c, logger: call.logger)
            var seen = Set<String>()
            return live.compactMap { a in
                seen.insert(a.uscc + a.purpose.rawValue).inserted
                    ? LookupPage.Authorised(uscc: a.uscc, name: names[a.uscc], purpose: a.purpose) : nil
            }
            .sorted { ($0.name ?? $0.uscc) < ($1.name ?? $1.uscc) }
        }
        func page(_ result: LookupPage.Result, status: HTTPResponse.Status = .ok) -> Response {
            Self.html(
                call,
                title: title,
                current: "/portal/bank/lookup",
                body: LookupPage.render(
                    given: given,
                    purpose: q.get("purpose"),
                    result: result,
                    lang: lang,
                    authorised: authorised,
                    query: query
                ),
                status: status
            )
        }
        guard !given.isEmpty else { return page(.none) }
        guard let code = USCC(given.uppercased()) else { return page(.invalidCode, status: .unprocessableContent) }
        guard let purpose = AccessPurpose(rawValue: q.get("purpose") ?? AccessPurpose.loanApplication.rawValue) else {
            return page(.refused(lang.t("请选择查询用途。", "Choose a purpose.")), status: .unprocessableContent)
        }
        let logger = call.logger
        let uscc = code.value
        do {
            let (p, _) = try await credit.bankRead(call, uscc: uscc, scope: .profile, purpose: purpose, action: "profile.read") {
                c,
                auth in
                (
                    try await CreditActions.profileBody(c, logger: logger, uscc: uscc, lineage: false, auth: auth),
                    try await Disclosure.names([uscc], c, logger: logger)[uscc]
                )
            }
            return page(.profile(p.0, uscc: uscc, name: p.1))
        } catch let p as Problem where p.status.code < 500 {
            return page(.refused(Self.problemText(p, lang)), status: p.status)
        }
    }

    /// The loans the bank disbursed: each with its monthly outcomes and a form for the next
    /// month's (they are what the regulators' KS, AUC and default rates are computed from).
    func loans(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        let thisMonth = String(Day.todayInChina().description.prefix(7))
        let m = try await db.withConnection { c in try await BankLoansPage.load(c, call) }
        return Self.html(
            call,
            title: lang.t("贷款表现", "Loan outcomes"),
            current: "/portal/bank/loans",
            body: BankLoansPage.render(
                m.loans,
                names: m.names,
                thisMonth: thisMonth,
                lang: lang,
                session: call.session,
                selection: BankLoansPage.Selection(Self.queryValues(call)),
                lastMonth: "\(MonthIndex(Day.todayInChina()).adding(-1))"
            )
        )
    }

    func events(_ call: Call) async throws -> Response {
        let lang = Lang(call.request)
        // Monitoring events carry businesses' scores and grades: the page's read is audited.
        let (items, names) = try await call.audited(
            db,
            action: "events.read",
            subject: { .init(detail: ["events": String($0.0.count)]) },
            do: { c in
                let items = try await BankEventsPage.load(c, call, limit: Self.maxLogRows)
                // Each business by its public name (the register's), its code beside it.
                return (items, try await Disclosure.names(Array(Set(items.compactMap(\.uscc))), c, logger: call.logger))
            }
        )
        return Self.html(
            call,
            title: lang.t("贷后监测", "Monitoring events"),
            current: "/portal/bank/events",
            body: BankEventsPage.render(items, names: names, lang: lang)
        )
    }
}
