import CreditCore
import Foundation
import Hummingbird
import PostgresNIO
import Store

/// What demand operations do — checks, one transaction, the audit row — whichever face
/// asks: the API's routes (DemandRoutes) and the portal's forms call these same functions.
struct DemandActions {
    let db: Database
    /// Banks that may hold one demand at once (`XYD_MAX_BANKS_PER_DEMAND`), fixed on each demand
    /// when it is posted.
    var maxBanks: Int = Demands.defaultMaxBanks
    static let maxAmountFen: Int64 = 100_000_000_000
    static let maxPurposeLength = 500
    /// The longest term a demand may ask or a grant give (30 years).
    static let maxTermMonths = 360

    struct NewDemand: Decodable {
        let amountFen: Int64
        let termMonths: Int
        let purpose: String
        let collateralOffered: Bool
        let firstLoan: Bool
        /// After a decline, may the other matching banks take it up? (default yes)
        let referAfterDecline: Bool?

        func checked() throws -> (DemandTerms, String) {
            var errors: [Problem.FieldError] = []
            if amountFen < 1 || amountFen > DemandActions.maxAmountFen {
                errors.append(DemandActions.amountError)
            }
            if termMonths < 1 || termMonths > DemandActions.maxTermMonths {
                errors.append(DemandActions.termError)
            }
            var checks = FieldChecks()
            let p = checks.text(purpose, "purpose", max: DemandActions.maxPurposeLength) ?? ""
            errors += checks.errors
            guard errors.isEmpty else {
                throw Problem.invalid(errors)
            }
            return (
                DemandTerms(amountFen: amountFen, termMonths: termMonths, collateralOffered: collateralOffered, firstLoan: firstLoan), p
            )
        }
    }

    struct MatchedProduct: Encodable {
        let productId: UUID
        let productName: String
        let bankOrgId: UUID
        let bankName: String
        let kind: ProductKind
        let amountMinFen: Int64
        let amountMaxFen: Int64
        let termMinMonths: Int
        let termMaxMonths: Int
        let rateMinBp: Int
        let rateMaxBp: Int
        let fitBp: Int
        let checks: [Check]
        /// The product's indicative amount for this business (参考额度): non-binding, from the bank's quota rule.
        let indicativeFen: Int64?
        /// The quota rule it comes from.
        let quota: JSONValue?
    }

    struct NearMiss: Encodable {
        let offer: MatchedProduct
        /// The one check that failed: what would change the answer.
        let failed: Check
    }

    struct Answer: Encodable {
        let demand: Demand
        let matches: [MatchedProduct]
        let nearMisses: [NearMiss]
        let notMatched: Int
        let transitions: [Demands.Transition]
        /// Every bank's part: taken up, its offer (with the repayment plan), its decline, a lapse.
        var offers: [Store.Offer] = []
    }

    static func answer(_ d: Demand, _ m: Demands.Matched?, _ transitions: [Demands.Transition]) -> Answer {
        func offer(_ pm: ProductMatch) -> MatchedProduct {
            let p = m!.products[pm.productIndex]
            return MatchedProduct(
                productId: p.id,
                productName: p.name,
                bankOrgId: p.bankOrgId,
                bankName: p.bankName,
                kind: p.terms.kind,
                amountMinFen: p.terms.amountMinFen,
                amountMaxFen: p.terms.amountMaxFen,
                termMinMonths: p.terms.termMinMonths,
                termMaxMonths: p.terms.termMaxMonths,
                rateMinBp: p.terms.rateMinBp,
                rateMaxBp: p.terms.rateMaxBp,
                fitBp: pm.fitBp,
                checks: pm.checks,
                indicativeFen: pm.indicativeFen,
                quota: p.terms.quota?.jsonValue
            )
        }
        guard let m else { return Answer(demand: d, matches: [], nearMisses: [], notMatched: 0, transitions: transitions) }
        return Answer(
            demand: d,
            matches: m.ranked.matches.map(offer),
            nearMisses: m.ranked.nearMisses.map { NearMiss(offer: offer($0), failed: $0.failed[0]) },
            notMatched: m.ranked.others.count,
            transitions: transitions
        )
    }

