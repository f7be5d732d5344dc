import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The simulated market's past behind the demo city (`xyd simulate-market`): demands, the
/// banks' answers, disbursements and monthly outcomes, written in bulk (`unnest` arrays), a
/// batch per transaction.
public enum MarketHistoryStore {
    /// Appended to the purpose of every demand written here: how a second run knows.
    public static let marker = "（历史）"
    /// The marker of demo databases seeded before it was written in Chinese.
    static let oldMarker = " [history]"

    /// How many demands of a written history there are (0: none yet).
    public static func written(_ c: PostgresConnection, logger: Logger) async throws -> Int {
        try await c.query(
            "SELECT count(*)::int FROM demand WHERE purpose LIKE \("%" + marker) OR purpose LIKE \("%" + oldMarker)",
            logger: logger
        ).collect()[0].decode(
            Int.self
        )
    }

    /// The grade of every business with one, and every bank with published products (id and
    /// kind, oldest first), in a stable order.
    public static func gradesAndBanks(
        _ c: PostgresConnection,
        logger: Logger
    ) async throws -> ([String: String], [(UUID, [(UUID, String)])]) {
        var grades: [String: String] = [:]
        for try await (uscc, grade) in try await c.query("SELECT uscc, grade FROM profile WHERE grade IS NOT NULL", logger: logger)
            .decode((String, String).self)
        { grades[uscc] = grade }
        var banks: [(UUID, [(UUID, String)])] = []
        for try await (bank, products) in try await c.query(
            """
            SELECT bank_org_id, array_agg(id::text || ':' || kind ORDER BY created_at) FROM product WHERE status = 'published'
            GROUP BY bank_org_id ORDER BY bank_org_id
            """,
            logger: logger
        ).decode((UUID, [String]).self) {
            banks.append(
                (
                    bank,
                    products.map { p in
                        let parts = p.split(separator: ":")
                        return (UUID(uuidString: String(parts[0]))!, String(parts[1]))
                    }
                )
            )
        }
        return (grades, banks)
    }

