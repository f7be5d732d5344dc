import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Credit repair (信用修复) of administrative penalties: early end of publication once the
/// minimum has passed, on evidence of correction, approved by an operator within 3 working days.
public enum Repairs {
    public static let decisionWorkingDays = 3
    public static let corrections: Set<String> = ["fine_paid", "commitment_made", "training_done"]
    /// The name of the person signing the credit commitment for the business, in characters.
    public static let maxSignerName = 100
    public static let maxEvidence = 2_000
    public static let listLimit = 500

    public struct Application: Sendable, Encodable {
        public let id: UUID
        public let uscc: String
        public let recordId: String
        public let corrections: [String]
        public let evidence: String
        public let state: String
        public let createdAt: Date
        public let dueOn: String
        public let overdue: Bool
        public let reason: String?
        public let repairedOn: String?
        /// The credit commitment signed with it (信用承诺书): which text, exactly as signed, by whom, when.
        public var commitmentId: String? = nil
        public var commitmentText: String? = nil
        public var signedBy: String? = nil
        public var signedAt: Date? = nil
    }

    public enum Failure: Error, CustomStringConvertible {
        case noSuchPenalty(String)
        case tooEarly(Day)
        case notPublished
        case alreadyOpen
        case notFound(UUID)
        case state(String)
        public var description: String {
            switch self {
            case .noSuchPenalty(let r): "no current penalty \(r) of yours"
            case .tooEarly(let d): "publication cannot end before its minimum: apply from \(d)"
            case .notPublished: "this penalty is not published any more"
            case .alreadyOpen: "this penalty already has an open application, or is repaired"
            case .notFound(let id): "no repair application \(id)"
            case .state(let s): "the application is \(s) already"
            }
        }
        public var zh: String {
            switch self {
            case .noSuchPenalty: "没有找到本企业的这项行政处罚。"
            case .tooEarly(let d): "公示期未满最短期限，\(d) 起可以申请。"
            case .notPublished: "这项处罚已不再公示，无需修复。"
            case .alreadyOpen: "这项处罚已有处理中的修复申请，或已经修复。"
            case .notFound: "没有找到这项修复申请。"
            case .state: "这项修复申请已经处理。"
            }
        }
    }