    static func mapped(_ e: DemandError) -> Problem {
        switch e {
        case .notFound: Problem(.notFound, e.description, zh: e.zh)
        case .state: Problem(.conflict, e.description, zh: e.zh)
        case .noProfile: Problem(.conflict, e.description, zh: e.zh)
        case .notYourProduct: Problem.invalid("product_id", e.description, zh: e.zh)
        case .outOfBounds(let errors):
            Problem.invalid(
                errors.map {
                    Problem.FieldError(
                        field: $0.field,
                        reason: $0.bound,
                        zh: $0.zh
                    )
                }
            )
        case .tooManyOpen: Problem(.conflict, e.description, zh: e.zh)
        case .full: Problem(.conflict, e.description, zh: e.zh)
        case .part: Problem(.conflict, e.description, zh: e.zh)
        case .noOffer: Problem(.notFound, e.description, zh: e.zh)
        case .offerNotOpen: Problem(.conflict, e.description, zh: e.zh)
        }
    }

    /// The bounds every amount and term people enter is held to, with their Chinese wording.
    static var amountError: Problem.FieldError {
        .init(
            field: "amount_fen",
            reason: "1 to \(maxAmountFen) fen",
            zh: "金额须在 ¥0.01 至 \(Money.display(fen: maxAmountFen)) 之间"
        )
    }
    static var termError: Problem.FieldError {
        .init(field: "term_months", reason: "1 to \(maxTermMonths) months", zh: "期限须为 1 至 \(maxTermMonths) 个月")
    }

    /// A bank's offer on a demand it took up.
    struct OfferBody: Decodable {
        let amountFen: Int64
        let termMonths: Int
        let rateBp: Int
        let repayment: String
        let conditions: String?
        let validUntil: String
        /// From the bank's own credit check: the business has had no bank loan before.
        let firstLoanAttested: Bool
        let productId: UUID?
    }

    struct Pass: Decodable {
        let reason: String?
    }

    struct Decline: Decodable {
        let reason: String
        let text: String?
    }

    struct Disbursement: Decodable {
        let amountFen: Int64
        let disbursedOn: String
    }

    /// A bank's step on a demand, in one transaction with its audit row.
    func step(
        _ call: Call,
        id: UUID,
        action: String,
        _ body: @Sendable (PostgresConnection, UUID) async throws -> Demand
    ) async throws -> Demand {
        do {
            return try await call.audited(
                db,
                action: action,
                subject: { .init(uscc: $0.uscc, id: id.uuidString.lowercased(), detail: ["state": $0.state.rawValue]) },
                do: { c in try await body(c, id) }
            )
        } catch let e as DemandError { throw Self.mapped(e) }
    }

    // The bank's steps, shared by the API and the portal's forms (checked the same way).

    func takeUp(_ call: Call, id: UUID) async throws -> Demand {
        try await step(call, id: id, action: "demand.take_up") { c, id in
            try await Demands.takeUp(c, logger: call.logger, id: id, bank: call.caller.orgId, today: Day.todayInChina())
        }
    }

    func pass(_ call: Call, id: UUID, _ p: Pass?) async throws -> Demand {
        let reason = try FieldChecks.text(p?.reason, "reason", max: Self.maxPurposeLength, required: false)
        return try await step(call, id: id, action: "demand.pass") { c, id in
            try await Demands.pass(c, logger: call.logger, id: id, bank: call.caller.orgId, reason: reason?.isEmpty == true ? nil : reason)
        }
    }

