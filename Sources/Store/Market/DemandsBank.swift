import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The bank's side of a demand: its queue and loans, take-up, pass, grant, decline, disbursement.
extension Demands {

    /// A live demand authorisation of this bank for the demand row `d` (SQL).
    static func liveFor(_ bank: UUID) -> String {
        "EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = demand.id AND a.bank_org_id = '\(bank.uuidString)' AND \(Live.authorisation("a")))"
    }

    /// This bank's part in the demand row, in the given states (SQL).
    static func holds(_ bank: UUID, _ states: [Offer.State]) -> String {
        let list = states.map { "'\($0.rawValue)'" }.joined(separator: ", ")
        return
            "EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = demand.id AND o.bank_org_id = '\(bank.uuidString)' AND o.state IN (\(list)))"
    }

    /// Demands waiting for this bank (matched by its products, not yet answered), the ones it
    /// holds (taken up, or offered and waiting for the business) and the ones granted to it, oldest
    /// deadline first; each with this bank's part.
    public static func bankQueue(_ c: PostgresConnection, logger: Logger, bank: UUID) async throws -> [Demand] {
        let items = try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM demand
                WHERE (state IN ('open', 'taken_up') AND \(unescaped: liveFor(bank))
                       AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = demand.id AND o.bank_org_id = \(bank)))
                   OR (state = 'taken_up' AND \(unescaped: holds(bank, [.takenUp, .offered])))
                   OR (taken_up_by = \(bank) AND state = 'granted')
                ORDER BY coalesce(decision_due_on, take_up_due_on), created_at LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
        return try await withOffers(c, logger: logger, items, bank: bank)
    }

    /// A business's grade and score as a bank's queue shows them, with the live authorisation
    /// they are read under.
    public struct QueueGrade: Sendable, Equatable {
        public let uscc: String
        public let authorisationId: UUID
        public let score: Int?
        public let grade: String?
    }

    /// The grade and score of these businesses that this bank may read now — each under its live
    /// authorisation to read the profile for a loan application (the one a demand gives), locked
    /// against revocation until the caller's transaction ends, so the caller audits what it shows.
    /// Businesses without one (or without a profile) are left out.
    public static func queueGrades(
        _ c: PostgresConnection,
        logger: Logger,
        bank: UUID,
        usccs: [String]
    ) async throws -> [String: QueueGrade] {
        guard !usccs.isEmpty else { return [:] }
        var out: [String: QueueGrade] = [:]
        for try await (uscc, auth, score, grade) in try await c.query(
            """
            SELECT p.uscc, a.id, p.score, p.grade
            FROM profile p
            JOIN LATERAL (
                SELECT id FROM authorisation a
                WHERE a.bank_org_id = \(bank) AND a.uscc = p.uscc AND 'profile' = ANY(a.scopes) AND a.purpose = 'loan_application'
                  AND \(unescaped: Live.authorisation("a"))
                ORDER BY a.expires_at DESC LIMIT 1
                FOR SHARE
            ) a ON true
            WHERE p.uscc = ANY(\(usccs)::text[])
            """,
            logger: logger
        ).decode((String, UUID, Int?, String?).self) {
            out[uscc] = QueueGrade(uscc: uscc, authorisationId: auth, score: score, grade: grade)
        }
        return out
    }

    /// The demands with this bank's part in each.
    static func withOffers(_ c: PostgresConnection, logger: Logger, _ items: [Demand], bank: UUID) async throws -> [Demand] {
        let mine = try await offers(c, logger: logger, demands: items.map(\.id), bank: bank)
        return items.map { d in
            var d = d
            d.offer = mine[d.id]
            return d
        }
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

    /// A demand as a bank may see it: matched by its products (a live demand authorisation),
    /// held by it (taken up or offered) or granted to it; with its part. Any other bank's —
    /// including one whose part ended (passed, declined, lapsed, lost to a competitor) — is
    /// answered as absent, so a bank learns nothing of what competitors did.
    public static func forBank(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, lock: Bool = false) async throws -> Demand {
        let rows = try await c.query(
            """
            SELECT \(unescaped: columns) FROM demand
            WHERE id = \(id) AND (taken_up_by = \(bank) OR \(unescaped: liveFor(bank)) OR \(unescaped: holds(bank, [.takenUp, .offered])))
            \(unescaped: lock ? "FOR UPDATE" : "")
            """,
            logger: logger
        )
        guard let d = try await decode(rows).first else { throw DemandError.notFound(id) }
        return try await withOffers(c, logger: logger, [d], bank: bank)[0]
    }

    /// Takes a demand up: while fewer banks than the demand's `max_banks` hold it, any matched bank
    /// may (each decides within its own deadline). Of banks racing for the last place, exactly one
    /// wins; the others get a conflict. When the places are taken, the other matched banks' reading
    /// ends (a holder's decline or lapse gives it back: matching runs again).
    public static func takeUp(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, today: Day) async throws -> Demand {
        let current = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.state == .open || current.state == .takenUp, current.offer == nil, current.expiresAt > Date() else {
            throw DemandError.state(current: current.state, wanted: "taken up")
        }
        let held = try await holders(c, logger: logger, demand: id)
        guard held < current.maxBanks else { throw DemandError.full(current.maxBanks) }
        let due = today.addingWorkingDays(decisionWorkingDays).description
        try await c.query(
            "INSERT INTO demand_offer (demand_id, bank_org_id, decision_due_on) VALUES (\(id), \(bank), \(due)::date)",
            logger: logger
        )
        if current.state == .open {
            try await c.query(
                """
                UPDATE demand SET state = 'taken_up', updated_at = now(), taken_up_at = coalesce(taken_up_at, now()),
                    decision_due_on = coalesce(decision_due_on, \(due)::date)
                WHERE id = \(id)
                """,
                logger: logger
            )
        }
        if held + 1 >= current.maxBanks {
            // Every place taken: the other matched banks' reading ends.
            try await c.query(
                """
                UPDATE authorisation a SET revoked_at = now(), revoked_by = 'demand_taken_up'
                WHERE a.demand_id = \(id) AND a.revoked_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = a.demand_id AND o.bank_org_id = a.bank_org_id
                                  AND o.state IN ('taken_up', 'offered'))
                """,
                logger: logger
            )
        }
        if current.state == .open {
            try await event(c, logger: logger, demand: id, actor: bank, kind: "bank", from: .open, to: .takenUp)
        }
        return try await forBank(c, logger: logger, id: id, bank: bank)
    }

    /// A bank passes on a demand its products matched (not for it): recorded, its demand
    /// authorisation ends (and is not granted back by matching again), the demand leaves its
    /// queue. Another bank's demand is absent; one it holds, or no longer waiting, is a conflict.
    public static func pass(_ c: PostgresConnection, logger: Logger, id: UUID, bank: UUID, reason: String?) async throws -> Demand {
        let current = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.state == .open || current.state == .takenUp, current.offer == nil else {
            throw DemandError.state(current: current.state, wanted: "passed")
        }
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

    /// Which of a grant's terms fall outside a product's ranges (none: it fits).
    static func outside(
        _ product: String,
        _ amounts: ClosedRange<Int64>,
        _ terms: ClosedRange<Int>,
        _ rates: ClosedRange<Int>,
        _ amountFen: Int64,
        _ termMonths: Int,
        _ rateBp: Int
    ) -> [(field: String, bound: String, zh: String)] {
        func rate(_ bp: Int) -> String { "\(bp / 100).\(String(bp % 100).leftPadded(2))%" }
        var out: [(field: String, bound: String, zh: String)] = []
        if !amounts.contains(amountFen) {
            out.append(
                (
                    "amount_fen", "within the product's range, \(amounts.lowerBound) to \(amounts.upperBound) fen",
                    "金额须在产品“\(product)”的范围 \(Money.display(fen: amounts.lowerBound)) 至 \(Money.display(fen: amounts.upperBound)) 内"
                )
            )
        }
        if !terms.contains(termMonths) {
            out.append(
                (
                    "term_months", "within the product's range, \(terms.lowerBound) to \(terms.upperBound) months",
                    "期限须在产品“\(product)”的范围 \(terms.lowerBound) 至 \(terms.upperBound) 个月内"
                )
            )
        }
        if !rates.contains(rateBp) {
            out.append(
                (
                    "rate_bp", "within the product's range, \(rates.lowerBound) to \(rates.upperBound) basis points",
                    "年利率须在产品“\(product)”的范围 \(rate(rates.lowerBound)) 至 \(rate(rates.upperBound)) 内"
                )
            )
        }
        return out
    }

    /// What a bank offers a business for a demand it holds.
    public struct OfferTerms: Sendable {
        public let amountFen: Int64
        public let termMonths: Int
        public let rateBp: Int
        public let repayment: Repayment
        public let conditions: String?
        public let validUntil: Day
        public let firstLoanAttested: Bool
        public let product: UUID?
        public init(
            amountFen: Int64,
            termMonths: Int,
            rateBp: Int,
            repayment: Repayment,
            conditions: String?,
            validUntil: Day,
            firstLoanAttested: Bool,
            product: UUID?
        ) {
            self.amountFen = amountFen
            self.termMonths = termMonths
            self.rateBp = rateBp
            self.repayment = repayment
            self.conditions = conditions
            self.validUntil = validUntil
            self.firstLoanAttested = firstLoanAttested
            self.product = product
        }
    }

    /// A bank that took a demand up makes its offer: within the product's ranges (the one named,
    /// which must be its own and not a draft — `DemandError.notYourProduct` otherwise; without
    /// one, one of its products that match the demand, recorded), never more than the business
    /// asked, valid from today for at most `maxOfferValidityDays`. The business then sees it beside
    /// the other banks' offers and accepts one.
    public static func makeOffer(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        terms t: OfferTerms,
        today: Day = Day.todayInChina()
    ) async throws -> Demand {
        // The demand first: another bank's (or none) is absent whatever the product says.
        let held = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        let holding = held.state == .takenUp && held.offer?.state == .takenUp
        var errors: [(field: String, bound: String, zh: String)] = []
        var product = t.product
        if let named = t.product {
            let own = try await c.query(
                """
                SELECT name, amount_min_fen, amount_max_fen, term_min_months, term_max_months, rate_min_bp, rate_max_bp
                FROM product WHERE id = \(named) AND bank_org_id = \(bank) AND status <> 'draft'
                """,
                logger: logger
            ).collect()
            guard let row = own.first else { throw DemandError.notYourProduct(named) }
            let (name, amin, amax, tmin, tmax, rmin, rmax) = try row.decode((String, Int64, Int64, Int, Int, Int, Int).self)
            // Under a product: within its ranges.
            errors += outside(name, amin...amax, tmin...tmax, rmin...rmax, t.amountFen, t.termMonths, t.rateBp)
        } else if holding {
            // No product named: the terms must fit one of this bank's products that match the
            // demand (the best-fitting first); with none matching, a product must be named.
            let matched = try await match(c, logger: logger, demand: held, today: today)
            let mine = matched.ranked.matches.map { matched.products[$0.productIndex] }.filter { $0.bankOrgId == bank }
            let tried = mine.map {
                outside(
                    $0.name,
                    $0.terms.amountMinFen...$0.terms.amountMaxFen,
                    $0.terms.termMinMonths...$0.terms.termMaxMonths,
                    $0.terms.rateMinBp...$0.terms.rateMaxBp,
                    t.amountFen,
                    t.termMonths,
                    t.rateBp
                )
            }
            if tried.isEmpty {
                errors.append(
                    (
                        "product_id", "none of this bank's published products matches the demand now: name the product offered under",
                        "本行已发布的产品中没有与该需求匹配的：请注明依据的产品"
                    )
                )
            } else if let fit = tried.firstIndex(where: \.isEmpty) {
                product = mine[fit].id
            } else {
                errors += tried[0]
            }
        }
        // Never more than the business asked for.
        if holding, t.amountFen > held.amountFen {
            errors.append(
                ("amount_fen", "at most the amount asked, \(held.amountFen) fen", "报价金额不能超过企业申请的 \(Money.display(fen: held.amountFen))")
            )
        }
        let lastDay = today.addingDays(maxOfferValidityDays)
        if t.validUntil < today || t.validUntil > lastDay {
            errors.append(
                (
                    "valid_until", "from today (\(today)) to \(lastDay) (\(maxOfferValidityDays) days)",
                    "报价有效期须在今天（\(today)）至 \(lastDay)（\(maxOfferValidityDays) 天）之间"
                )
            )
        }
        guard holding else {
            // The demand's state allows offers; this bank's own part does not.
            if held.state == .takenUp { throw DemandError.part(held.offer?.state, wanted: "offered on") }
            throw DemandError.state(current: held.state, wanted: "offered")
        }
        if !errors.isEmpty { throw DemandError.outOfBounds(errors) }
        try await c.query(
            """
            UPDATE demand_offer SET state = 'offered', decided_at = now(), product_id = \(product), amount_fen = \(t.amountFen),
                term_months = \(t.termMonths), rate_bp = \(t.rateBp), repayment = \(t.repayment.rawValue), conditions = \(t.conditions),
                valid_until = \(t.validUntil.description)::date, first_loan_attested = \(t.firstLoanAttested)
            WHERE demand_id = \(id) AND bank_org_id = \(bank) AND state = 'taken_up'
            """,
            logger: logger
        )
        try await Messages.emit(
            c,
            logger: logger,
            uscc: held.uscc,
            kind: "demand.offer_made",
            data: ["demand_id": .string(id.uuidString.lowercased()), "bank": .string(held.offer?.bankName ?? "")]
        )
        return try await forBank(c, logger: logger, id: id, bank: bank)
    }

    /// A bank that took a demand up declines it, with a reason the business sees. Unless the
    /// business opted out, the demand goes back to the other matching banks (referral); when no
    /// bank holds it and none is left to take it, it is declined for good.
    public static func decline(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        bank: UUID,
        reason: String,
        text: String?,
        today: Day = Day.todayInChina()
    ) async throws -> Demand {
        let current = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        guard current.state == .takenUp else { throw DemandError.state(current: current.state, wanted: "declined") }
        guard current.offer?.state == .takenUp else { throw DemandError.part(current.offer?.state, wanted: "declined") }
        try await c.query(
            """
            UPDATE demand_offer SET state = 'declined', decided_at = now(), decline_reason = \(reason), decline_text = \(text)
            WHERE demand_id = \(id) AND bank_org_id = \(bank)
            """,
            logger: logger
        )
        try await c.query(
            """
            UPDATE authorisation SET revoked_at = now(), revoked_by = 'bank_declined'
            WHERE demand_id = \(id) AND bank_org_id = \(bank) AND revoked_at IS NULL
            """,
            logger: logger
        )
        try await holderLeft(c, logger: logger, demand: current, actor: bank, declined: (reason, text), today: today)
        var after = try await find(c, logger: logger, id: id, uscc: current.uscc)
        after.offer = try await offers(c, logger: logger, demands: [id], bank: bank)[id]
        return after
    }

    /// After a bank stops holding a demand (its decline, or its part lapsing): with referral on
    /// (or after a lapse) the demand is matched again so other banks may take it up; when no bank
    /// holds it any more it goes back to the pool — or, after a decline with no bank left to take
    /// it (or referral off), it is declined for good; past its life it expires.
    static func holderLeft(
        _ c: PostgresConnection,
        logger: Logger,
        demand d: Demand,
        actor: UUID?,
        declined: (reason: String, text: String?)?,
        today: Day
    ) async throws {
        let alive = d.expiresAt > Date()
        if alive, declined == nil || d.referAfterDecline {
            _ = try await rematchDemand(c, logger: logger, demand: d, products: try await published(c, logger: logger), today: today)
        } else if declined != nil {
            // Referral off: no other bank is asked.
            try await c.query(
                """
                UPDATE authorisation a SET revoked_at = now(), revoked_by = 'demand_closed'
                WHERE a.demand_id = \(d.id) AND a.revoked_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = a.demand_id AND o.bank_org_id = a.bank_org_id
                                  AND o.state IN ('taken_up', 'offered'))
                """,
                logger: logger
            )
        }
        guard try await holders(c, logger: logger, demand: d.id) == 0 else { return }
        let waiting = try await c.query(
            """
            SELECT count(*)::int FROM authorisation a
            WHERE a.demand_id = \(d.id) AND \(unescaped: Live.authorisation("a"))
              AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = a.demand_id AND o.bank_org_id = a.bank_org_id)
            """,
            logger: logger
        ).collect()[0].decode(Int.self)
        let kind = actor == nil ? "system" : "bank"
        if let declined, waiting == 0 || !d.referAfterDecline {
            try await c.query(
                """
                UPDATE demand SET state = 'declined', updated_at = now(), decided_at = now(), taken_up_by = \(actor),
                    decline_reason = \(declined.reason), decline_text = \(declined.text)
                WHERE id = \(d.id)
                """,
                logger: logger
            )
            try await endAuthorisations(c, logger: logger, demand: d.id, why: "demand_closed")
            try await event(c, logger: logger, demand: d.id, actor: actor, kind: kind, from: .takenUp, to: .declined)
        } else if !alive {
            try await c.query("UPDATE demand SET state = 'expired', updated_at = now() WHERE id = \(d.id)", logger: logger)
            try await endAuthorisations(c, logger: logger, demand: d.id, why: "demand_closed")
            try await event(c, logger: logger, demand: d.id, actor: nil, kind: "system", from: .takenUp, to: .expired)
        } else {
            try await c.query(
                """
                UPDATE demand SET state = 'open', updated_at = now(),
                    take_up_due_on = \(today.addingWorkingDays(takeUpWorkingDays).description)::date
                WHERE id = \(d.id)
                """,
                logger: logger
            )
            try await event(c, logger: logger, demand: d.id, actor: actor, kind: kind, from: .takenUp, to: .open)
        }
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
        let held = try await forBank(c, logger: logger, id: id, bank: bank, lock: true)
        if held.takenUpBy == bank, held.state == .granted {
            var errors: [(field: String, bound: String, zh: String)] = []
            if let granted = held.grantedAmountFen, amountFen > granted {
                errors.append(("amount_fen", "at most the amount granted, \(granted) fen", "放款金额不能超过批准的 \(Money.display(fen: granted))"))
            }
            if let decided = held.decidedAt.map(Day.inChina), day < decided || day > today {
                errors.append(
                    ("disbursed_on", "from the day of the grant (\(decided)) to today (\(today))", "放款日期须在批准日（\(decided)）至今天（\(today)）之间")
                )
            }
            if !errors.isEmpty { throw DemandError.outOfBounds(errors) }
        }
        guard held.state == .granted, held.takenUpBy == bank else { throw DemandError.state(current: held.state, wanted: "disbursed") }
        try await c.query(
            """
            UPDATE demand SET state = 'disbursed', updated_at = now(), disbursed_amount_fen = \(amountFen),
                disbursed_on = \(day.description)::date
            WHERE id = \(id)
            """,
            logger: logger
        )
        // Lent: the application is over, and with it the bank's reading for it.
        try await endAuthorisations(c, logger: logger, demand: id, why: "demand_closed")
        try await event(c, logger: logger, demand: id, actor: bank, kind: "bank", from: .granted, to: .disbursed)
        return try await forBank(c, logger: logger, id: id, bank: bank)
    }

}
