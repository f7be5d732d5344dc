import CreditCore
import Foundation
import Logging
import PostgresNIO

/// One bank's part in a demand: its take-up, then its offer or its decline. Several banks (up
/// to the demand's `max_banks`) may hold one demand; the business accepts one offer.
public struct Offer: Sendable, Encodable {
    public enum State: String, Codable, Sendable {
        /// Taken up, deciding (by `decisionDueOn`).
        case takenUp = "taken_up"
        /// An offer the business may accept until `validUntil`.
        case offered
        case declined
        /// The business accepted it: the demand is granted to this bank.
        case accepted
        /// Over without a loan: another offer accepted, the demand withdrawn, the decision
        /// deadline missed, or the offer's validity passed (`lapseReason`).
        case lapsed
    }

    public let id: UUID
    public let demandId: UUID
    public let bankOrgId: UUID
    public let bankName: String
    public let state: State
    public let takenUpAt: Date
    public let decisionDueOn: String
    public let decidedAt: Date?
    public let productId: UUID?
    public let productName: String?
    public let amountFen: Int64?
    public let termMonths: Int?
    public let rateBp: Int?
    public let repayment: Repayment?
    public let conditions: String?
    public let validUntil: String?
    public let firstLoanAttested: Bool?
    public let declineReason: String?
    public let declineText: String?
    public let lapsedAt: Date?
    public let lapseReason: String?
    /// The monthly payment, the last one and the total interest, in fen (an offer's terms only).
    public let plan: Repayment.Plan?
    /// Taken up and not decided by its deadline (working days).
    public let overdue: Bool

    /// Live: the bank still holds the demand.
    public var live: Bool { state == .takenUp || state == .offered }
}

public enum OfferLapse: String, Sendable {
    case otherAccepted = "other_accepted"
    case demandWithdrawn = "demand_withdrawn"
    case decisionOverdue = "decision_overdue"
    case offerExpired = "offer_expired"
    /// The business revoked the bank's reading of the demand.
    case businessRevoked = "business_revoked"
}

extension Demands {
    /// Banks that may hold one demand at once (the setting's default).
    public static let defaultMaxBanks = 3
    public static let maxBanksRange = 1...10
    /// An offer stays open for the business at most this many days.
    public static let maxOfferValidityDays = 30
    public static let maxConditionsLength = 500

    static let offerColumns = """
        o.id, o.demand_id, o.bank_org_id, b.name, o.state, o.taken_up_at, o.decision_due_on::text, o.decided_at, o.product_id, p.name,
        o.amount_fen, o.term_months, o.rate_bp, o.repayment, o.conditions, o.valid_until::text, o.first_loan_attested,
        o.decline_reason, o.decline_text, o.lapsed_at, o.lapse_reason,
        o.state = 'taken_up' AND o.decision_due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date
        FROM demand_offer o JOIN organisations b ON b.id = o.bank_org_id LEFT JOIN product p ON p.id = o.product_id
        """

    static func decodeOffers(_ rows: PostgresRowSequence) async throws -> [Offer] {
        var out: [Offer] = []
        for try await row in rows {
            let c = row.makeRandomAccess()
            let amount = try c[10].decode(Int64?.self)
            let term = try c[11].decode(Int?.self)
            let rate = try c[12].decode(Int?.self)
            let repayment = try c[13].decode(String?.self).flatMap(Repayment.init(rawValue:))
            var plan: Repayment.Plan? = nil
            if let amount, let term, let rate, let repayment {
                plan = repayment.plan(principalFen: amount, months: term, rateBp: rate)
            }
            out.append(
                Offer(
                    id: try c[0].decode(UUID.self),
                    demandId: try c[1].decode(UUID.self),
                    bankOrgId: try c[2].decode(UUID.self),
                    bankName: try c[3].decode(String.self),
                    state: Offer.State(rawValue: try c[4].decode(String.self)) ?? .lapsed,
                    takenUpAt: try c[5].decode(Date.self),
                    decisionDueOn: try c[6].decode(String.self),
                    decidedAt: try c[7].decode(Date?.self),
                    productId: try c[8].decode(UUID?.self),
                    productName: try c[9].decode(String?.self),
                    amountFen: amount,
                    termMonths: term,
                    rateBp: rate,
                    repayment: repayment,
                    conditions: try c[14].decode(String?.self),
                    validUntil: try c[15].decode(String?.self),
                    firstLoanAttested: try c[16].decode(Bool?.self),
                    declineReason: try c[17].decode(String?.self),
                    declineText: try c[18].decode(String?.self),
                    lapsedAt: try c[19].decode(Date?.self),
                    lapseReason: try c[20].decode(String?.self),
                    plan: plan,
                    overdue: try c[21].decode(Bool?.self) ?? false
                )
            )
        }
        return out
    }

    /// Every bank's part in a demand, in the order they took it up (the business's view: it sees
    /// each bank's offer, decline or lapse).
    public static func offers(_ c: PostgresConnection, logger: Logger, demand: UUID) async throws -> [Offer] {
        try await decodeOffers(
            c.query("SELECT \(unescaped: offerColumns) WHERE o.demand_id = \(demand) ORDER BY o.taken_up_at, o.id", logger: logger)
        )
    }