    func offer(_ call: Call, id: UUID, _ g: OfferBody) async throws -> Demand {
        var errors: [Problem.FieldError] = []
        if g.amountFen < 1 || g.amountFen > Self.maxAmountFen {
            errors.append(Self.amountError)
        }
        if g.termMonths < 1 || g.termMonths > Self.maxTermMonths {
            errors.append(Self.termError)
        }
        if g.rateBp < 0 || g.rateBp > ProductValidation.maxRateBp {
            errors.append(
                .init(
                    field: "rate_bp",
                    reason: "0 to \(ProductValidation.maxRateBp)",
                    zh: "年利率须在 0 至 \(PortalHtml.rate(ProductValidation.maxRateBp)) 之间"
                )
            )
        }
        let repayment = Repayment(rawValue: g.repayment)
        if repayment == nil {
            errors.append(
                .init(
                    field: "repayment",
                    reason: "one of \(Repayment.allCases.map(\.rawValue).joined(separator: ", "))",
                    zh: "请选择还款方式"
                )
            )
        }
        let validUntil = Day(g.validUntil)
        if validUntil == nil {
            errors.append(.init(field: "valid_until", reason: "a date YYYY-MM-DD", zh: "请填写报价有效期（日期）"))
        }
        var checks = FieldChecks()
        let conditions = checks.text(g.conditions, "conditions", max: Demands.maxConditionsLength, required: false)
        errors += checks.errors
        guard errors.isEmpty, let repayment, let validUntil else { throw Problem.invalid(errors) }
        let terms = Demands.OfferTerms(
            amountFen: g.amountFen,
            termMonths: g.termMonths,
            rateBp: g.rateBp,
            repayment: repayment,
            conditions: conditions?.isEmpty == true ? nil : conditions,
            validUntil: validUntil,
            firstLoanAttested: g.firstLoanAttested,
            product: g.productId
        )
        return try await step(call, id: id, action: "demand.offer") { c, id in
            // Above the amount the bank set, an offer is a manager's (issue 22).
            if !call.caller.reaches(.manager),
                let limit = try await Register.officerOfferLimit(on: c, logger: call.logger, bank: call.caller.orgId),
                terms.amountFen > limit
            {
                throw Problem(
                    .forbidden,
                    "an offer above \(Money.yuan(fen: limit)) needs a manager: the bank set this limit for its officers (GET /v1/bank/settings)",
                    zh: "超过 \(Html.yuanExact(limit)) 的报价须由审批经理作出（本行为客户经理设定的限额）"
                )
            }
            return try await Demands.makeOffer(c, logger: call.logger, id: id, bank: call.caller.orgId, terms: terms)
        }
    }

    func decline(_ call: Call, id: UUID, _ d: Decline) async throws -> Demand {
        guard Demands.declineReasons.contains(d.reason) else {
            throw Problem.invalid("reason", "one of \(Demands.declineReasons.joined(separator: ", "))", zh: "请选择拒绝原因")
        }
        let text = try FieldChecks.text(d.text, "text", max: Self.maxPurposeLength, required: false)
        return try await step(call, id: id, action: "demand.decline") { c, id in
            try await Demands.decline(
                c,
                logger: call.logger,
                id: id,
                bank: call.caller.orgId,
                reason: d.reason,
                text: text?.isEmpty == true ? nil : text
            )
        }
    }

    func disburse(_ call: Call, id: UUID, _ b: Disbursement) async throws -> Demand {
        guard let day = Day(b.disbursedOn), day <= Day.todayInChina() else {
            throw Problem.invalid("disbursed_on", "a date YYYY-MM-DD, not in the future", zh: "放款日期须为今天或以前的日期")
        }
        guard b.amountFen >= 1 else { throw Problem.invalid("amount_fen", "at least 1 fen", zh: "放款金额须大于 0") }
        return try await step(call, id: id, action: "demand.disburse") { c, id in
            try await Demands.disburse(c, logger: call.logger, id: id, bank: call.caller.orgId, amountFen: b.amountFen, on: day)
        }
    }

    /// A business posts a demand: checked, matched, audited in one transaction.
    func post(_ call: Call, _ body: NewDemand) async throws -> Answer {
        let uscc = try call.ownUSCC()
        let (terms, purpose) = try body.checked()
        do {
            return try await call.audited(
                db,
                action: "demand.post",
                subject: { .init(uscc: uscc, id: $0.demand.id.uuidString.lowercased(), detail: ["matches": String($0.matches.count)]) },
                do: { c in
                    let (d, matched) = try await Demands.post(
                        c,
                        logger: call.logger,
                        enterpriseOrgId: call.caller.orgId,
                        uscc: uscc,
                        terms: terms,
                        purpose: purpose,
                        today: Day.todayInChina(),
                        maxBanks: maxBanks,
                        referAfterDecline: body.referAfterDecline ?? true
                    )
                    return Self.answer(d, matched, try await Demands.history(c, logger: call.logger, id: d.id))
                }
            )
        } catch let e as DemandError { throw Self.mapped(e) }
    }

