import CreditCore
import Foundation
import Logging
import PostgresNIO

public enum DemandState: String, Codable, CaseIterable, Sendable {
    case open
    case takenUp = "taken_up"
    case granted, declined, disbursed, withdrawn, expired
}

public struct Demand: Sendable, Encodable {
    public let id: UUID
    public let uscc: String
    public let amountFen: Int64
    public let termMonths: Int
    public let purpose: String
    public let collateralOffered: Bool
    public let firstLoan: Bool
    public let state: DemandState
    public let takenUpBy: UUID?
    public let createdAt: Date
    public let expiresAt: Date
    public let updatedAt: Date
    /// Take up or pass by this day (3 working days after posting).
    public let takeUpDueOn: String
    public let takenUpAt: Date?
    /// Decide by this day (10 working days after take-up).
    public let decisionDueOn: String?
    public let decidedAt: Date?
    public let grantedAmountFen: Int64?
    public let grantedTermMonths: Int?
    public let grantedRateBp: Int?
    public let declineReason: String?
    public let declineText: String?
    public let disbursedAmountFen: Int64?
    public let disbursedOn: String?
    /// Past its take-up or decision deadline (working days) without the step being taken.
    public let overdue: Bool

    /// The deadline the demand waits on now: a bank's take-up while open, its decision once taken
    /// up (as `overdue` reads them).
    public var dueOn: String { state == .open ? takeUpDueOn : (decisionDueOn ?? takeUpDueOn) }

    enum CodingKeys: String, CodingKey {
        case id, uscc, purpose, state, overdue
        case amountFen = "amount_fen"
        case termMonths = "term_months"
        case collateralOffered = "collateral_offered"
        case firstLoan = "first_loan"
        case takenUpBy = "taken_up_by"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case updatedAt = "updated_at"
        case takeUpDueOn = "take_up_due_on"
        case takenUpAt = "taken_up_at"
        case decisionDueOn = "decision_due_on"
        case decidedAt = "decided_at"
        case grantedAmountFen = "granted_amount_fen"
        case grantedTermMonths = "granted_term_months"
        case grantedRateBp = "granted_rate_bp"
        case declineReason = "decline_reason"
        case declineText = "decline_text"
        case disbursedAmountFen = "disbursed_amount_fen"
        case disbursedOn = "disbursed_on"
    }

    public var terms: DemandTerms {
        DemandTerms(amountFen: amountFen, termMonths: termMonths, collateralOffered: collateralOffered, firstLoan: firstLoan)
    }
}

public enum OutcomeError: Error, CustomStringConvertible {
    case month(String)
    public var description: String {
        switch self {
        case .month(let why): "month: \(why)"
        }
    }
}

public enum DemandError: Error, CustomStringConvertible {
    case notFound(UUID)
    case state(current: DemandState, wanted: String)
    case noProfile(String)
    case notYourProduct(UUID)
    /// Terms outside what the demand asked or the product offers: (field, the bound) each.
    case outOfBounds([(field: String, bound: String)])
    case tooManyOpen(Int)
    public var description: String {
        switch self {
        case .outOfBounds(let errors): errors.map { "\($0.field): \($0.bound)" }.joined(separator: "; ")
        case .tooManyOpen(let n): "at most \(n) demands may be open or taken up at once: withdraw one first"
        case .notYourProduct(let id): "no product \(id) of yours that is published, paused or retired"
        case .notFound(let id): "no demand \(id) of yours"
        case .state(let current, let wanted): "the demand is \(current.rawValue): it cannot be \(wanted)"
        case .noProfile(let uscc): "no credit profile of \(uscc) yet: its records have not been scored"
        }
    }
}

