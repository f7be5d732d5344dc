import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The background side of demands: matching open demands again, and the deadlines' sweep.
extension Demands {

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

    /// Matches one demand again: each bank whose product matches now is authorised — unless it
    /// passed, the business revoked it, it already took part (taken up, offered, declined, lapsed)
    /// or the demand's places are all taken; a bank that no longer matches and holds no part loses
    /// its reading. Returns (granted, revoked).
    static func rematchDemand(
        _ c: PostgresConnection,
        logger: Logger,
        demand d: Demand,
        products: [ListedProduct],
        today: Day
    ) async throws -> (granted: Int, revoked: Int) {
        guard let facts = try? await facts(c, logger: logger, uscc: d.uscc, today: today) else { return (0, 0) }
        let ranked = Matching.rank(products.map(\.terms), facts: facts, demand: d.terms)
        let banks = Array(Set(ranked.matches.map { products[$0.productIndex].bankOrgId }))
        let room = try await holders(c, logger: logger, demand: d.id) < d.maxBanks
        let granted = try await c.query(
            """
            INSERT INTO authorisation (uscc, enterprise_org_id, bank_org_id, scopes, purpose, expires_at, source, demand_id)
            SELECT d.uscc, d.enterprise_org_id, b, ARRAY['profile'], 'loan_application', d.expires_at, 'demand', d.id
            FROM demand d, unnest(\(room ? banks : [])::uuid[]) AS b
            WHERE d.id = \(d.id) AND NOT EXISTS (SELECT 1 FROM authorisation a WHERE a.demand_id = d.id AND a.bank_org_id = b
                                                 AND (a.revoked_at IS NULL OR a.revoked_by IN ('business', 'bank_passed')))
              AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = d.id AND o.bank_org_id = b)
            RETURNING 1
            """,
            logger: logger
        ).collect().count
        let revoked = try await c.query(
            """
            UPDATE authorisation a SET revoked_at = now(), revoked_by = 'no_longer_matching'
            WHERE a.demand_id = \(d.id) AND a.revoked_at IS NULL AND NOT (a.bank_org_id = ANY(\(banks)::uuid[]))
              AND NOT EXISTS (SELECT 1 FROM demand_offer o WHERE o.demand_id = a.demand_id AND o.bank_org_id = a.bank_org_id
                              AND o.state IN ('taken_up', 'offered'))
            RETURNING 1
            """,
            logger: logger
        ).collect().count
        return (granted, revoked)
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
                    WHERE state IN ('open', 'taken_up') AND expires_at > now()
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
                let (g, r) = try await rematchDemand(c, logger: logger, demand: d, products: products, today: today)
                granted += g
                revoked += r
            }
            return (granted, revoked, (last.createdAt, last.id))
        }
    }

    // MARK: Deadlines

    /// Banks' parts lapsed per sweep at most (the next sweep takes the rest).
    public static let sweepBatch = 500

    /// Expires open demands past their life (their authorisations end with them) and lapses banks'
    /// parts past their deadlines. Returns how many demands expired and how many parts lapsed.
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
            // Banks' parts past their deadline: a take-up not decided in time, an offer not accepted
            // while valid. Each lapses (its bank told); a demand no bank holds any more goes back to
            // the pool (matched again) or, past its life, expires.
            let due = try await c.query(
                """
                SELECT o.demand_id, o.id, CASE WHEN o.state = 'taken_up' THEN 'decision_overdue' ELSE 'offer_expired' END
                FROM demand_offer o
                WHERE (o.state = 'taken_up' AND o.decision_due_on < \(today.description)::date)
                   OR (o.state = 'offered' AND o.valid_until < \(today.description)::date)
                ORDER BY o.demand_id LIMIT \(sweepBatch)
                """,
                logger: logger
            ).collect().map { try $0.decode((UUID, UUID, String).self) }
            var lapsed = 0
            for (demand, parts) in Dictionary(grouping: due, by: \.0) {
                let rows = try await c.query(
                    "SELECT \(unescaped: columns) FROM demand WHERE id = \(demand) AND state = 'taken_up' FOR UPDATE",
                    logger: logger
                )
                guard let d = try await decode(rows).first else { continue }
                for why in [OfferLapse.decisionOverdue, .offerExpired] {
                    let ids = parts.filter { $0.2 == why.rawValue }.map(\.1)
                    guard !ids.isEmpty else { continue }
                    lapsed += try await lapseOffers(c, logger: logger, demand: demand, why: why, only: ids).count
                }
                try await holderLeft(c, logger: logger, demand: d, actor: nil, declined: nil, today: today)
            }
            return (expired.count, lapsed)
        }
    }
}
