import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Businesses' financing demands. Posting one matches it against every published product and
/// authorises each bank with a matching product to read the business's profile for
/// `loan_application` while the demand lives (the business sees these authorisations and can
/// revoke them). Every transition is recorded with who and when.
public enum Demands {
    /// An untaken demand expires this long after it is posted.
    public static let lifetimeDays = 30
    /// A bank takes a demand up (or passes) within this many working days of its posting…
    public static let takeUpWorkingDays = 3
    /// …and decides within this many working days of taking it up.
    public static let decisionWorkingDays = 10
    /// Why a bank declines (the business sees the reason).
    public static let declineReasons = [
        "insufficient_credit_history", "insufficient_repayment_capacity", "high_existing_debt", "industry_policy",
        "incomplete_documents", "collateral_insufficient", "other",
    ]
    public static let listLimit = 200
    /// Demands a business may have open or taken up at once (each is matched and read by banks).
    public static let maxOpenPerBusiness = 10
    static let openDemandsLockClass: Int32 = 0x4465_6D64  // "Demd"
    /// Published products considered per match.
    public static let productLimit = 5_000

    static let columns = """
        id, uscc, amount_fen, term_months, purpose, collateral_offered, first_loan, state, taken_up_by, created_at, expires_at, updated_at,
        take_up_due_on::text, taken_up_at, decision_due_on::text, decided_at, granted_amount_fen, granted_term_months, granted_rate_bp,
        decline_reason, decline_text, disbursed_amount_fen, disbursed_on::text,
        (state = 'open' AND take_up_due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date)
            OR (state = 'taken_up' AND EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = demand.id AND o.state = 'taken_up'
                                               AND o.decision_due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date)),
        max_banks, refer_after_decline, repayment, first_loan_no_prior AND first_loan_attested
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Demand] {
        var out: [Demand] = []
        for try await (
            id, uscc, amount, term, purpose, collateral, first, state, taker, created, expires, updated,
            takeUpDue, takenUpAt, decisionDue, decidedAt, gAmount, gTerm, gRate, dReason, dText, disbAmount, disbOn, overdue,
            maxBanks, refer, repayment, verified
        )
            in rows.decode(
                (
                    UUID, String, Int64, Int, String, Bool, Bool, String, UUID?, Date, Date, Date,
                    String, Date?, String?, Date?, Int64?, Int?, Int?, String?, String?, Int64?, String?, Bool?,
                    Int, Bool, String?, Bool?
                ).self
            )
        {
            out.append(
                Demand(
                    id: id,
                    uscc: uscc,
                    amountFen: amount,
                    termMonths: term,
                    purpose: purpose,
                    collateralOffered: collateral,
                    firstLoan: first,
                    state: DemandState(rawValue: state) ?? .open,
                    takenUpBy: taker,
                    createdAt: created,
                    expiresAt: expires,
                    updatedAt: updated,
                    takeUpDueOn: takeUpDue,
                    takenUpAt: takenUpAt,
                    decisionDueOn: decisionDue,
                    decidedAt: decidedAt,
                    grantedAmountFen: gAmount,
                    grantedTermMonths: gTerm,
                    grantedRateBp: gRate,
                    declineReason: dReason,
                    declineText: dText,
                    disbursedAmountFen: disbAmount,
                    disbursedOn: disbOn,
                    overdue: overdue ?? false,
                    maxBanks: maxBanks,
                    referAfterDecline: refer,
                    repayment: repayment.flatMap(Repayment.init(rawValue:)),
                    firstLoanVerified: verified
                )
            )
        }
        return out
    }

    /// What matching knows of a business: its profile's grade and features, its register
    /// record, and how long ago its latest serious penalty was decided.
    public static func facts(_ c: PostgresConnection, logger: Logger, uscc: String, today: Day) async throws -> ApplicantFacts {
        guard let f = try await facts(c, logger: logger, usccs: [uscc], today: today)[uscc] else { throw DemandError.noProfile(uscc) }
        return f
    }

    /// The facts of these businesses (those with a profile), in two statements.
    public static func facts(_ c: PostgresConnection, logger: Logger, usccs: [String], today: Day) async throws -> [String: ApplicantFacts]
    {
        let profiles = try await ProfileStore.profiles(c, usccs: usccs, logger: logger)
        guard !profiles.isEmpty else { return [:] }
        let histories = try await ProfileStore.histories(c, usccs: Array(profiles.keys), upTo: nil, logger: logger)
        var out: [String: ApplicantFacts] = [:]
        for (uscc, profile) in profiles {
            let history = histories[uscc] ?? History(uscc: uscc)
            let latestSerious = history.penalties.filter { $0.severity == "serious" && $0.decidedOn <= today }.map(\.decidedOn).max()
            func number(_ f: Feature) -> Int? { profile.features[f.rawValue]?.number.map(Int.init) }
            let taxGrade: String? = if case .category(let g)? = profile.features[Feature.taxCreditGrade.rawValue] { g } else { nil }
            out[uscc] = ApplicantFacts(
                grade: profile.grade,
                monthsInBusiness: number(.monthsInBusiness),
                industryCode: history.registry?.industryCode,
                districtCode: history.registry?.districtCode,
                entityType: history.registry?.entityType,
                sizeClass: history.registry?.sizeClass,
                blacklistedNow: number(.blacklistedNow) == 1,
                monthsSinceSeriousPenalty: latestSerious.map { $0.wholeMonths(to: today) },
                taxCreditGrade: taxGrade,
                insuredHeadcount: number(.headcountAvg12m),
                taxPaid12mFen: profile.features[Feature.taxPaid12m.rawValue]?.number
            )
        }
        return out
    }

    /// Every published product, with its rules read back through validation.
    public static func published(_ c: PostgresConnection, logger: Logger) async throws -> [ListedProduct] {
        var out: [ListedProduct] = []
        for try await (id, bank, bankName, name, kind, amin, amax, tmin, tmax, rmin, rmax, rules, quota) in try await c.query(
            """
            SELECT p.id, p.bank_org_id, o.name, p.name, p.kind, p.amount_min_fen, p.amount_max_fen, p.term_min_months,
                   p.term_max_months, p.rate_min_bp, p.rate_max_bp, p.rules::text, p.quota::text
            FROM product p JOIN organisations o ON o.id = p.bank_org_id
            WHERE p.status = 'published' ORDER BY p.created_at, p.id LIMIT \(productLimit)
            """,
            logger: logger
        ).decode((UUID, UUID, String, String, String, Int64, Int64, Int, Int, Int, Int, String, String?).self) {
            guard let kind = ProductKind(rawValue: kind) else { continue }
            let inputs: [RuleInput]
            if case .array(let items)? = try? JSONParser.parse(Array(rules.utf8)) {
                inputs = items.compactMap { item in item["rule"]?.stringValue.map { RuleInput(rule: $0, value: item["value"]) } }
            } else {
                inputs = []
            }
            guard
                case .success(var terms) = ProductValidation.check(
                    kind: kind,
                    amountMinFen: amin,
                    amountMaxFen: amax,
                    termMinMonths: tmin,
                    termMaxMonths: tmax,
                    rateMinBp: rmin,
                    rateMaxBp: rmax,
                    rules: inputs
                )
            else { continue }
            if let q = quota.flatMap({ try? JSONParser.parse(Array($0.utf8)) }),
                case .success(let parsed) = Quota.parse(q, maxAmountFen: amax)
            {
                terms.quota = parsed
            }
            out.append(ListedProduct(id: id, bankOrgId: bank, bankName: bankName, name: name, terms: terms))
        }
        return out
    }

    public struct Matched: Sendable {
        public let products: [ListedProduct]
        public let ranked: Matching.Ranked
        public let facts: ApplicantFacts
    }

    /// Before a demand is posted: the banks whose published products would match it (each is
    /// then authorised to read the business's profile while the demand lives), by name.
    public static func preview(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        terms: DemandTerms,
        today: Day
    ) async throws -> [String] {
        let facts = try await facts(c, logger: logger, uscc: uscc, today: today)
        let products = try await published(c, logger: logger)
        let ranked = Matching.rank(products.map(\.terms), facts: facts, demand: terms)
        var banks: [String] = []
        for m in ranked.matches where !banks.contains(products[m.productIndex].bankName) { banks.append(products[m.productIndex].bankName) }
        return banks
    }

    /// A demand against every published product.
    public static func match(_ c: PostgresConnection, logger: Logger, demand: Demand, today: Day) async throws -> Matched {
        let facts = try await facts(c, logger: logger, uscc: demand.uscc, today: today)
        let products = try await published(c, logger: logger)
        return Matched(products: products, ranked: Matching.rank(products.map(\.terms), facts: facts, demand: demand.terms), facts: facts)
    }

    /// Many demands against every published product: their facts and the products read once.
    /// Demands whose business has no profile are left out.
    public static func match(_ c: PostgresConnection, logger: Logger, demands: [Demand], today: Day) async throws -> [UUID: Matched] {
        guard !demands.isEmpty else { return [:] }
        let facts = try await facts(c, logger: logger, usccs: Array(Set(demands.map(\.uscc))), today: today)
        let products = try await published(c, logger: logger)
        var out: [UUID: Matched] = [:]
        for d in demands {
            guard let f = facts[d.uscc] else { continue }
            out[d.id] = Matched(products: products, ranked: Matching.rank(products.map(\.terms), facts: f, demand: d.terms), facts: f)
        }
        return out
    }

    /// Posts a demand: stored `open`, matched, and each bank with a matching product authorised
    /// to read the profile for `loan_application` until the demand expires.
    public static func post(
        _ c: PostgresConnection,
        logger: Logger,
        enterpriseOrgId: UUID,
        uscc: String,
        terms: DemandTerms,
        purpose: String,
        today: Day,
        maxBanks: Int = defaultMaxBanks,
        referAfterDecline: Bool = true
    ) async throws -> (Demand, Matched) {
        // Posts by one business queue here, so that two at once count each other.
        try await c.query("SELECT pg_advisory_xact_lock(\(openDemandsLockClass), hashtext(\(uscc)))", logger: logger)
        let open = try await c.query(
            "SELECT count(*)::int FROM demand WHERE uscc = \(uscc) AND state IN ('open', 'taken_up')",
            logger: logger
        ).collect()[0].decode(Int.self)
        guard open < maxOpenPerBusiness else { throw DemandError.tooManyOpen(maxOpenPerBusiness) }
        let id = try await c.query(
            """
            INSERT INTO demand (uscc, enterprise_org_id, amount_fen, term_months, purpose, collateral_offered, first_loan, expires_at,
                                take_up_due_on, max_banks, refer_after_decline)
            VALUES (\(uscc), \(enterpriseOrgId), \(terms.amountFen), \(terms.termMonths), \(purpose), \(terms.collateralOffered),
                    \(terms.firstLoan), now() + make_interval(days => \(lifetimeDays)::int),
                    \(today.addingWorkingDays(takeUpWorkingDays).description)::date, \(maxBanks), \(referAfterDecline))
            RETURNING id
            """,
            logger: logger
        ).collect()[0].decode(UUID.self)
        try await event(c, logger: logger, demand: id, actor: enterpriseOrgId, kind: "enterprise", from: nil, to: .open)
        let demand = try await find(c, logger: logger, id: id, uscc: uscc)
        let matched = try await match(c, logger: logger, demand: demand, today: today)
        // What the banks saw at posting, kept for statistics by segment.
        let f = matched.facts
        try await c.query(
            """
            UPDATE demand d SET district_code = \(f.districtCode), industry_code = \(f.industryCode), size_class = \(f.sizeClass),
                entity_type = \(f.entityType), grade_at_posting = p.grade, score_at_posting = p.score, scorecard_version = p.scorecard_version
            FROM profile p WHERE d.id = \(id) AND p.uscc = d.uscc
            """,
            logger: logger
        )
        var banks: [UUID] = []
        for m in matched.ranked.matches {
            let bank = matched.products[m.productIndex].bankOrgId
            if !banks.contains(bank) { banks.append(bank) }
        }
        if !banks.isEmpty {
            try await c.query(
                """
                INSERT INTO authorisation (uscc, enterprise_org_id, bank_org_id, scopes, purpose, expires_at, source, demand_id)
                SELECT \(uscc), \(enterpriseOrgId), b, ARRAY['profile'], 'loan_application', \(demand.expiresAt), 'demand', \(id)
                FROM unnest(\(banks)::uuid[]) AS b
                """,
                logger: logger
            )
        }
        return (demand, matched)
    }

    public static func find(_ c: PostgresConnection, logger: Logger, id: UUID, uscc: String, lock: Bool = false) async throws -> Demand {
        let rows = try await c.query(
            "SELECT \(unescaped: columns) FROM demand WHERE id = \(id) AND uscc = \(uscc) \(unescaped: lock ? "FOR UPDATE" : "")",
            logger: logger
        )
        guard let d = try await decode(rows).first else { throw DemandError.notFound(id) }
        return d
    }

    public static func list(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Demand] {
        try await decode(
            c.query(
                "SELECT \(unescaped: columns) FROM demand WHERE uscc = \(uscc) ORDER BY created_at DESC LIMIT \(listLimit)",
                logger: logger
            )
        )
    }

    /// The business withdraws its demand (while open or taken up, before it accepts an offer): the
    /// banks' parts lapse (each is told) and the authorisations it granted end with it.
    public static func withdraw(_ c: PostgresConnection, logger: Logger, id: UUID, uscc: String, actor: UUID) async throws -> Demand {
        let current = try await find(c, logger: logger, id: id, uscc: uscc, lock: true)
        guard current.state == .open || current.state == .takenUp else {
            throw DemandError.state(current: current.state, wanted: "withdrawn")
        }
        try await c.query("UPDATE demand SET state = 'withdrawn', updated_at = now() WHERE id = \(id)", logger: logger)
        try await lapseOffers(c, logger: logger, demand: id, why: .demandWithdrawn)
        try await endAuthorisations(c, logger: logger, demand: id, why: "demand_closed")
        try await event(c, logger: logger, demand: id, actor: actor, kind: "enterprise", from: current.state, to: .withdrawn)
        return try await find(c, logger: logger, id: id, uscc: uscc)
    }

    /// Ends a demand's live authorisations (all banks', or all but `except`'s), saying why.
    static func endAuthorisations(_ c: PostgresConnection, logger: Logger, demand: UUID, why: String, except: UUID? = nil) async throws {
        try await c.query(
            """
            UPDATE authorisation SET revoked_at = now(), revoked_by = \(why)
            WHERE demand_id = \(demand) AND revoked_at IS NULL AND bank_org_id IS DISTINCT FROM \(except)
            """,
            logger: logger
        )
    }

    public struct Transition: Sendable, Encodable {
        public let at: Date
        public let actorKind: String
        public let fromState: String?
        public let toState: String
    }

    public static func history(_ c: PostgresConnection, logger: Logger, id: UUID) async throws -> [Transition] {
        var out: [Transition] = []
        for try await (at, kind, from, to) in try await c.query(
            "SELECT at, actor_kind, from_state, to_state FROM demand_event WHERE demand_id = \(id) ORDER BY id",
            logger: logger
        ).decode((Date, String, String?, String).self) {
            out.append(Transition(at: at, actorKind: kind, fromState: from, toState: to))
        }
        return out
    }

    static func event(
        _ c: PostgresConnection,
        logger: Logger,
        demand: UUID,
        actor: UUID?,
        kind: String,
        from: DemandState?,
        to: DemandState
    ) async throws {
        try await c.query(
            """
            INSERT INTO demand_event (demand_id, actor_org_id, actor_kind, from_state, to_state)
            VALUES (\(demand), \(actor), \(kind), \(from?.rawValue), \(to.rawValue))
            """,
            logger: logger
        )
        let uscc = try await c.query("SELECT uscc FROM demand WHERE id = \(demand)", logger: logger).collect()[0].decode(String.self)
        let payload: JSONValue = [
            "demand_id": .string(demand.uuidString.lowercased()), "uscc": .string(uscc),
            "from_state": from.map { .string($0.rawValue) } ?? .null, "to_state": .string(to.rawValue), "actor_kind": .string(kind),
        ]
        // The business hears of what others did to its demand (its own moves it knows).
        if kind != "enterprise" {
            try await Messages.emit(c, logger: logger, uscc: uscc, kind: "demand.state_changed", data: payload)
        }
        // Banks concerned hear of it through their webhooks: every matched bank of a move into or
        // out of the open pool; only the holders (and the lender) of what happens while banks hold
        // the demand (a competitor learns nothing of another bank's decision or loan; a bank whose
        // part lapsed was told so by its own notice).
        let pool = from == nil || from == .open || to == .open
        let concerned = try await c.query(
            """
            SELECT DISTINCT b FROM demand d,
                LATERAL (SELECT bank_org_id AS b FROM authorisation WHERE demand_id = d.id AND \(pool)
                         UNION SELECT bank_org_id FROM demand_offer WHERE demand_id = d.id AND state IN ('taken_up', 'offered', 'accepted')
                         UNION SELECT d.taken_up_by WHERE d.taken_up_by IS NOT NULL) banks
            WHERE d.id = \(demand)
            """,
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
        for bank in concerned {
            try await Webhooks.emit(c, logger: logger, bank: bank, uscc: uscc, type: "demand.state_changed", payload: payload)
        }
    }
}