    /// Writes `part` (banks by index into `banks`), with every transition, authorisation, pass and outcome.
    public static func write(
        _ c: PostgresConnection,
        logger: Logger,
        _ part: [HistoricalDemand],
        banks: [(UUID, [(UUID, String)])]
    ) async throws {
        // The businesses' organisations, where they have none yet.
        let usccs = Array(Set(part.map(\.uscc)))
        try await c.query(
            """
            INSERT INTO organisations (kind, name, uscc)
            SELECT 'enterprise', left(coalesce(r.data->>'name', u) || ' (' || u || ')', 200), u FROM unnest(\(usccs)::text[]) AS u
            LEFT JOIN current_record r ON r.dataset = 'enterprise_registry' AND r.record_id = u AND r.op = 'upsert'
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        let ids = part.map { _ in UUID() }
        func stamp(_ d: Date?) -> String? { d.map { ISO8601DateFormatter().string(from: $0) } }
        func product(_ d: HistoricalDemand) -> UUID? {
            guard let b = d.bank, d.granted == true else { return nil }
            let products = banks[b].1
            let wanted = d.collateral ? ["secured", "guaranteed"] : ["credit"]
            return (products.first { wanted.contains($0.1) } ?? products[0]).0
        }
        // Arrays of optionals do not bind: "" and -1 stand for NULL.
        func text(_ values: [String?]) -> [String] { values.map { $0 ?? "" } }
        try await c.query(
            """
            INSERT INTO demand (id, uscc, enterprise_org_id, amount_fen, term_months, purpose, collateral_offered, first_loan, state,
                                taken_up_by, created_at, expires_at, updated_at, take_up_due_on, taken_up_at, decision_due_on, decided_at,
                                granted_amount_fen, granted_term_months, granted_rate_bp, decline_reason, disbursed_amount_fen, disbursed_on,
                                district_code, industry_code, size_class, entity_type, grade_at_posting, score_at_posting, scorecard_version,
                                granted_product_id)
            SELECT t.id, t.uscc, o.id, t.amount, t.term, t.purpose, t.collateral, t.first_loan, t.state, NULLIF(t.bank, '')::uuid, t.posted,
                   t.posted + interval '30 days',
                   coalesce(NULLIF(t.closed, '')::timestamptz, NULLIF(t.decided, '')::timestamptz, NULLIF(t.taken, '')::timestamptz, t.posted),
                   t.take_up_due::date, NULLIF(t.taken, '')::timestamptz, NULLIF(t.decision_due, '')::date, NULLIF(t.decided, '')::timestamptz,
                   CASE WHEN t.granted = 't' THEN t.amount END, CASE WHEN t.granted = 't' THEN t.term END, NULLIF(t.rate, -1),
                   NULLIF(t.reason, ''), CASE WHEN t.state = 'disbursed' THEN t.amount END, NULLIF(t.disbursed, '')::date,
                   r.data->>'district_code', r.data->>'industry_code', r.data->>'size_class', r.data->>'entity_type',
                   p.grade, p.score, p.scorecard_version, NULLIF(t.product, '')::uuid
            FROM unnest(\(ids)::uuid[], \(part.map(\.uscc))::text[], \(part.map(\.amountFen))::bigint[], \(part.map(\.termMonths))::int[],
                        \(part.map { $0.purpose + marker })::text[], \(part.map(\.collateral))::bool[], \(part.map(\.firstLoan))::bool[],
                        \(part.map(\.state))::text[], \(text(part.map { $0.bank.map { banks[$0].0.uuidString } }))::text[],
                        \(text(part.map { stamp($0.postedAt) }))::timestamptz[], \(text(part.map { stamp($0.closedAt) }))::text[],
                        \(text(part.map { stamp($0.takenUpAt) }))::text[], \(text(part.map { stamp($0.decidedAt) }))::text[],
                        \(part.map { Day.inChina($0.postedAt).addingWorkingDays(Demands.takeUpWorkingDays).description })::text[],
                        \(text(part.map { $0.takenUpAt.map { Day.inChina($0).addingWorkingDays(Demands.decisionWorkingDays).description } }))::text[],
                        \(text(part.map { $0.granted.map { $0 ? "t" : "f" } }))::text[], \(part.map { $0.rateBp ?? -1 })::int[],
                        \(text(part.map(\.declineReason)))::text[], \(text(part.map { $0.disbursedOn?.description }))::text[],
                        \(text(part.map { product($0)?.uuidString }))::text[])
                 AS t(id, uscc, amount, term, purpose, collateral, first_loan, state, bank, posted, closed, taken, decided, take_up_due,
                      decision_due, granted, rate, reason, disbursed, product)
            JOIN organisations o ON o.uscc = t.uscc
            LEFT JOIN current_record r ON r.dataset = 'enterprise_registry' AND r.record_id = t.uscc AND r.op = 'upsert'
            LEFT JOIN profile p ON p.uscc = t.uscc
            """,
            logger: logger
        )
        // Each bank's part, from the summary columns (the migration's function: one part per demand).
        try await c.query("SELECT demand_offers_from_summary(\(ids)::uuid[])", logger: logger)
        // Every transition, with who and when.
        var evDemand: [UUID] = []
        var evAt: [String] = []
        var evActor: [String?] = []
        var evKind: [String] = []
        var evFrom: [String?] = []
        var evTo: [String] = []
        func event(_ i: Int, _ at: Date, _ actor: UUID?, _ kind: String, _ from: String?, _ to: String) {
            evDemand.append(ids[i])
            evAt.append(stamp(at)!)
            evActor.append(actor?.uuidString)
            evKind.append(kind)
            evFrom.append(from)
            evTo.append(to)
        }
        var authDemand: [UUID] = []
        var authBank: [UUID] = []
        var authUscc: [String] = []
        var authAt: [String] = []
        var authEnd: [String?] = []
        var authBy: [String?] = []
        var passDemand: [UUID] = []
        var passBank: [UUID] = []
        var passAt: [String] = []
        var outDemand: [UUID] = []
        var outMonth: [String] = []
        var outStatus: [String] = []
        var outBank: [UUID] = []
        for (i, d) in part.enumerated() {
            let bank = d.bank.map { banks[$0].0 }
            event(i, d.postedAt, nil, "enterprise", nil, "open")
            // A bank that took it up and declined before the lender did: out of the pool and back.
            for o in d.others where o.declineReason != nil {
                event(i, o.takenUpAt, banks[o.bank].0, "bank", "open", "taken_up")
                event(i, o.decidedAt, banks[o.bank].0, "bank", "taken_up", "open")
            }
            if let t = d.takenUpAt { event(i, t, bank, "bank", "open", "taken_up") }
            if let t = d.decidedAt, let g = d.granted { event(i, t, bank, "bank", "taken_up", g ? "granted" : "declined") }
            if d.state == "disbursed", let day = d.disbursedOn {
                event(i, noon(day), bank, "bank", "granted", "disbursed")
            }
            if let t = d.closedAt { event(i, t, nil, d.state == "expired" ? "system" : "enterprise", "open", d.state) }
            let end = d.closedAt ?? d.decidedAt
            for b in d.matched {
                authDemand.append(ids[i])
                authBank.append(banks[b].0)
                authUscc.append(d.uscc)
                authAt.append(stamp(d.postedAt)!)
                let passed = d.passed.contains(b)
                if let o = d.others.first(where: { $0.bank == b }) {
                    // Its part ended: declined then, or its offer lapsed when another was accepted.
                    authEnd.append(stamp(o.declineReason != nil ? o.decidedAt : (d.decidedAt ?? o.decidedAt)))
                    authBy.append(o.declineReason != nil ? "bank_declined" : "offer_lapsed")
                } else {
                    authEnd.append(passed ? stamp(d.postedAt.addingTimeInterval(86_400)) : stamp(end))
                    authBy.append(passed ? "bank_passed" : end == nil ? nil : "demand_closed")
                }
                if passed {
                    passDemand.append(ids[i])
                    passBank.append(banks[b].0)
                    passAt.append(stamp(d.postedAt.addingTimeInterval(86_400))!)
                }
            }
            for o in d.outcomes {
                outDemand.append(ids[i])
                outMonth.append(o.month)
                outStatus.append(o.status)
                outBank.append(bank!)
            }
        }
        try await c.query(
            """
            INSERT INTO demand_event (demand_id, at, actor_org_id, actor_kind, from_state, to_state)
            SELECT d, at, NULLIF(actor, '')::uuid, kind, NULLIF(f, ''), t
            FROM unnest(\(evDemand)::uuid[], \(evAt)::timestamptz[], \(text(evActor))::text[], \(evKind)::text[], \(text(evFrom))::text[],
                        \(evTo)::text[]) AS e(d, at, actor, kind, f, t)
            """,
            logger: logger
        )
        try await c.query(
            """
            INSERT INTO authorisation (uscc, enterprise_org_id, bank_org_id, scopes, purpose, granted_at, expires_at, revoked_at, revoked_by, source, demand_id)
            SELECT t.uscc, o.id, t.bank, ARRAY['profile'], 'loan_application', t.at, t.at + interval '30 days',
                   CASE WHEN NULLIF(t.ended, '')::timestamptz < t.at + interval '30 days' THEN NULLIF(t.ended, '')::timestamptz END,
                   NULLIF(t.by, ''), 'demand', t.demand
            FROM unnest(\(authDemand)::uuid[], \(authBank)::uuid[], \(authUscc)::text[], \(authAt)::timestamptz[], \(text(authEnd))::text[],
                        \(text(authBy))::text[]) AS t(demand, bank, uscc, at, ended, by)
            JOIN organisations o ON o.uscc = t.uscc
            """,
            logger: logger
        )
        try await c.query(
            "INSERT INTO demand_pass (demand_id, bank_org_id, at) SELECT * FROM unnest(\(passDemand)::uuid[], \(passBank)::uuid[], \(passAt)::timestamptz[])",
            logger: logger
        )
        try await insertOtherParts(c, logger: logger, part, ids: ids, banks: banks)
        try await c.query(
            """
            WITH o AS (INSERT INTO loan_outcome (demand_id, month, status, reported_by)
                       SELECT * FROM unnest(\(outDemand)::uuid[], \(outMonth)::text[], \(outStatus)::text[], \(outBank)::uuid[]) RETURNING *)
            INSERT INTO loan_outcome_report (demand_id, month, status, reported_by) SELECT demand_id, month, status, reported_by FROM o
            """,
            logger: logger
        )
    }

    /// Other banks' parts of the history's demands: declines before the lender took the demand up
    /// (referrals), and competing offers that lapsed when the business accepted the lender's.
    static func insertOtherParts(
        _ c: PostgresConnection,
        logger: Logger,
        _ part: [HistoricalDemand],
        ids: [UUID],
        banks: [(UUID, [(UUID, String)])]
    ) async throws {
        func stamp(_ d: Date) -> String { ISO8601DateFormatter().string(from: d) }
        var demand: [UUID] = []
        var bank: [UUID] = []
        var taken: [String] = []
        var due: [String] = []
        var decided: [String] = []
        var reason: [String] = []
        var rate: [Int] = []
        var lapsed: [String] = []
        for (i, d) in part.enumerated() {
            for o in d.others {
                demand.append(ids[i])
                bank.append(banks[o.bank].0)
                taken.append(stamp(o.takenUpAt))
                due.append(Day.inChina(o.takenUpAt).addingWorkingDays(Demands.decisionWorkingDays).description)
                decided.append(stamp(o.decidedAt))
                reason.append(o.declineReason ?? "")
                rate.append(o.rateBp ?? -1)
                lapsed.append(o.declineReason == nil ? stamp(d.decidedAt ?? o.decidedAt) : "")
            }
        }
        guard !demand.isEmpty else { return }
        try await c.query(
            """
            INSERT INTO demand_offer (demand_id, bank_org_id, state, taken_up_at, decision_due_on, decided_at, amount_fen, term_months,
                                      rate_bp, repayment, valid_until, first_loan_attested, decline_reason, lapsed_at, lapse_reason)
            SELECT t.demand, t.bank, CASE WHEN t.reason = '' THEN 'lapsed' ELSE 'declined' END, t.taken::timestamptz, t.due::date,
                   t.decided::timestamptz,
                   CASE WHEN t.reason = '' THEN d.amount_fen END, CASE WHEN t.reason = '' THEN d.term_months END, NULLIF(t.rate, -1),
                   CASE WHEN t.reason = '' THEN 'equal_instalments' END,
                   CASE WHEN t.reason = '' THEN (t.decided::timestamptz AT TIME ZONE 'Asia/Shanghai')::date + 14 END,
                   CASE WHEN t.reason = '' THEN d.first_loan END, NULLIF(t.reason, ''), NULLIF(t.lapsed, '')::timestamptz,
                   CASE WHEN t.reason = '' THEN 'other_accepted' END
            FROM unnest(\(demand)::uuid[], \(bank)::uuid[], \(taken)::text[], \(due)::text[], \(decided)::text[], \(reason)::text[],
                        \(rate)::int[], \(lapsed)::text[]) AS t(demand, bank, taken, due, decided, reason, rate, lapsed)
            JOIN demand d ON d.id = t.demand
            ON CONFLICT (demand_id, bank_org_id) DO NOTHING
            """,
            logger: logger
        )
    }

    static func noon(_ day: Day) -> Date {
        ISO8601DateFormatter().date(from: "\(day.description)T12:00:00+08:00")!
    }
}