    /// This bank's parts in these demands.
    static func offers(_ c: PostgresConnection, logger: Logger, demands: [UUID], bank: UUID) async throws -> [UUID: Offer] {
        guard !demands.isEmpty else { return [:] }
        let rows = try await decodeOffers(
            c.query(
                "SELECT \(unescaped: offerColumns) WHERE o.demand_id = ANY(\(demands)::uuid[]) AND o.bank_org_id = \(bank)",
                logger: logger
            )
        )
        return Dictionary(rows.map { ($0.demandId, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Lapses a demand's live offers (all, or all but `except`'s), each bank told by a signed
    /// `demand.offer_lapsed` notice; their reading of the demand ends. Returns the banks.
    @discardableResult
    static func lapseOffers(
        _ c: PostgresConnection,
        logger: Logger,
        demand: UUID,
        why: OfferLapse,
        except: UUID? = nil,
        only: [UUID]? = nil
    ) async throws -> [UUID] {
        let lapsed = try await c.query(
            """
            UPDATE demand_offer o SET state = 'lapsed', lapsed_at = now(), lapse_reason = \(why.rawValue)
            FROM demand d
            WHERE o.demand_id = \(demand) AND d.id = o.demand_id AND o.state IN ('taken_up', 'offered')
              AND o.bank_org_id IS DISTINCT FROM \(except)
              AND (\(only)::uuid[] IS NULL OR o.id = ANY(\(only)::uuid[]))
            RETURNING o.id, o.bank_org_id, d.uscc
            """,
            logger: logger
        ).collect().map { try $0.decode((UUID, UUID, String).self) }
        for (offer, bank, uscc) in lapsed {
            try await c.query(
                """
                UPDATE authorisation SET revoked_at = now(), revoked_by = 'offer_lapsed'
                WHERE demand_id = \(demand) AND bank_org_id = \(bank) AND revoked_at IS NULL
                """,
                logger: logger
            )
            let payload: JSONValue = [
                "demand_id": .string(demand.uuidString.lowercased()), "offer_id": .string(offer.uuidString.lowercased()),
                "uscc": .string(uscc), "reason": .string(why.rawValue),
            ]
            try await Webhooks.emit(c, logger: logger, bank: bank, uscc: uscc, type: "demand.offer_lapsed", payload: payload)
        }
        return lapsed.map(\.1)
    }

    /// The business revoked a bank's reading of its demand: the bank's live part in it lapses too
    /// (it is told), and the demand goes on with the others — or back to the pool.
    static func revokedByBusiness(_ c: PostgresConnection, logger: Logger, authorisation id: UUID) async throws {
        let rows = try await c.query(
            """
            SELECT a.demand_id, a.bank_org_id FROM authorisation a
            JOIN demand_offer o ON o.demand_id = a.demand_id AND o.bank_org_id = a.bank_org_id AND o.state IN ('taken_up', 'offered')
            WHERE a.id = \(id)
            """,
            logger: logger
        ).collect()
        guard let (demand, bank) = try rows.first?.decode((UUID, UUID).self) else { return }
        let locked = try await decode(
            c.query("SELECT \(unescaped: columns) FROM demand WHERE id = \(demand) AND state = 'taken_up' FOR UPDATE", logger: logger)
        )
        guard let d = locked.first else { return }
        let part = try await offers(c, logger: logger, demands: [demand], bank: bank)[demand]
        guard let part, part.live else { return }
        try await lapseOffers(c, logger: logger, demand: demand, why: .businessRevoked, only: [part.id])
        try await holderLeft(c, logger: logger, demand: d, actor: nil, declined: nil, today: Day.todayInChina())
    }

    /// How many banks hold a demand now (taken up or offered).
    static func holders(_ c: PostgresConnection, logger: Logger, demand: UUID) async throws -> Int {
        try await c.query(
            "SELECT count(*)::int FROM demand_offer WHERE demand_id = \(demand) AND state IN ('taken_up', 'offered')",
            logger: logger
        ).collect()[0].decode(Int.self)
    }

    /// The business accepts one offer: the demand becomes `granted` to that bank on the offer's
    /// terms, every other offer lapses (their banks are told). Of two acceptances at once, one
    /// wins; the other finds the demand granted. First loan is checked here: no loan disbursed
    /// to this business through the service before, and the lender's attestation.
    public static func accept(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        offer: UUID,
        uscc: String,
        actor: UUID,
        today: Day = Day.todayInChina()
    ) async throws -> Demand {
        let current = try await find(c, logger: logger, id: id, uscc: uscc, lock: true)
        guard current.state == .takenUp else { throw DemandError.state(current: current.state, wanted: "accepted") }
        guard let o = try await offers(c, logger: logger, demand: id).first(where: { $0.id == offer }) else {
            throw DemandError.noOffer(offer)
        }
        guard o.state == .offered, let validUntil = o.validUntil.flatMap(Day.init), validUntil >= today else {
            throw DemandError.offerNotOpen(offer)
        }
        try await c.query(
            "UPDATE demand_offer SET state = 'accepted' WHERE id = \(offer)",
            logger: logger
        )
        try await c.query(
            """
            UPDATE demand d SET state = 'granted', updated_at = now(), taken_up_by = o.bank_org_id, decided_at = now(),
                granted_amount_fen = o.amount_fen, granted_term_months = o.term_months, granted_rate_bp = o.rate_bp,
                granted_product_id = o.product_id, repayment = o.repayment, accepted_offer_id = o.id,
                first_loan_attested = o.first_loan_attested,
                first_loan_no_prior = NOT EXISTS (SELECT 1 FROM demand p WHERE p.uscc = d.uscc AND p.state = 'disbursed' AND p.id <> d.id)
            FROM demand_offer o WHERE o.id = \(offer) AND d.id = \(id)
            """,
            logger: logger
        )
        try await lapseOffers(c, logger: logger, demand: id, why: .otherAccepted, except: o.bankOrgId)
        // The application is decided: only the lender reads on (for the loan's life, as before).
        try await endAuthorisations(c, logger: logger, demand: id, why: "demand_closed", except: o.bankOrgId)
        try await event(c, logger: logger, demand: id, actor: actor, kind: "enterprise", from: .takenUp, to: .granted)
        return try await find(c, logger: logger, id: id, uscc: uscc)
    }
}
