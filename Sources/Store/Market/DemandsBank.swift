import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The bank's side of a demand: its queue and loans, take-up, pass, grant, decline, disbursement.
extension Demands {

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

    /// Grants a demand this bank holds, optionally under one of its products (which must be its
    /// own and not a draft: `DemandError.notYourProduct` otherwise); without one, under one of
    /// its products that match the demand.
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
        var errors: [(field: String, bound: String, zh: String)] = []
        if let product {
            let own = try await c.query(
                """
                SELECT name, amount_min_fen, amount_max_fen, term_min_months, term_max_months, rate_min_bp, rate_max_bp
                FROM product WHERE id = \(product) AND bank_org_id = \(bank) AND status <> 'draft'
                """,
                logger: logger
            ).collect()
            guard let row = own.first else { throw DemandError.notYourProduct(product) }
            let (name, amin, amax, tmin, tmax, rmin, rmax) = try row.decode((String, Int64, Int64, Int, Int, Int, Int).self)
            // Under a product: within its ranges.
            errors += outside(name, amin...amax, tmin...tmax, rmin...rmax, amountFen, termMonths, rateBp)
        } else if held.takenUpBy == bank, held.state == .takenUp {
            // No product named: the terms must fit one of this bank's products that match the
            // demand (the best-fitting first); with none matching, a product must be named.
            let matched = try await match(c, logger: logger, demand: held, today: Day.todayInChina())
            let mine = matched.ranked.matches.map { matched.products[$0.productIndex] }.filter { $0.bankOrgId == bank }
            let tried = mine.map {
                outside(
                    $0.name,
                    $0.terms.amountMinFen...$0.terms.amountMaxFen,
                    $0.terms.termMinMonths...$0.terms.termMaxMonths,
                    $0.terms.rateMinBp...$0.terms.rateMaxBp,
                    amountFen,
                    termMonths,
                    rateBp
                )
            }
            if tried.isEmpty {
                errors.append(
                    (
                        "product_id", "none of this bank's published products matches the demand now: name the product granted under",
                        "本行已发布的产品中没有与该需求匹配的：请注明依据的产品"
                    )
                )
            } else if !tried.contains(where: \.isEmpty) {
                errors += tried[0]
            }
        }
        // Never more than the business asked for.
        if held.takenUpBy == bank, held.state == .takenUp, amountFen > held.amountFen {
            errors.append(
                ("amount_fen", "at most the amount asked, \(held.amountFen) fen", "批准金额不能超过企业申请的 \(Money.display(fen: held.amountFen))")
            )
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

}