/// A published product with what matching needs.
public struct ListedProduct: Sendable {
    public let id: UUID
    public let bankOrgId: UUID
    public let bankName: String
    public let name: String
    public let terms: ProductTerms
}

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
            OR (state = 'taken_up' AND decision_due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date)
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Demand] {
        var out: [Demand] = []
        for try await (
            id, uscc, amount, term, purpose, collateral, first, state, taker, created, expires, updated,
            takeUpDue, takenUpAt, decisionDue, decidedAt, gAmount, gTerm, gRate, dReason, dText, disbAmount, disbOn, overdue
        )
            in rows.decode(
                (
                    UUID, String, Int64, Int, String, Bool, Bool, String, UUID?, Date, Date, Date,
                    String, Date?, String?, Date?, Int64?, Int?, Int?, String?, String?, Int64?, String?, Bool?
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
                    overdue: overdue ?? false
                )
            )
        }
        return out
    }

    /// What matching knows of a business: its profile's grade and features, its register
    /// record, and how long ago its latest serious penalty was decided.
    public static func facts(_ c: PostgresConnection, logger: Logger, uscc: String, today: Day) async throws -> ApplicantFacts {
        guard let profile = try await ProfileStore.profile(c, uscc: uscc, logger: logger) else { throw DemandError.noProfile(uscc) }
        let history = try await ProfileStore.histories(c, usccs: [uscc], upTo: nil, logger: logger)[uscc] ?? History(uscc: uscc)
        let latestSerious = history.penalties.filter { $0.severity == "serious" && $0.decidedOn <= today }.map(\.decidedOn).max()
        func number(_ f: Feature) -> Int? { profile.features[f.rawValue]?.number.map(Int.init) }
        let taxGrade: String? = if case .category(let g)? = profile.features[Feature.taxCreditGrade.rawValue] { g } else { nil }
        return ApplicantFacts(
            grade: profile.grade,
            monthsInBusiness: number(.monthsInBusiness),
            industryCode: history.registry?.industryCode,
            districtCode: history.registry?.districtCode,
            entityType: history.registry?.entityType,
            sizeClass: history.registry?.sizeClass,
            blacklistedNow: number(.blacklistedNow) == 1,
            monthsSinceSeriousPenalty: latestSerious.map { $0.wholeMonths(to: today) },
            taxCreditGrade: taxGrade,
            insuredHeadcount: number(.headcountAvg12m)
        )
    }

    /// Every published product, with its rules read back through validation.
    public static func published(_ c: PostgresConnection, logger: Logger) async throws -> [ListedProduct] {
        var out: [ListedProduct] = []
        for try await (id, bank, bankName, name, kind, amin, amax, tmin, tmax, rmin, rmax, rules) in try await c.query(
            """
            SELECT p.id, p.bank_org_id, o.name, p.name, p.kind, p.amount_min_fen, p.amount_max_fen, p.term_min_months,
                   p.term_max_months, p.rate_min_bp, p.rate_max_bp, p.rules::text
            FROM product p JOIN organisations o ON o.id = p.bank_org_id
            WHERE p.status = 'published' ORDER BY p.created_at, p.id LIMIT \(productLimit)
            """,
            logger: logger
        ).decode((UUID, UUID, String, String, String, Int64, Int64, Int, Int, Int, Int, String).self) {
            guard let kind = ProductKind(rawValue: kind) else { continue }
            let inputs: [RuleInput]
            if case .array(let items)? = try? JSONParser.parse(Array(rules.utf8)) {
                inputs = items.compactMap { item in item["rule"]?.stringValue.map { RuleInput(rule: $0, value: item["value"]) } }
            } else {
                inputs = []
            }
            guard
                case .success(let terms) = ProductValidation.check(
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
            out.append(ListedProduct(id: id, bankOrgId: bank, bankName: bankName, name: name, terms: terms))
        }
        return out
    }

    public struct Matched: Sendable {
        public let products: [ListedProduct]
        public let ranked: Matching.Ranked
        public let facts: ApplicantFacts
    }

    /// A demand against every published product.
    public static func match(_ c: PostgresConnection, logger: Logger, demand: Demand, today: Day) async throws -> Matched {
        let facts = try await facts(c, logger: logger, uscc: demand.uscc, today: today)
        let products = try await published(c, logger: logger)
        return Matched(products: products, ranked: Matching.rank(products.map(\.terms), facts: facts, demand: demand.terms), facts: facts)
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
        today: Day
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
                                take_up_due_on)
            VALUES (\(uscc), \(enterpriseOrgId), \(terms.amountFen), \(terms.termMonths), \(purpose), \(terms.collateralOffered),
                    \(terms.firstLoan), now() + make_interval(days => \(lifetimeDays)::int),
                    \(today.addingWorkingDays(takeUpWorkingDays).description)::date)
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

    /// The business withdraws its demand (while open or taken up, before a decision); the
    /// authorisations it granted end with it.
    public static func withdraw(_ c: PostgresConnection, logger: Logger, id: UUID, uscc: String, actor: UUID) async throws -> Demand {
        let current = try await find(c, logger: logger, id: id, uscc: uscc, lock: true)
        guard current.state == .open || current.state == .takenUp else {
            throw DemandError.state(current: current.state, wanted: "withdrawn")
        }
        try await c.query("UPDATE demand SET state = 'withdrawn', updated_at = now() WHERE id = \(id)", logger: logger)
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

    // MARK: The bank's side

    /// Open demands this bank's products matched, and the ones it holds, oldest deadline first.
    public static func bankQueue(_ c: PostgresConnection, logger: Logger, bank: UUID) async throws -> [Demand] {
        try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM demand
                WHERE (state = 'open' AND EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = demand.id AND a.bank_org_id = \(bank)
                                                    AND \(unescaped: Live.authorisation("a"))))
                   OR (taken_up_by = \(bank) AND state IN ('taken_up', 'granted'))
                ORDER BY coalesce(decision_due_on, take_up_due_on), created_at LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
    }

    /// The loans this bank disbursed, newest first, each with the monthly outcomes reported so far.
    public static func bankLoans(_ c: PostgresConnection, logger: Logger, bank: UUID) async throws -> [(Demand, [Outcome])] {
        let loans = try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM demand
                WHERE taken_up_by = \(bank) AND state = 'disbursed'
                ORDER BY disbursed_on DESC, created_at DESC LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
        guard !loans.isEmpty else { return [] }
        var outcomes: [UUID: [Outcome]] = [:]
        for try await (id, m, s, at) in try await c.query(
            "SELECT demand_id, month, status, reported_at FROM loan_outcome WHERE demand_id = ANY(\(loans.map(\.id))) ORDER BY month",
            logger: logger
        ).decode((UUID, String, String, Date).self) {
            outcomes[id, default: []].append(Outcome(month: m, status: s, reportedAt: at))
        }
        return loans.map { ($0, outcomes[$0.id] ?? []) }
    }

    /// A demand as a bank may see it: matched by its products (a live demand authorisation) or
    /// held by it. Any other bank's — including one whose authorisation ended (passed, taken up
    /// by a competitor, closed) — is answered as absent, so a competitor learns nothing of it.
    public static func forBank(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, lock: Bool = false) async throws -> Demand {
        let rows = try await c.query(
            """
            SELECT \(unescaped: columns) FROM demand
            WHERE id = \(id) AND (taken_up_by = \(bank) OR EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = demand.id
                                                                  AND a.bank_org_id = \(bank) AND \(unescaped: Live.authorisation("a"))))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """,
            logger: logger
        )
        guard let d = try await decode(rows).first else { throw DemandError.notFound(id) }
        return d
    }

    /// Takes an open demand up: one bank at a time — of banks racing, exactly one wins; the
    /// others get the state it is in now.
    public static func takeUp(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, today: Day) async throws -> Demand {
        let won = try await c.query(
            """
            UPDATE demand SET state = 'taken_up', taken_up_by = \(bank), taken_up_at = now(), updated_at = now(),
                decision_due_on = \(today.addingWorkingDays(decisionWorkingDays).description)::date
            WHERE id = \(id) AND state = 'open' AND expires_at > now()
              AND EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = demand.id AND a.bank_org_id = \(bank)
                          AND \(unescaped: Live.authorisation("a")))
            RETURNING uscc
            """,
            logger: logger
        ).collect()
        guard let row = won.first else {
            let current = try await forBank(c, logger: logger, id: id, bank: bank)
            throw DemandError.state(current: current.state, wanted: "taken up")
        }
        // The demand leaves the open pool: the other matched banks' authorisations end (matching
        // again gives them back if the take-up lapses to the pool).
        try await endAuthorisations(c, logger: logger, demand: id, why: "demand_taken_up", except: bank)
        try await event(c, logger: logger, demand: id, actor: bank, kind: "bank", from: .open, to: .takenUp)
        return try await find(c, logger: logger, id: id, uscc: try row.decode(String.self))
    }

    /// A bank passes on an open demand its products matched (not for it): recorded, its demand
    /// authorisation ends (and is not granted back by matching again), the demand leaves its
    /// queue. Another bank's demand is absent; a demand no longer open is a state conflict.
    public static func pass(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, reason: String?) async throws -> Demand {
        let current = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.state == .open else { throw DemandError.state(current: current.state, wanted: "passed") }
        let ended = try await c.query(
            """
            UPDATE authorisation SET revoked_at = now(), revoked_by = 'bank_passed'
            WHERE demand_id = \(id) AND bank_org_id = \(bank) AND revoked_at IS NULL RETURNING 1
            """,
            logger: logger
        ).collect()
        guard !ended.isEmpty else { throw DemandError.notFound(id) }
        try await c.query(
            "INSERT INTO demand_pass (demand_id, bank_org_id, reason) VALUES (\(id), \(bank), \(reason)) ON CONFLICT DO NOTHING",
            logger: logger
        )
        return current
    }

    /// Moves a demand this bank holds: grant, decline, disburse.
    static func decide(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        from: DemandState,
        to: DemandState,
        set: PostgresQuery
    ) async throws -> Demand {
        let current = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.state == from, current.takenUpBy == bank else {
            throw DemandError.state(current: current.state, wanted: to == .takenUp ? "taken up" : to.rawValue)
        }
        var query = set
        query.sql = "UPDATE demand SET state = '\(to.rawValue)', updated_at = now(), " + query.sql + " WHERE id = '\(id.uuidString)'"
        try await c.query(query, logger: logger)
        // Decided against, or lent: the application is over, and with it every bank's reading for it.
        if to == .declined || to == .disbursed {
            try await endAuthorisations(c, logger: logger, demand: id, why: "demand_closed")
        }
        try await event(c, logger: logger, demand: id, actor: bank, kind: "bank", from: from, to: to)
        return try await find(c, logger: logger, id: id, uscc: current.uscc)
    }

    /// Grants a demand this bank holds, optionally under one of its products (which must be its
    /// own and not a draft: `DemandError.notYourProduct` otherwise).
    public static func grant(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        amountFen: Int64,
        termMonths: Int,
        rateBp: Int,
        product: UUID? = nil
    ) async throws -> Demand {
        // The demand first: another bank's (or none) is absent whatever the product says.
        let held = try await forBank(c, logger: logger, id: id, bank: bank)
        var errors: [(field: String, bound: String)] = []
        if let product {
            let own = try await c.query(
                """
                SELECT amount_min_fen, amount_max_fen, term_min_months, term_max_months, rate_min_bp, rate_max_bp
                FROM product WHERE id = \(product) AND bank_org_id = \(bank) AND status <> 'draft'
                """,
                logger: logger
            ).collect()
            guard let row = own.first else { throw DemandError.notYourProduct(product) }
            let (amin, amax, tmin, tmax, rmin, rmax) = try row.decode((Int64, Int64, Int, Int, Int, Int).self)
            // Under a product: within its ranges.
            if amountFen < amin || amountFen > amax { errors.append(("amount_fen", "within the product's range, \(amin) to \(amax) fen")) }
            if termMonths < tmin || termMonths > tmax {
                errors.append(("term_months", "within the product's range, \(tmin) to \(tmax) months"))
            }
            if rateBp < rmin || rateBp > rmax { errors.append(("rate_bp", "within the product's range, \(rmin) to \(rmax) basis points")) }
        }
        // Never more than the business asked for.
        if held.takenUpBy == bank, held.state == .takenUp, amountFen > held.amountFen {
            errors.append(("amount_fen", "at most the amount asked, \(held.amountFen) fen"))
        }
        if !errors.isEmpty { throw DemandError.outOfBounds(errors) }
        return try await decide(
            c,
            logger: logger,
            id: id,
            bank: bank,
            from: .takenUp,
            to: .granted,
            set:
                """
                decided_at = now(), granted_amount_fen = \(amountFen), granted_term_months = \(termMonths), granted_rate_bp = \(rateBp),
                granted_product_id = \(product)::uuid
                """
        )
    }

    public static func decline(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        reason: String,
        text: String?
    ) async throws -> Demand {
        try await decide(
            c,
            logger: logger,
            id: id,
            bank: bank,
            from: .takenUp,
            to: .declined,
            set:
                "decided_at = now(), decline_reason = \(reason), decline_text = \(text)"
        )
    }

    /// Records the disbursement of a granted demand: at most the amount granted, on a day from
    /// the grant's to today (China's calendar) — so its outcomes start no earlier either.
    public static func disburse(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        amountFen: Int64,
        on day: Day,
        today: Day = Day.todayInChina()
    ) async throws -> Demand {
        let held = try await forBank(c, logger: logger, id: id, bank: bank)
        if held.takenUpBy == bank, held.state == .granted {
            var errors: [(field: String, bound: String)] = []
            if let granted = held.grantedAmountFen, amountFen > granted {
                errors.append(("amount_fen", "at most the amount granted, \(granted) fen"))
            }
            if let decided = held.decidedAt.map(Day.inChina), day < decided || day > today {
                errors.append(("disbursed_on", "from the day of the grant (\(decided)) to today (\(today))"))
            }
            if !errors.isEmpty { throw DemandError.outOfBounds(errors) }
        }
        return try await decide(
            c,
            logger: logger,
            id: id,
            bank: bank,
            from: .granted,
            to: .disbursed,
            set:
                "disbursed_amount_fen = \(amountFen), disbursed_on = \(day.description)::date"
        )
    }

    // MARK: Outcomes

    public static let outcomeStatuses = ["current", "overdue_30", "overdue_90", "defaulted", "repaid"]

    public struct Outcome: Sendable, Encodable {
        public let month: String
        public let status: String
        public let reportedAt: Date
        enum CodingKeys: String, CodingKey {
            case month, status
            case reportedAt = "reported_at"
        }
    }

    /// The bank that disbursed a loan reports its state for a month (a month reported again is
    /// corrected; every report is kept). Months from the disbursement's to the current one.
    public static func reportOutcome(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        month: MonthIndex,
        status: String,
        today: Day
    ) async throws -> [Outcome] {
        let d = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard d.state == .disbursed, d.takenUpBy == bank else { throw DemandError.state(current: d.state, wanted: "reported on") }
        guard let on = d.disbursedOn.flatMap(Day.init), month >= MonthIndex(on), month <= MonthIndex(today) else {
            throw OutcomeError.month("from the month of disbursement (\(d.disbursedOn ?? "?")) to this month")
        }
        try await c.query(
            """
            INSERT INTO loan_outcome (demand_id, month, status, reported_by) VALUES (\(id), \(month.description), \(status), \(bank))
            ON CONFLICT (demand_id, month) DO UPDATE SET status = EXCLUDED.status, reported_by = EXCLUDED.reported_by, reported_at = now()
            """,
            logger: logger
        )
        try await c.query(
            "INSERT INTO loan_outcome_report (demand_id, month, status, reported_by) VALUES (\(id), \(month.description), \(status), \(bank))",
            logger: logger
        )
        return try await outcomes(c, logger: logger, id: id)
    }

    /// The outcomes of a loan, for the bank that disbursed it only: any other bank — a
    /// competitor that was matched, passed or lost the race — is answered as absent.
    public static func outcomesForLender(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID) async throws -> (Demand, [Outcome])
    {
        let rows = try await c.query(
            "SELECT \(unescaped: columns) FROM demand WHERE id = \(id) AND taken_up_by = \(bank) AND state = 'disbursed'",
            logger: logger
        )
        guard let d = try await decode(rows).first else { throw DemandError.notFound(id) }
        return (d, try await outcomes(c, logger: logger, id: id))
    }

    public static func outcomes(_ c: PostgresConnection, logger: Logger, id: UUID) async throws -> [Outcome] {
        var out: [Outcome] = []
        for try await (m, s, at) in try await c.query(
            "SELECT month, status, reported_at FROM loan_outcome WHERE demand_id = \(id) ORDER BY month",
            logger: logger
        ).decode((String, String, Date).self) {
            out.append(Outcome(month: m, status: s, reportedAt: at))
        }
        return out
    }

    // MARK: Re-matching

    /// Open demands re-matched per transaction (a pass goes through all of them in batches).
    public static let rematchBatch = 100

    /// Matches every open demand again (products or profiles may have changed), a batch per
    /// transaction: a bank whose product now matches is authorised; one whose products no longer
    /// match loses the demand's authorisation. Returns (granted, revoked).
    @discardableResult
    public static func rematch(
        _ db: Database,
        today: Day = Day.todayInChina(),
        batch: Int = rematchBatch
    ) async throws -> (granted: Int, revoked: Int) {
        var granted = 0
        var revoked = 0
        var after: (Date, UUID)? = nil
        while true {
            let (g, r, last) = try await rematchOneBatch(db, today: today, batch: batch, after: after)
            granted += g
            revoked += r
            guard let last else { return (granted, revoked) }
            after = last
        }
    }

    /// One batch of open demands after `after` (in posting order); the last one's key, or nil when none was left.
    static func rematchOneBatch(
        _ db: Database,
        today: Day,
        batch: Int,
        after: (Date, UUID)?
    ) async throws -> (granted: Int, revoked: Int, last: (Date, UUID)?) {
        try await db.withTransaction { c in
            let logger = db.logger
            let open = try await decode(
                c.query(
                    """
                    SELECT \(unescaped: columns) FROM demand
                    WHERE state = 'open' AND expires_at > now()
                      AND (\(after?.0)::timestamptz IS NULL OR (created_at, id) > (\(after?.0)::timestamptz, \(after?.1)::uuid))
                    ORDER BY created_at, id LIMIT \(batch) FOR UPDATE SKIP LOCKED
                    """,
                    logger: logger
                )
            )
            guard let last = open.last else { return (0, 0, nil) }
            let products = try await published(c, logger: logger)
            var granted = 0
            var revoked = 0
            for d in open {
                guard let facts = try? await facts(c, logger: logger, uscc: d.uscc, today: today) else { continue }
                let ranked = Matching.rank(products.map(\.terms), facts: facts, demand: d.terms)
                let banks = Array(Set(ranked.matches.map { products[$0.productIndex].bankOrgId }))
                granted += try await c.query(
                    """
                    INSERT INTO authorisation (uscc, enterprise_org_id, bank_org_id, scopes, purpose, expires_at, source, demand_id)
                    SELECT d.uscc, d.enterprise_org_id, b, ARRAY['profile'], 'loan_application', d.expires_at, 'demand', d.id
                    FROM demand d, unnest(\(banks)::uuid[]) AS b
                    WHERE d.id = \(d.id) AND NOT EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = d.id AND a.bank_org_id = b
                                                         AND (a.revoked_at IS NULL OR a.revoked_by IN ('business', 'bank_passed')))
                    RETURNING 1
                    """,
                    logger: logger
                ).collect().count
                revoked += try await c.query(
                    """
                    UPDATE authorisation SET revoked_at = now(), revoked_by = 'no_longer_matching'
                    WHERE demand_id = \(d.id) AND revoked_at IS NULL AND NOT (bank_org_id = ANY(\(banks)::uuid[]))
                    RETURNING 1
                    """,
                    logger: logger
                ).collect().count
            }
            return (granted, revoked, (last.createdAt, last.id))
        }
    }

    // MARK: Deadlines

    /// Expires open demands past their life (their authorisations end with them) and returns
    /// to the pool demands whose bank let the decision deadline pass. Returns how many of each.
    @discardableResult
    public static func sweep(_ db: Database, today: Day = Day.todayInChina()) async throws -> (expired: Int, lapsed: Int) {
        try await db.withTransaction { c in
            let logger = db.logger
            let expired = try await c.query(
                "UPDATE demand SET state = 'expired', updated_at = now() WHERE state = 'open' AND expires_at <= now() RETURNING id",
                logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            if !expired.isEmpty {
                for id in expired {
                    try await endAuthorisations(c, logger: logger, demand: id, why: "demand_closed")
                    try await event(c, logger: logger, demand: id, actor: nil, kind: "system", from: .open, to: .expired)
                }
            }
            let lapsed = try await c.query(
                """
                UPDATE demand SET state = 'open', taken_up_by = NULL, taken_up_at = NULL, decision_due_on = NULL, updated_at = now(),
                    take_up_due_on = \(today.addingWorkingDays(takeUpWorkingDays).description)::date
                WHERE state = 'taken_up' AND decision_due_on < \(today.description)::date AND expires_at > now()
                RETURNING id
                """,
                logger: logger
            ).collect().map { try $0.decode(UUID.self) }
            for id in lapsed { try await event(c, logger: logger, demand: id, actor: nil, kind: "system", from: .takenUp, to: .open) }
            return (expired.count, lapsed.count)
        }
    }

    public struct Transition: Sendable, Encodable {
        public let at: Date
        public let actorKind: String
        public let fromState: String?
        public let toState: String
        enum CodingKeys: String, CodingKey {
            case at
            case actorKind = "actor_kind"
            case fromState = "from_state"
            case toState = "to_state"
        }
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
        // Banks concerned hear of it through their webhooks: every matched bank of a move into or
        // out of the open pool; only the holder of what happens while it holds the demand (a
        // competitor learns nothing of another bank's decision or loan).
        let pool = from == nil || from == .open || to == .open
        let concerned = try await c.query(
            """
            SELECT DISTINCT b, d.uscc FROM demand d,
                LATERAL (SELECT bank_org_id AS b FROM authorisation WHERE demand_id = d.id AND \(pool)
                         UNION SELECT d.taken_up_by WHERE d.taken_up_by IS NOT NULL) banks
            WHERE d.id = \(demand)
            """,
            logger: logger
        ).collect().map { try $0.decode((UUID, String).self) }
        for (bank, uscc) in concerned {
            let payload: JSONValue = [
                "demand_id": .string(demand.uuidString.lowercased()), "uscc": .string(uscc),
                "from_state": from.map { .string($0.rawValue) } ?? .null, "to_state": .string(to.rawValue),
                "actor_kind": .string(kind),
            ]
            try await Webhooks.emit(c, logger: logger, bank: bank, uscc: uscc, type: "demand.state_changed", payload: payload)
        }
    }
}
