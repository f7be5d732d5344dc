import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The records behind an enterprise's profile, as the enterprise and the banks it authorised
/// read them: the current version of each (upserts only), encrypted ID fields left out.
public enum Records {
    public struct Current: Sendable {
        public let dataset: String
        public let recordId: String
        public let version: Int64
        public let updatedAt: Date
        public let receivedAt: Date
        /// `current`, `disputed` (an open objection) or `suppressed` (an upheld objection: left
        /// out of the profile until the provider corrects it).
        public let status: String
        /// The record's fields as JSON text.
        public let dataJSON: String?
        /// The business's own statement on it (说明), while live.
        public var statement: String? = nil
    }

    /// A negative record (alias `v`) whose behaviour ended more than `Retention.years` before
    /// `$day` — no longer provided to anyone but its business (`Retention`, as `History.retained`
    /// reads it: the same dates, kind by kind).
    /// `day`: a date literal (`'2026-12-01'`, from a `Day`: digits and dashes only).
    static func agedOut(_ day: String) -> String {
        let end = "\(day)::date - make_interval(years => \(Retention.years))"
        return """
            (CASE v.dataset
                WHEN 'administrative_penalty' THEN (v.data->>'decided_on')::date < \(end)
                WHEN 'dishonesty_listing' THEN (v.data->>'removed_on')::date < \(end)
                WHEN 'tax_filing' THEN (v.data->>'filed_on')::date > (v.data->>'due_on')::date
                    AND (v.data->>'tax_paid_fen')::bigint >= (v.data->>'tax_payable_fen')::bigint AND (v.data->>'filed_on')::date < \(end)
                WHEN 'utility_bill' THEN (v.data->>'paid_on')::date > (v.data->>'due_on')::date
                    AND (v.data->>'amount_paid_fen')::bigint >= (v.data->>'amount_billed_fen')::bigint AND (v.data->>'paid_on')::date < \(end)
                WHEN 'contract_performance' THEN v.data->>'status' IN ('breached', 'overdue')
                    AND coalesce((v.data->>'settled_on')::date, (v.data->>'due_on')::date) < \(end)
                ELSE false END) IS TRUE
            """
    }

    /// One page in `(dataset, record_id)` order, after `after` (`dataset/record_id`). With
    /// `retainedOn` (a bank's read), negative records past their five years are left out.
    public static func current(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        dataset: Dataset?,
        after: String?,
        limit: Int,
        retainedOn: Day? = nil
    ) async throws -> [Current] {
        let afterParts = after.map { $0.split(separator: "/", maxSplits: 1).map(String.init) }
        let afterDataset = afterParts?.first ?? ""
        let afterId = afterParts.flatMap { $0.count > 1 ? $0[1] : nil } ?? ""
        var out: [Current] = []
        for try await (ds, id, version, updated, received, status, data, statement) in try await c.query(
            """
            SELECT dataset, record_id, version, updated_at, received_at,
                   CASE WHEN v.suppressed THEN 'suppressed'
                        WHEN EXISTS (SELECT 1 FROM objection o WHERE o.dataset = v.dataset AND o.record_id = v.record_id AND o.state = 'open')
                        THEN 'disputed'
                        WHEN EXISTS (SELECT 1 FROM objection o WHERE o.dataset = v.dataset AND o.record_id = v.record_id
                                     AND o.version = v.version AND o.state = 'unverifiable')
                        THEN 'unverified' ELSE 'current' END,
                   (data - 'legal_rep_id_enc' - 'legal_rep_id_hash')::text,
                   (SELECT s.text FROM record_statement s WHERE s.dataset = v.dataset AND s.record_id = v.record_id
                                                          AND s.withdrawn_at IS NULL)
            FROM record_version v
            WHERE uscc = \(uscc) AND (\(dataset?.rawValue)::text IS NULL OR dataset = \(dataset?.rawValue))
              AND superseded_at IS NULL AND op = 'upsert' AND (dataset, record_id) > (\(afterDataset)::text COLLATE "C", \(afterId)::text COLLATE "C")
              AND \(unescaped: retainedOn.map { "NOT " + agedOut("'\($0.description)'") } ?? "true")
            ORDER BY dataset, record_id LIMIT \(limit)
            """,
            logger: logger
        ).decode((String, String, Int64, Date, Date, String, String?, String?).self) {
            out.append(
                Current(
                    dataset: ds,
                    recordId: id,
                    version: version,
                    updatedAt: updated,
                    receivedAt: received,
                    status: status,
                    dataJSON: data,
                    statement: statement
                )
            )
        }
        return out
    }
}