    static let columns = """
        id, uscc, record_id, corrections, evidence, state, created_at, due_on::text,
        state = 'open' AND due_on < (now() AT TIME ZONE 'Asia/Shanghai')::date, reason, repaired_on::text,
        commitment_id, commitment_text, signed_by, signed_at
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Application] {
        var out: [Application] = []
        for try await (id, uscc, rid, corrections, evidence, state, created, due, overdue, reason, repaired, cid, ctext, by, at)
            in rows.decode(
                (UUID, String, String, [String], String, String, Date, String, Bool, String?, String?, String?, String?, String?, Date?)
                    .self
            )
        {
            out.append(
                Application(
                    id: id,
                    uscc: uscc,
                    recordId: rid,
                    corrections: corrections,
                    evidence: evidence,
                    state: state,
                    createdAt: created,
                    dueOn: due,
                    overdue: overdue,
                    reason: reason,
                    repairedOn: repaired,
                    commitmentId: cid,
                    commitmentText: ctext,
                    signedBy: by,
                    signedAt: at
                )
            )
        }
        return out
    }

    /// The days publication of each of these penalties stopped by an approved repair.
    public static func repairedOn(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [String: Day] {
        var out: [String: Day] = [:]
        for try await (rid, day) in try await c.query(
            "SELECT record_id, repaired_on::text FROM repair_application WHERE uscc = \(uscc) AND state = 'approved'",
            logger: logger
        ).decode((String, String).self) { out[rid] = Day(day) }
        return out
    }

    /// Whether a penalty may be repaired today: the one rule `apply` enforces and the check-up
    /// shows (nil: it may). `pending`: an application for it is open.
    public static func refusal(_ p: History.Penalty, today: Day, pending: Bool) -> Failure? {
        let w = p.window
        if p.repairedOn != nil || pending { return .alreadyOpen }
        guard Publicity.isPublished(w, decidedOn: p.decidedOn, repairedOn: nil, today: today) else { return .notPublished }
        guard today >= w.repairableFrom else { return .tooEarly(w.repairableFrom) }
        return nil
    }

    /// The business's penalties with an open repair application.
    public static func pending(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> Set<String> {
        var out: Set<String> = []
        for try await rid in try await c.query(
            "SELECT record_id FROM repair_application WHERE uscc = \(uscc) AND state = 'open'",
            logger: logger
        ).decode(String.self) { out.insert(rid) }
        return out
    }

    public static func apply(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        org: UUID,
        recordId: String,
        corrections: [String],
        evidence: String,
        commitment: RepairCommitment,
        signedBy: String,
        today: Day
    ) async throws -> Application {
        let history = try await ProfileStore.histories(c, usccs: [uscc], upTo: nil, logger: logger)[uscc]
        guard let p = history?.penalties.first(where: { $0.id == recordId }) else { throw Failure.noSuchPenalty(recordId) }
        // An open or approved application is refused by the insert below, atomically; the rest here.
        switch refusal(p, today: today, pending: false) {
        case nil, .alreadyOpen?: break
        case let refused?: throw refused
        }
        let rows = try await c.query(
            """
            INSERT INTO repair_application (uscc, enterprise_org_id, record_id, corrections, evidence, due_on,
                                            commitment_id, commitment_text, signed_by, signed_at)
            SELECT \(uscc), \(org), \(recordId), \(corrections)::text[], \(evidence), \(today.addingWorkingDays(decisionWorkingDays).description)::date,
                   \(commitment.id), \(commitment.zh), \(signedBy), now()
            WHERE NOT EXISTS (SELECT 1 FROM repair_application WHERE record_id = \(recordId) AND state IN ('open', 'approved'))
            ON CONFLICT DO NOTHING
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let a = try await decode(rows).first else { throw Failure.alreadyOpen }
        return a
    }

    public static func mine(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Application] {
        try await OperatorQueue.mine(
            c,
            logger: logger,
            table: "repair_application",
            columns: columns,
            uscc: uscc,
            limit: listLimit,
            decode: decode
        )
    }

    /// For operators: open ones first, oldest deadline first.
    public static func all(_ c: PostgresConnection, logger: Logger, state: String?) async throws -> [Application] {
        try await OperatorQueue.all(
            c,
            logger: logger,
            table: "repair_application",
            columns: columns,
            state: state,
            limit: listLimit,
            decode: decode
        )
    }

    /// Approves: publication stops today; the profile is recomputed; banks that read the
    /// business in the last 90 days get `record.repaired`.
    public static func approve(_ c: PostgresConnection, logger: Logger, id: UUID, by: UUID, today: Day) async throws -> Application {
        let a = try await resolve(c, logger: logger, id: id, state: "approved", by: by, reason: nil, repairedOn: today)
        try await c.query("INSERT INTO profile_queue (uscc) VALUES (\(a.uscc)) ON CONFLICT DO NOTHING", logger: logger)
        for bank in try await Objections.recentReaders(c, logger: logger, uscc: a.uscc) {
            try await Webhooks.emit(
                c,
                logger: logger,
                bank: bank,
                uscc: a.uscc,
                type: "record.repaired",
                payload: [
                    "uscc": .string(a.uscc), "dataset": "administrative_penalty", "record_id": .string(a.recordId),
                    "repaired_on": .string(today.description),
                ]
            )
        }
        return a
    }

    public static func reject(_ c: PostgresConnection, logger: Logger, id: UUID, by: UUID, reason: String) async throws -> Application {
        try await resolve(c, logger: logger, id: id, state: "rejected", by: by, reason: reason, repairedOn: nil)
    }

    static func resolve(
        _ c: PostgresConnection,
        logger: Logger,
        id: UUID,
        state: String,
        by: UUID,
        reason: String?,
        repairedOn: Day?
    ) async throws -> Application {
        let rows = try await c.query(
            """
            UPDATE repair_application SET state = \(state), resolved_at = now(), resolved_by = \(by), reason = \(reason),
                repaired_on = \(repairedOn?.description)::date
            WHERE id = \(id) AND state = 'open'
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        if let a = try await decode(rows).first {
            // The business knows a penalty by its decision number, not by the provider's record id.
            let decisionNo = try await c.query(
                """
                SELECT data->>'decision_no' FROM record_version
                WHERE dataset = 'administrative_penalty' AND record_id = \(a.recordId) AND superseded_at IS NULL LIMIT 1
                """,
                logger: logger
            ).collect().first?.decode(String?.self)
            try await Messages.emit(
                c,
                logger: logger,
                uscc: a.uscc,
                kind: "repair.answered",
                data: [
                    "state": .string(a.state), "record_id": .string(a.recordId), "reason": a.reason.map(JSONValue.string) ?? .null,
                    "repaired_on": a.repairedOn.map { .string($0) } ?? .null,
                    "decision_no": decisionNo.map(JSONValue.string) ?? .null,
                ]
            )
            return a
        }
        let existing = try await c.query("SELECT state FROM repair_application WHERE id = \(id)", logger: logger).collect()
        guard let s = try existing.first?.decode(String.self) else { throw Failure.notFound(id) }
        throw Failure.state(s)
    }
}
