import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The market's tables beyond the funnel: referral after declines, first loans claimed and
/// verified, and the price of credit. Read from stat_demand like the funnel, with the same
/// filters, rounding and suppression.
extension Stats {
    /// Demands declined by a bank, and what became of them: served by another bank after a
    /// decline, declined twice or more, declined for good.
    public static func referrals(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable {
        let measures = """
            count(DISTINCT enterprise)::int, count(*) FILTER (WHERE declines >= 1),
            count(*) FILTER (WHERE declines >= 1 AND granted), count(*) FILTER (WHERE declines >= 1 AND disbursed),
            count(*) FILTER (WHERE declines >= 2), count(*) FILTER (WHERE declined)
            """
        func row(_ key: String, _ r: PostgresRow, offset: Int) throws -> StatTable.Row {
            let cells = r.makeRandomAccess()
            func n(_ k: Int) throws -> Int64 { Rounding.count(try cells[offset + k].decode(Int64.self)) }
            let once = try n(1)
            let served = try n(2)
            return StatTable.Row(
                key: key,
                values: [.int(once), .int(served), .int(try n(3)), .int(try n(4)), .int(try n(5)), StatTable.ratio(served, once)],
                enterprises: try cells[offset].decode(Int.self)
            )
        }
        let (rows, total) = try await grouped(c, logger: logger, by: by, measures: measures, filter: filter, row: row)
        var t = StatTable(
            name: "referrals",
            by: by.rawValue,
            columns: [
                .init("declined_once", .count), .init("served_after_decline", .count), .init("disbursed_after_decline", .count),
                .init("declined_twice", .count), .init("declined_for_good", .count), .init("served_share", .ratio),
            ],
            rows: rows,
            total: total,
            notes: [
                "declined_once: demands at least one bank declined; served_after_decline: of those, an offer from another bank accepted",
                "declined_twice: demands two or more banks declined; declined_for_good: no bank left to take the demand up, or the business chose no referral",
                "served_share: served_after_decline over declined_once", Rounding.note,
            ]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// First loans as the business claimed them and as the service verified them (the lender's
    /// attestation from its own credit check, and no loan disbursed through the service before).
    public static func firstLoans(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable
    {
        let measures = """
            count(DISTINCT enterprise)::int, count(*) FILTER (WHERE first_loan AND granted), count(*) FILTER (WHERE first_loan_verified),
            count(*) FILTER (WHERE first_loan AND first_loan_verified), count(*) FILTER (WHERE first_loan AND disbursed),
            count(*) FILTER (WHERE first_loan_verified AND disbursed)
            """
        func row(_ key: String, _ r: PostgresRow, offset: Int) throws -> StatTable.Row {
            let cells = r.makeRandomAccess()
            func n(_ k: Int) throws -> Int64 { Rounding.count(try cells[offset + k].decode(Int64.self)) }
            let claimed = try n(1)
            let both = try n(3)
            return StatTable.Row(
                key: key,
                values: [.int(claimed), .int(try n(2)), .int(both), .int(try n(4)), .int(try n(5)), StatTable.ratio(both, claimed)],
                enterprises: try cells[offset].decode(Int.self)
            )
        }
        let (rows, total) = try await grouped(c, logger: logger, by: by, measures: measures, filter: filter, row: row)
        var t = StatTable(
            name: "first_loans",
            by: by.rawValue,
            columns: [
                .init("claimed_granted", .count), .init("verified_granted", .count), .init("claimed_and_verified", .count),
                .init("claimed_disbursed", .count), .init("verified_disbursed", .count), .init("verified_share", .ratio),
            ],
            rows: rows,
            total: total,
            notes: [
                "claimed: the business said it is its first loan; verified: the lending bank attested it from its own credit check when it made its offer, and no loan had been disbursed to the business through this service before",
                "granted: an offer accepted (including loans since disbursed); verified_share: claimed_and_verified over claimed_granted",
                Rounding.note,
            ]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }

    /// The price of credit: the yearly rate of offers accepted and of loans disbursed (mean and
    /// median, as a fraction: 0.0435 is 4.35%), and the share of disbursed loans that are credit
    /// (unsecured) loans.
    public static func rates(_ c: PostgresConnection, logger: Logger, by: StatDimension, filter: StatFilter) async throws -> StatTable {
        let measures = """
            count(DISTINCT enterprise)::int,
            count(*) FILTER (WHERE granted),
            (avg(rate_bp) FILTER (WHERE granted) / 10000)::numeric(10,4)::text,
            ((percentile_cont(0.5) WITHIN GROUP (ORDER BY rate_bp) FILTER (WHERE granted)) / 10000)::numeric(10,4)::text,
            count(*) FILTER (WHERE disbursed),
            (avg(rate_bp) FILTER (WHERE disbursed) / 10000)::numeric(10,4)::text,
            ((percentile_cont(0.5) WITHIN GROUP (ORDER BY rate_bp) FILTER (WHERE disbursed)) / 10000)::numeric(10,4)::text,
            count(*) FILTER (WHERE disbursed AND product_kind = 'credit'),
            count(rate_bp) FILTER (WHERE granted), count(rate_bp) FILTER (WHERE disbursed)
            """
        func row(_ key: String, _ r: PostgresRow, offset: Int) throws -> StatTable.Row {
            let cells = r.makeRandomAccess()
            func raw(_ k: Int) throws -> Int64 { try cells[offset + k].decode(Int64.self) }
            // A mean or median over few loans says little and comes close to naming them: given
            // only over enough loans with a recorded rate (every offer accepted has one).
            func rate(_ k: Int, over count: Int) throws -> StatTable.Value {
                guard try raw(count) >= Rounding.minimumValues else { return .null }
                return try cells[offset + k].decode(String?.self).map(StatTable.Value.decimal) ?? .null
            }
            let disbursed = Rounding.count(try raw(4))
            let credit = Rounding.count(try raw(7))
            return StatTable.Row(
                key: key,
                values: [
                    .int(Rounding.count(try raw(1))), try rate(2, over: 8), try rate(3, over: 8),
                    .int(disbursed), try rate(5, over: 9), try rate(6, over: 9),
                    .int(credit), StatTable.ratio(credit, disbursed),
                ],
                enterprises: try cells[offset].decode(Int.self)
            )
        }
        let (rows, total) = try await grouped(c, logger: logger, by: by, measures: measures, filter: filter, row: row)
        var t = StatTable(
            name: "rates",
            by: by.rawValue,
            columns: [
                .init("granted", .count), .init("granted_rate_mean", .rate), .init("granted_rate_median", .rate),
                .init("disbursed", .count), .init("disbursed_rate_mean", .rate), .init("disbursed_rate_median", .rate),
                .init("credit_loans_disbursed", .count), .init("credit_share", .ratio),
            ],
            rows: rows,
            total: total,
            notes: [
                "rates are yearly, as fractions (0.0435 is 4.35%): the accepted offer's rate, for offers accepted (granted) and for loans disbursed",
                "credit_share: disbursed loans under credit (unsecured) products over all disbursed loans",
                "a mean or median is given only over at least \(Rounding.minimumValues) loans", Rounding.note,
            ]
        )
        try await stamp(&t, c, logger: logger, "demands")
        t.suppress()
        return t
    }
}
