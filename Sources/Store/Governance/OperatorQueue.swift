import Logging
import PostgresNIO

/// What objections and repair applications share: a table of applications that a business
/// makes and an operator decides by a deadline. A business lists its own, newest first; operators
/// list them open ones first, earliest deadline first.
enum OperatorQueue {
    /// `table` and `columns` are the caller's constants, never input.
    static func mine<T>(
        _ c: PostgresConnection,
        logger: Logger,
        table: String,
        columns: String,
        uscc: String,
        limit: Int,
        decode: (PostgresRowSequence) async throws -> [T]
    ) async throws -> [T] {
        try await decode(
            c.query(
                "SELECT \(unescaped: columns) FROM \(unescaped: table) WHERE uscc = \(uscc) ORDER BY created_at DESC LIMIT \(limit)",
                logger: logger
            )
        )
    }

    static func all<T>(
        _ c: PostgresConnection,
        logger: Logger,
        table: String,
        columns: String,
        state: String?,
        limit: Int,
        decode: (PostgresRowSequence) async throws -> [T]
    ) async throws -> [T] {
        try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM \(unescaped: table) WHERE (\(state)::text IS NULL OR state = \(state)::text)
                ORDER BY state <> 'open', due_on, created_at LIMIT \(limit)
                """,
                logger: logger
            )
        )
    }
}
