import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The feature inputs of a whole city in one pass: per dataset (one partition each), one
/// `GROUP BY uscc` over the current records with the windows' counts and sums — the same
/// numbers `Features.inputs` reduces from one enterprise's history (a test holds the two to
/// each other). Used by the full rescore; the profile service keeps using histories.
public enum FeatureAggregation {
    public struct Row: Sendable, Equatable {
        public var inputs = FeatureInputs()
        /// Current records held (all datasets).
        public var records = 0
    }

    /// The windows as query parameters.
    struct Params {
        let d: String, s12: String, s24: String, s36: String, m: Int, y: Int
        init(_ day: Day) {
            let w = Features.Windows(day)
            d = day.description
            s12 = w.since12.description
            s24 = w.since24.description
            s36 = w.since36.description
            m = w.thisMonth.value
            y = day.year
        }
    }

    /// Month offset of a `period` field (1 = the month before the as-of month).
    static func offset(_ m: Int) -> String {
        "\(m) - (left(data->>'period', 4)::int * 12 + right(data->>'period', 2)::int - 1)"
    }

    /// Current upserts not suppressed by an upheld objection.
    static let current = "superseded_at IS NULL AND op = 'upsert' AND NOT suppressed"

    /// Inputs of every enterprise with current records, as of `day`, read in the caller's
    /// transaction (use REPEATABLE READ for one snapshot across the datasets). `progress` is
    /// called after each dataset.
    public static func all(
        _ c: PostgresConnection,
        logger: Logger,
        day: Day,
        policy: PenaltyPolicy = .fullWindow,
        progress: @Sendable (Dataset) -> Void = { _ in }
    ) async throws -> [String: Row] {
        try await some(Set(Dataset.allCases), c, logger: logger, day: day, policy: policy, progress: progress)
    }

    /// The two halves the full rescore runs side by side (about the same work each).
    public static let halves: [Set<Dataset>] = [
        [.utilityBill],
        [
            .taxFiling, .socialInsurance, .taxCreditRating, .contractPerformance, .enterpriseRegistry, .administrativeLicence,
            .administrativePenalty, .dishonestyListing,
        ],
    ]

    /// Combines the inputs of disjoint dataset groups (each field comes from one dataset).
    public static func merge(_ a: [String: Row], _ b: [String: Row]) -> [String: Row] {
        var out = a
        for (uscc, r) in b {
            guard var m = out[uscc] else {
                out[uscc] = r
                continue
            }
            let x = r.inputs
            m.records += r.records
            m.inputs.established = m.inputs.established ?? x.established
            m.inputs.status = m.inputs.status ?? x.status
            m.inputs.taxFilings += x.taxFilings
            m.inputs.taxDue12 += x.taxDue12
            m.inputs.taxOnTime12 += x.taxOnTime12
            m.inputs.taxPeriods12 += x.taxPeriods12
            m.inputs.taxPaid12 += x.taxPaid12
            m.inputs.taxPaidRecent6 += x.taxPaidRecent6
            m.inputs.taxPaidPrev6 += x.taxPaidPrev6
            m.inputs.taxUnpaid36 += x.taxUnpaid36
            m.inputs.taxGrade = m.inputs.taxGrade ?? x.taxGrade
            m.inputs.siRecords12 += x.siRecords12
            m.inputs.siHeadcount12 += x.siHeadcount12
            m.inputs.siRecordsRecent6 += x.siRecordsRecent6
            m.inputs.siHeadcountRecent6 += x.siHeadcountRecent6
            m.inputs.siRecordsPrev6 += x.siRecordsPrev6
            m.inputs.siHeadcountPrev6 += x.siHeadcountPrev6
            m.inputs.siArrearsMonths |= x.siArrearsMonths
            m.inputs.powerMilli.merge(x.powerMilli) { $0 + $1 }
            m.inputs.utilityBills += x.utilityBills
            m.inputs.billsDue12 += x.billsDue12
            m.inputs.billsLate12 += x.billsLate12
            m.inputs.utilityUnpaid36 += x.utilityUnpaid36
            m.inputs.contractsConcluded24 += x.contractsConcluded24
            m.inputs.contractsFulfilled24 += x.contractsFulfilled24
            m.inputs.contractBreaches24 += x.contractBreaches24
            m.inputs.seriousPenalties36 += x.seriousPenalties36
            m.inputs.otherPenalties36 += x.otherPenalties36
            m.inputs.listedNow = m.inputs.listedNow || x.listedNow
            m.inputs.listings36 += x.listings36
            m.inputs.validLicences += x.validLicences
            m.inputs.commitmentsKept36 += x.commitmentsKept36
            m.inputs.commitmentsBroken36 += x.commitmentsBroken36
            m.inputs.dataMonths |= x.dataMonths
            out[uscc] = m
        }
        return out
    }

