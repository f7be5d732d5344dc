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
}
