import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Objections (异议) to a business's own records: raised, resolved by an operator within 20
/// days, upheld (the record suppressed locally until the provider corrects it, everything that
/// used it recomputed, the banks that looked recently told) or rejected with a reason.
public enum Objections {
    /// Days an operator has to resolve an objection.
    public static let deadlineDays = 20
    /// Banks that read the business's profile or report within this many days hear of a correction.
    public static let noticeDays = 90
    public static let maxReason = 500
    public static let maxEvidence = 2_000
    public static let listLimit = 500

    public struct Objection: Sendable, Encodable {
        public let id: UUID
        public let uscc: String
        public let dataset: String
        public let recordId: String
        public let version: Int64
        public let reason: String
        public let evidence: String?
        public let state: String
        public let createdAt: Date
        public let dueOn: String
        public let overdue: Bool
        public let resolvedAt: Date?
        public let resolution: String?
        /// The provider that sent the record: where the objection is handed over for checking.
        public var provider: String { Dataset(rawValue: dataset)?.provider.rawValue ?? "" }

        enum CodingKeys: String, CodingKey {
            case id, uscc, dataset, recordId, version, reason, evidence, state, createdAt, dueOn, overdue, resolvedAt, resolution, provider
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(id, forKey: .id)
            try c.encode(uscc, forKey: .uscc)
            try c.encode(dataset, forKey: .dataset)
            try c.encode(recordId, forKey: .recordId)
            try c.encode(version, forKey: .version)
            try c.encode(reason, forKey: .reason)
            try c.encodeIfPresent(evidence, forKey: .evidence)
            try c.encode(state, forKey: .state)
            try c.encode(createdAt, forKey: .createdAt)
            try c.encode(dueOn, forKey: .dueOn)
            try c.encode(overdue, forKey: .overdue)
            try c.encodeIfPresent(resolvedAt, forKey: .resolvedAt)
            try c.encodeIfPresent(resolution, forKey: .resolution)
            try c.encode(provider, forKey: .provider)
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case noSuchRecord(String, String)
        case alreadyOpen
        case notFound(UUID)
        case state(String)
        public var description: String {
            switch self {
            case .noSuchRecord(let d, let r): "no current record \(r) in \(d) of yours"
            case .alreadyOpen: "this record already has an open objection"
            case .notFound(let id): "no objection \(id)"
            case .state(let s): "the objection is \(s) already"
            }
        }
        public var zh: String {
            switch self {
            case .noSuchRecord: "没有找到本企业的这条记录。"
            case .alreadyOpen: "这条记录已有待处理的异议。"
            case .notFound: "没有找到这项异议。"
            case .state: "这项异议已经处理。"
            }
        }
    }

    static let columns = """
        id, uscc, dataset, record_id, version, reason, evidence, state, created_at, due_on::text,
        state = 'open' AND due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date, resolved_at, resolution
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Objection] {
        var out: [Objection] = []
        for try await (id, uscc, ds, rid, version, reason, evidence, state, created, due, overdue, resolved, resolution) in rows.decode(
            (UUID, String, String, String, Int64, String, String?, String, Date, String, Bool, Date?, String?).self
        ) {
            out.append(
                Objection(
                    id: id,
                    uscc: uscc,
                    dataset: ds,
                    recordId: rid,
                    version: version,
                    reason: reason,
                    evidence: evidence,
                    state: state,
                    createdAt: created,
                    dueOn: due,
                    overdue: overdue,
                    resolvedAt: resolved,
                    resolution: resolution
                )
            )
        }
        return out
    }

    /// Raises an objection to one of the business's own current records.
    public static func raise(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        org: UUID,
        dataset: Dataset,
        recordId: String,
        reason: String,
        evidence: String?,
        today: Day
    ) async throws -> Objection {
        let current = try await c.query(
            """
            SELECT version FROM record_version WHERE dataset = \(dataset.rawValue) AND record_id = \(recordId) AND uscc = \(uscc)
              AND superseded_at IS NULL AND op = 'upsert'
            """,
            logger: logger
        ).collect()
        guard let version = try current.first?.decode(Int64.self) else { throw Failure.noSuchRecord(dataset.rawValue, recordId) }
        let rows = try await c.query(
            """
            INSERT INTO objection (uscc, enterprise_org_id, dataset, record_id, version, reason, evidence, due_on)
            VALUES (\(uscc), \(org), \(dataset.rawValue), \(recordId), \(version), \(reason), \(evidence),
                    \(today.addingDays(deadlineDays).description)::date)
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let o = try await decode(rows).first else { throw Failure.alreadyOpen }
        return o
    }

