import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What a lender reports of a disbursed loan, month by month (the regulators' KS, AUC and
/// default rates are computed from these).
extension Demands {

    public static let outcomeStatuses = ["current", "overdue_30", "overdue_90", "defaulted", "repaid"]

    public struct Outcome: Sendable, Encodable {
        public let month: String
        public let status: String
        public let reportedAt: Date
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

}