    /// The inputs from some datasets only.
    public static func some(
        _ datasets: Set<Dataset>,
        _ c: PostgresConnection,
        logger: Logger,
        day: Day,
        policy: PenaltyPolicy = .fullWindow,
        progress: @Sendable (Dataset) -> Void = { _ in }
    ) async throws -> [String: Row] {
        let p = Params(day)
        var out: [String: Row] = [:]
        out.reserveCapacity(1 << 16)

        // Register.
        if datasets.contains(.enterpriseRegistry) {
            for try await (uscc, established, status) in try await c.query(
                """
                SELECT uscc, data->>'established_on', data->>'status' FROM record_version
                WHERE dataset = 'enterprise_registry' AND \(unescaped: current)
                """,
                logger: logger
            ).decode((String, String?, String?).self) {
                out[uscc, default: Row()].inputs.established = established.flatMap(Day.init)
                out[uscc, default: Row()].inputs.status = status
                out[uscc, default: Row()].records += 1
            }
            progress(.enterpriseRegistry)
        }

        if datasets.contains(.taxFiling) {
            // Tax returns.
            for try await (uscc, n, due12, onTime12, periods12, paid12, recent, prev, unpaid, months) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE due > \(p.s12)::text AND due <= \(p.d)::text)::int,
                    count(*) FILTER (WHERE due > \(p.s12)::text AND due <= \(p.d)::text AND filed <= due)::int,
                    count(*) FILTER (WHERE mo BETWEEN 1 AND 12)::int,
                    coalesce(sum(paid) FILTER (WHERE mo BETWEEN 1 AND 12), 0)::bigint,
                    coalesce(sum(paid) FILTER (WHERE mo BETWEEN 1 AND 6), 0)::bigint,
                    coalesce(sum(paid) FILTER (WHERE mo BETWEEN 7 AND 12), 0)::bigint,
                    coalesce(sum(payable - paid) FILTER (WHERE due > \(p.s36)::text AND due <= \(p.d)::text AND payable > paid), 0)::bigint,
                    coalesce(bit_or(CASE WHEN mo BETWEEN 1 AND 36 THEN 1::bigint << mo END), 0)
                FROM (SELECT uscc, (data->>'due_on') COLLATE "C" AS due, (data->>'filed_on') COLLATE "C" AS filed,
                             (data->>'tax_paid_fen')::bigint AS paid, (data->>'tax_payable_fen')::bigint AS payable,
                             \(unescaped: offset(p.m)) AS mo
                      FROM record_version WHERE dataset = 'tax_filing' AND \(unescaped: current) OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int, Int, Int, Int64, Int64, Int64, Int64, Int64).self) {
                var r = out[uscc] ?? Row()
                r.records += n
                r.inputs.taxFilings = n
                r.inputs.taxDue12 = due12
                r.inputs.taxOnTime12 = onTime12
                r.inputs.taxPeriods12 = periods12
                r.inputs.taxPaid12 = paid12
                r.inputs.taxPaidRecent6 = recent
                r.inputs.taxPaidPrev6 = prev
                r.inputs.taxUnpaid36 = unpaid
                r.inputs.dataMonths |= UInt64(bitPattern: months)
                out[uscc] = r
            }
            progress(.taxFiling)
        }

        if datasets.contains(.taxCreditRating) {
            // Taxpayer credit grades: the latest year up to the as-of year.
            for try await (uscc, n, grade) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    (array_agg(data->>'grade' ORDER BY (data->>'year')::int DESC, record_id DESC)
                        FILTER (WHERE (data->>'year')::int <= \(p.y)))[1]
                FROM record_version WHERE dataset = 'tax_credit_rating' AND \(unescaped: current)
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, String?).self) {
                out[uscc, default: Row()].records += n
                out[uscc, default: Row()].inputs.taxGrade = grade
            }
            progress(.taxCreditRating)
        }

        if datasets.contains(.socialInsurance) {
            // Social insurance.
            for try await (uscc, n, n12, h12, nRecent, hRecent, nPrev, hPrev, arrears, months) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE mo BETWEEN 1 AND 12)::int,
                    coalesce(sum(h) FILTER (WHERE mo BETWEEN 1 AND 12), 0)::bigint,
                    count(*) FILTER (WHERE mo BETWEEN 1 AND 6)::int,
                    coalesce(sum(h) FILTER (WHERE mo BETWEEN 1 AND 6), 0)::bigint,
                    count(*) FILTER (WHERE mo BETWEEN 7 AND 12)::int,
                    coalesce(sum(h) FILTER (WHERE mo BETWEEN 7 AND 12), 0)::bigint,
                    coalesce(bit_or(CASE WHEN mo BETWEEN 1 AND 12 AND arrears THEN 1::bigint << mo END), 0),
                    coalesce(bit_or(CASE WHEN mo BETWEEN 1 AND 36 THEN 1::bigint << mo END), 0)
                FROM (SELECT uscc, (data->>'insured_headcount')::bigint AS h, (data->>'in_arrears')::boolean AS arrears,
                             \(unescaped: offset(p.m)) AS mo
                      FROM record_version WHERE dataset = 'social_insurance' AND \(unescaped: current) OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int, Int64, Int, Int64, Int, Int64, Int64, Int64).self) {
                var r = out[uscc] ?? Row()
                r.records += n
                r.inputs.siRecords12 = n12
                r.inputs.siHeadcount12 = h12
                r.inputs.siRecordsRecent6 = nRecent
                r.inputs.siHeadcountRecent6 = hRecent
                r.inputs.siRecordsPrev6 = nPrev
                r.inputs.siHeadcountPrev6 = hPrev
                r.inputs.siArrearsMonths = UInt64(bitPattern: arrears)
                r.inputs.dataMonths |= UInt64(bitPattern: months)
                out[uscc] = r
            }
            progress(.socialInsurance)
        }

        if datasets.contains(.utilityBill) {
            // Utility bills; electricity per month offset 1…12 (−1: no bill that month).
            let powerColumns = (1...12).map { "coalesce(sum(pw) FILTER (WHERE elec AND mo = \($0)), -1)::bigint" }.joined(separator: ", ")
            for try await (uscc, n, due12, late12, unpaid, power, months) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE due > \(p.s12)::text AND due <= \(p.d)::text)::int,
                    count(*) FILTER (WHERE due > \(p.s12)::text AND due <= \(p.d)::text AND NOT coalesce(paidon <= due AND paid >= billed, false))::int,
                    coalesce(sum(billed - paid) FILTER (WHERE due > \(p.s36)::text AND due <= \(p.d)::text AND billed > paid), 0)::bigint,
                    ARRAY[\(unescaped: powerColumns)],
                    coalesce(bit_or(CASE WHEN mo BETWEEN 1 AND 36 THEN 1::bigint << mo END), 0)
                FROM (SELECT uscc, (data->>'due_on') COLLATE "C" AS due, (data->>'paid_on') COLLATE "C" AS paidon,
                             (data->>'amount_paid_fen')::bigint AS paid, (data->>'amount_billed_fen')::bigint AS billed,
                             data->>'utility' = 'electricity' AS elec,
                             trunc((data->>'consumption')::numeric * 1000)::bigint AS pw,
                             \(unescaped: offset(p.m)) AS mo
                      FROM record_version WHERE dataset = 'utility_bill' AND \(unescaped: current) OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int, Int, Int64, [Int64], Int64).self) {
                var r = out[uscc] ?? Row()
                r.records += n
                r.inputs.utilityBills = n
                r.inputs.billsDue12 = due12
                r.inputs.billsLate12 = late12
                r.inputs.utilityUnpaid36 = unpaid
                for (k, v) in power.enumerated() where v >= 0 { r.inputs.powerMilli[k + 1] = v }
                r.inputs.dataMonths |= UInt64(bitPattern: months)
                out[uscc] = r
            }
            progress(.utilityBill)
        }

        if datasets.contains(.contractPerformance) {
            // Contracts signed in the last 24 months.
            for try await (uscc, n, concluded, fulfilled, breaches) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE recent AND status IN ('fulfilled', 'breached', 'disputed', 'overdue', 'terminated'))::int,
                    count(*) FILTER (WHERE recent AND status = 'fulfilled')::int,
                    count(*) FILTER (WHERE recent AND status IN ('breached', 'disputed'))::int
                FROM (SELECT uscc, data->>'status' AS status,
                             (data->>'signed_on') COLLATE "C" > \(p.s24)::text AND (data->>'signed_on') COLLATE "C" <= \(p.d)::text AS recent
                      FROM record_version WHERE dataset = 'contract_performance' AND \(unescaped: current) OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int, Int, Int).self) {
                var r = out[uscc] ?? Row()
                r.records += n
                r.inputs.contractsConcluded24 = concluded
                r.inputs.contractsFulfilled24 = fulfilled
                r.inputs.contractBreaches24 = breaches
                out[uscc] = r
            }
            progress(.contractPerformance)
        }

        if datasets.contains(.administrativeLicence) {
            // Licences valid on the day.
            for try await (uscc, n, valid) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE (data->>'decided_on') COLLATE "C" <= \(p.d)::text
                                       AND (data->>'valid_until' IS NULL OR (data->>'valid_until') COLLATE "C" >= \(p.d)::text))::int
                FROM record_version WHERE dataset = 'administrative_licence' AND \(unescaped: current)
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int).self) {
                out[uscc, default: Row()].records += n
                out[uscc, default: Row()].inputs.validLicences = valid
            }
            progress(.administrativeLicence)
        }

        if datasets.contains(.administrativePenalty) {
            // Penalties decided in the last 36 months that still count under the card's policy
            // (`PenaltyPolicy.counts`): a repaired one until its repair plus the months the
            // policy says, an unpublished one until its publicity end plus those months.
            let rm = policy.repairedCountsMonths
            let um = policy.unpublishedCountsMonths
            for try await (uscc, n, serious, other) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    count(*) FILTER (WHERE recent AND severity = 'serious')::int,
                    count(*) FILTER (WHERE recent AND severity <> 'serious')::int
                FROM (SELECT v.uscc, v.data->>'severity' AS severity,
                             (v.data->>'decided_on') COLLATE "C" > \(p.s36)::text AND (v.data->>'decided_on') COLLATE "C" <= \(p.d)::text
                             AND (\(rm)::int IS NULL OR r.repaired_on IS NULL OR r.repaired_on > \(p.d)::date
                                  OR \(p.d)::date < r.repaired_on + make_interval(months => \(rm)::int))
                             AND (\(um)::int IS NULL
                                  OR \(p.d)::date <= (v.data->>'publicity_ends_on')::date + make_interval(months => \(um)::int)) AS recent
                      FROM record_version v
                      LEFT JOIN repair_application r ON r.record_id = v.record_id AND r.state = 'approved'
                      WHERE v.dataset = 'administrative_penalty' AND v.superseded_at IS NULL AND v.op = 'upsert' AND NOT v.suppressed
                      OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int, Int).self) {
                out[uscc, default: Row()].records += n
                out[uscc, default: Row()].inputs.seriousPenalties36 = serious
                out[uscc, default: Row()].inputs.otherPenalties36 = other
            }
            progress(.administrativePenalty)

            // Commitments begun in the window, by their stored state (the rescore evaluates the
            // running ones first, so it is the state `Commitments.evaluate` gives on the day).
            // Counted for enterprises with records only: a business without records gets no profile.
            for try await (uscc, kept, broken) in try await c.query(
                """
                SELECT uscc, count(*) FILTER (WHERE state = 'kept')::int, count(*) FILTER (WHERE state = 'broken')::int
                FROM commitment WHERE starts_on > \(p.s36)::date AND starts_on <= \(p.d)::date
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Int).self) where out[uscc] != nil {
                out[uscc]?.inputs.commitmentsKept36 = kept
                out[uscc]?.inputs.commitmentsBroken36 = broken
            }
        }

        if datasets.contains(.dishonestyListing) {
            // Dishonesty listings.
            for try await (uscc, n, now, listings) in try await c.query(
                """
                SELECT uscc, count(*)::int,
                    coalesce(bool_or(listed <= \(p.d)::text AND (removed IS NULL OR removed > \(p.d)::text)), false),
                    count(*) FILTER (WHERE listed <= \(p.d)::text AND (
                        (listed > \(p.s36)::text) OR removed IS NULL OR (removed > \(p.s36)::text AND removed <= \(p.d)::text)))::int
                FROM (SELECT uscc, (data->>'listed_on') COLLATE "C" AS listed, (data->>'removed_on') COLLATE "C" AS removed
                      FROM record_version WHERE dataset = 'dishonesty_listing' AND \(unescaped: current) OFFSET 0) x
                GROUP BY uscc
                """,
                logger: logger
            ).decode((String, Int, Bool, Int).self) {
                out[uscc, default: Row()].records += n
                out[uscc, default: Row()].inputs.listedNow = now
                out[uscc, default: Row()].inputs.listings36 = listings
            }
            progress(.dishonestyListing)
        }
        return out
    }
}