    public static func mine(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Objection] {
        try await OperatorQueue.mine(c, logger: logger, table: "objection", columns: columns, uscc: uscc, limit: listLimit, decode: decode)
    }

    /// For operators: open ones first, oldest deadline first; with a provider, only the objections
    /// to its records — the list an operator hands over to it for checking.
    public static func all(
        _ c: PostgresConnection,
        logger: Logger,
        state: String?,
        provider: ProviderName? = nil
    ) async throws -> [Objection] {
        guard let provider else {
            return try await OperatorQueue.all(
                c,
                logger: logger,
                table: "objection",
                columns: columns,
                state: state,
                limit: listLimit,
                decode: decode
            )
        }
        return try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM objection
                WHERE (\(state)::text IS NULL OR state = \(state)::text) AND dataset = ANY(\(provider.datasets.map(\.rawValue))::text[])
                ORDER BY state <> 'open', due_on, created_at LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
    }

    /// Upholds: the disputed version is suppressed (a newer version from the provider is not),
    /// the business's profile is recomputed, and each bank that read its profile or report in
    /// the last 90 days gets a `record_corrected` event.
    public static func uphold(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        by operator: UUID,
        resolution: String?
    ) async throws -> Objection {
        let o = try await resolve(c, logger: logger, id: id, state: "upheld", by: `operator`, resolution: resolution)
        try await c.query(
            "UPDATE record_version SET suppressed = true WHERE dataset = \(o.dataset) AND record_id = \(o.recordId) AND version = \(o.version)",
            logger: logger
        )
        try await c.query("INSERT INTO profile_queue (uscc) VALUES (\(o.uscc)) ON CONFLICT DO NOTHING", logger: logger)
        for bank in try await recentReaders(c, logger: logger, uscc: o.uscc) {
            try await Webhooks.emit(
                c,
                logger: logger,
                bank: bank,
                uscc: o.uscc,
                type: "record.corrected",
                payload: [
                    "uscc": .string(o.uscc), "dataset": .string(o.dataset), "record_id": .string(o.recordId),
                    "version": .number(String(o.version)), "objection_id": .string(o.id.uuidString.lowercased()),
                ]
            )
        }
        return o
    }

    /// Banks that read the business's profile, records or report in the last `noticeDays` days.
    public static func recentReaders(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [UUID] {
        try await c.query(
            """
            SELECT DISTINCT actor_org_id FROM audit_log
            WHERE subject_uscc = \(uscc) AND actor_kind = 'bank' AND result = 'allowed' AND actor_org_id IS NOT NULL
              AND action IN ('profile.read', 'report.create', 'report.read', 'records.read')
              AND occurred_at > now() - make_interval(days => \(noticeDays)::int)
            """,
            logger: logger
        ).collect().map { try $0.decode(UUID.self) }
    }

    /// Could not be verified (经核查仍不能确认): the record stays and is used as before, marked
    /// `unverified` wherever it is shown, with the operator's account of the check.
    public static func markUnverifiable(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        by operator: UUID,
        account: String
    ) async throws -> Objection {
        try await resolve(c, logger: logger, id: id, state: "unverifiable", by: `operator`, resolution: account)
    }

    public static func reject(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        by operator: UUID,
        reason: String
    ) async throws -> Objection {
        try await resolve(c, logger: logger, id: id, state: "rejected", by: `operator`, resolution: reason)
    }

    static func resolve(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        state: String,
        by: UUID,
        resolution: String?
    ) async throws -> Objection {
        let rows = try await c.query(
            """
            UPDATE objection SET state = \(state), resolved_at = now(), resolved_by = \(by), resolution = \(resolution)
            WHERE id = \(id) AND state = 'open'
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        if let o = try await decode(rows).first {
            // The business is told the answer.
            try await Messages.emit(
                c,
                logger: logger,
                uscc: o.uscc,
                kind: "objection.answered",
                data: [
                    "state": .string(o.state), "dataset": .string(o.dataset), "record_id": .string(o.recordId),
                    "resolution": o.resolution.map(JSONValue.string) ?? .null,
                ]
            )
            return o
        }
        let existing = try await c.query("SELECT state FROM objection WHERE id = \(id)", logger: logger).collect()
        guard let s = try existing.first?.decode(String.self) else { throw Failure.notFound(id) }
        throw Failure.state(s)
    }
}
