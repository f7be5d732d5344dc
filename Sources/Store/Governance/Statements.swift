import CreditCore
import Foundation
import Logging
import PostgresNIO

/// A business's statement (说明) on one of its own records, shown beside the record wherever it
/// is shown (its records, an authorised bank's view of them, its reports) until withdrawn.
public enum Statements {
    public static let maxText = 500
    public static let listLimit = 500
    /// Statements one record may ever have, withdrawn ones included (they stay, for as-of reports).
    public static let maxPerRecord = 10

    public struct Statement: Sendable, Encodable {
        public let id: UUID
        public let dataset: String
        public let recordId: String
        public let text: String
        public let createdAt: Date
        public let withdrawnAt: Date?
    }

    public enum Failure: Error, CustomStringConvertible {
        case noSuchRecord(String, String)
        case already
        case notFound(UUID)
        case tooMany
        public var description: String {
            switch self {
            case .tooMany: "at most \(Statements.maxPerRecord) statements per record, withdrawn ones included"
            case .noSuchRecord(let d, let r): "no current record \(r) in \(d) of yours"
            case .already: "this record has a statement already: withdraw it first"
            case .notFound(let id): "no live statement \(id) of yours"
            }
        }
        public var zh: String {
            switch self {
            case .noSuchRecord: "没有找到本企业的这条记录。"
            case .already: "这条记录已有说明：请先撤回。"
            case .notFound: "没有找到这条说明。"
            case .tooMany: "每条记录最多添加 \(Statements.maxPerRecord) 次说明（含已撤回的）。"
            }
        }
    }

    static let columns = "id, dataset, record_id, text, created_at, withdrawn_at"

    static func decode(_ rows: PostgresRowSequence) async throws -> [Statement] {
        var out: [Statement] = []
        for try await (id, ds, rid, text, created, withdrawn) in rows.decode((UUID, String, String, String, Date, Date?).self) {
            out.append(Statement(id: id, dataset: ds, recordId: rid, text: text, createdAt: created, withdrawnAt: withdrawn))
        }
        return out
    }

    /// Adds a statement to one of the business's own current records.
    public static func add(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        org: UUID,
        dataset: Dataset,
        recordId: String,
        text: String
    ) async throws -> Statement {
        let exists = try await c.query(
            """
            SELECT 1 FROM record_version WHERE dataset = \(dataset.rawValue) AND record_id = \(recordId) AND uscc = \(uscc)
              AND superseded_at IS NULL AND op = 'upsert'
            """,
            logger: logger
        ).collect()
        guard !exists.isEmpty else { throw Failure.noSuchRecord(dataset.rawValue, recordId) }
        let made = try await c.query(
            "SELECT count(*)::int FROM record_statement WHERE uscc = \(uscc) AND dataset = \(dataset.rawValue) AND record_id = \(recordId)",
            logger: logger
        ).collect()[0].decode(Int.self)
        guard made < maxPerRecord else { throw Failure.tooMany }
        let rows = try await c.query(
            """
            INSERT INTO record_statement (uscc, enterprise_org_id, dataset, record_id, text)
            VALUES (\(uscc), \(org), \(dataset.rawValue), \(recordId), \(text))
            ON CONFLICT DO NOTHING RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let s = try await decode(rows).first else { throw Failure.already }
        return s
    }

    /// Withdraws one of the business's live statements.
    public static func withdraw(_ c: PostgresConnection, logger: Logger, id: UUID, uscc: String) async throws -> Statement {
        let rows = try await c.query(
            """
            UPDATE record_statement SET withdrawn_at = now() WHERE id = \(id) AND uscc = \(uscc) AND withdrawn_at IS NULL
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        )
        guard let s = try await decode(rows).first else { throw Failure.notFound(id) }
        return s
    }

    /// The business's statements, newest first (withdrawn ones too).
    public static func mine(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Statement] {
        try await decode(
            c.query(
                "SELECT \(unescaped: columns) FROM record_statement WHERE uscc = \(uscc) ORDER BY created_at DESC LIMIT \(listLimit)",
                logger: logger
            )
        )
    }

    /// The statements live at a moment (now when nil), by `dataset/record_id`.
    public static func live(_ c: PostgresConnection, logger: Logger, uscc: String, at moment: Date? = nil) async throws -> [String: String]
    {
        var out: [String: String] = [:]
        for try await (ds, rid, text) in try await c.query(
            """
            SELECT dataset, record_id, text FROM record_statement
            WHERE uscc = \(uscc) AND created_at <= coalesce(\(moment)::timestamptz, 'infinity')
              AND (withdrawn_at IS NULL OR withdrawn_at > coalesce(\(moment)::timestamptz, 'infinity'))
            """,
            logger: logger
        ).decode((String, String, String).self) {
            out["\(ds)/\(rid)"] = text
        }
        return out
    }
}