    /// A business withdraws one of its demands (the API's and the portal's way alike).
    func withdraw(_ call: Call, id: UUID) async throws -> Answer {
        let uscc = try call.ownUSCC()
        do {
            return try await call.audited(
                db,
                action: "demand.withdraw",
                subject: { _ in .init(uscc: uscc, id: id.uuidString.lowercased()) },
                do: { c in
                    let d = try await Demands.withdraw(c, logger: call.logger, id: id, uscc: uscc, actor: call.caller.orgId)
                    var a = Self.answer(d, nil, try await Demands.history(c, logger: call.logger, id: id))
                    a.offers = try await Demands.offers(c, logger: call.logger, demand: id)
                    return a
                }
            )
        } catch let e as DemandError { throw Self.mapped(e) }
    }

    /// A business accepts one bank's offer on its demand: the demand is granted to that bank on
    /// the offer's terms, the other offers lapse (their banks are told). Of two acceptances at
    /// once, one wins; the other is a conflict.
    func accept(_ call: Call, id: UUID, offer: UUID) async throws -> Answer {
        let uscc = try call.ownUSCC()
        do {
            return try await call.audited(
                db,
                action: "demand.accept",
                subject: { _ in .init(uscc: uscc, id: id.uuidString.lowercased(), detail: ["offer": offer.uuidString.lowercased()]) },
                do: { c in
                    let d = try await Demands.accept(c, logger: call.logger, id: id, offer: offer, uscc: uscc, actor: call.caller.orgId)
                    var a = Self.answer(d, nil, try await Demands.history(c, logger: call.logger, id: id))
                    a.offers = try await Demands.offers(c, logger: call.logger, demand: id)
                    return a
                }
            )
        } catch let e as DemandError { throw Self.mapped(e) }
    }

    /// One of the business's demands with, while open, its matches now.
    func mine(_ call: Call, id: UUID) async throws -> Answer {
        let uscc = try call.ownUSCC()
        do {
            return try await db.withConnection { c in
                let d = try await Demands.find(c, logger: call.logger, id: id, uscc: uscc)
                // An open demand is matched again now: products and the profile may have changed.
                let m = d.state == .open ? try await Demands.match(c, logger: call.logger, demand: d, today: Day.todayInChina()) : nil
                var a = Self.answer(d, m, try await Demands.history(c, logger: call.logger, id: id))
                a.offers = try await Demands.offers(c, logger: call.logger, demand: id)
                return a
            }
        } catch let e as DemandError { throw Self.mapped(e) }
    }

    struct OutcomeBody: Decodable {
        let month: String
        let status: String
    }

    struct Outcomes: Encodable {
        let items: [Demands.Outcome]
    }

    /// A bank reports a disbursed loan's month (the API route and the portal's form): checked,
    /// stored and audited in one transaction; the loan's outcomes so far.
    func reportOutcome(_ call: Call, id: UUID, _ body: OutcomeBody) async throws -> [Demands.Outcome] {
        guard let month = MonthIndex(period: body.month) else { throw Problem.invalid("month", "a month YYYY-MM", zh: "请选择月份") }
        guard Demands.outcomeStatuses.contains(body.status) else {
            throw Problem.invalid("status", "one of \(Demands.outcomeStatuses.joined(separator: ", "))", zh: "请选择还款表现")
        }
        do {
            return try await call.audited(
                db,
                action: "loan.outcome",
                subject: { _ in .init(id: id.uuidString.lowercased(), detail: ["month": body.month, "status": body.status]) },
                do: { c in
                    try await Demands.reportOutcome(
                        c,
                        logger: call.logger,
                        id: id,
                        bank: call.caller.orgId,
                        month: month,
                        status: body.status,
                        today: Day.todayInChina()
                    )
                }
            )
        } catch let e as DemandError {
            throw Self.mapped(e)
        } catch let e as OutcomeError {
            throw Problem.invalid("month", e.description.replacingOccurrences(of: "month: ", with: ""), zh: e.zh)
        }
    }
}
