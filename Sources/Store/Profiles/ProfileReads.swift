import CreditCore
import Foundation
import Logging
import PostgresNIO

/// The hot path: a profile read — the authorisation check, the audit row (allowed or denied)
/// and the profile as JSON — in one statement, so one round trip and one commit (banks' reads
/// go many to a statement: `ProfileReadBatcher`).
/// Data-modifying CTEs run to completion whatever the query reads, and the statement is its
/// own transaction: the audit row commits with the read, or neither does. The statement's
/// snapshot is taken when it starts, so it sees every revocation committed before it: such a
/// read is denied. (No row lock is taken: a lock per read would cost a WAL record and, with
/// concurrent readers of one authorisation, a multixact.)
public struct AuditNotWritten: Error, CustomStringConvertible {
    public var description: String { "the read's audit row was not written" }
}

public enum ProfileReads {
    public struct Result: Sendable {
        /// For a bank's read: the authorisation it rested on; nil when denied.
        public let authorisationId: UUID?
        public let allowed: Bool
        /// The profile as JSON text (nil when there is none, or the read was denied).
        public let profileJSON: String?
        /// The caller's key was live in the statement's snapshot (not revoked, not expired).
        public let keyLive: Bool
    }

    /// The caller's key, checked in the read's own snapshot (the caller may come from a cache).
    /// Stands for "none" in arrays of ids (arrays of optionals cannot be bound).
    static let noUUID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
    static let noId = "'00000000-0000-0000-0000-000000000000'::uuid"

    /// Whether the caller is live: a machine's key live (and its owner, if a user, enabled), or a
    /// person's session of an enabled user.
    static func live(_ key: String, _ user: String) -> String {
        """
        ((\(key) <> \(noId) OR \(user) <> \(noId))
         AND (\(key) = \(noId) OR EXISTS (SELECT 1 FROM api_keys k WHERE k.id = \(key) AND \(Live.key("k"))))
         AND (\(user) = \(noId) OR EXISTS (SELECT 1 FROM org_user u WHERE u.id = \(user) AND u.disabled_at IS NULL)))
        """
    }

    static let liveKey = "SELECT 1 WHERE \(live("coalesce($6::uuid, \(noId))", "coalesce($10::uuid, \(noId))"))"

    /// The profile as a JSON object built by PostgreSQL (timestamps in UTC to the second).
    static let profileObject = """
        json_build_object('uscc', p.uscc, 'scorecard_version', p.scorecard_version, 'score', p.score, 'grade', p.grade,
            'thin_file', p.thin_file, 'knockouts', p.knockouts, 'reasons', p.reasons, 'features', p.features, 'points', p.points,
            'data_months', p.data_months, 'records', p.records, 'as_of_day', p.as_of_day,
            'data_as_of', to_char(p.data_as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'computed_at', to_char(p.computed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))::text
        """

    struct OwnRead: PostgresPreparedStatement {
        static let name = "xyd_profile_own_read"
        static let sql = """
            WITH key AS (\(liveKey)),
            logged AS (
                INSERT INTO audit_log (occurred_at, mac, request_id, actor_org_id, actor_key_id, actor_user_id, actor_kind, action, route,
                                       subject_uscc, purpose, result, detail)
                SELECT timestamptz 'epoch' + $8::bigint * interval '1 microsecond', $9::bytea, $1, $2, $3, $10, 'enterprise', 'profile.read', $4, $5,
                       'self',
                       CASE WHEN EXISTS (SELECT 1 FROM key) THEN 'allowed' ELSE 'denied' END,
                       CASE WHEN EXISTS (SELECT 1 FROM key) THEN '{}'::jsonb ELSE jsonb_build_object('why', 'key not live') END
                       || CASE WHEN $7::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('client_request_id', $7::text) END
                RETURNING 1)
            SELECT (SELECT \(profileObject) FROM profile p WHERE p.uscc = $5 AND EXISTS (SELECT 1 FROM key)),
                   (SELECT count(*)::int FROM logged), EXISTS (SELECT 1 FROM key)
            """
        typealias Row = (String?, Int, Bool)
        let requestId: String?, org: UUID?, keyId: UUID?, route: String?, uscc: String, clientRequestId: String?, userId: UUID?
        /// The row's time and code (`Audit.rowCode` over exactly what the statement writes).
        let occurredMicros: Int64, code: Data

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 10)
            b.append(requestId)
            b.append(org)
            b.append(keyId)
            b.append(route)
            b.append(uscc)
            b.append(keyId)  // $6: the key checked (the same as $3)
            b.append(clientRequestId)
            b.append(occurredMicros)
            try b.append(code)
            b.append(userId)
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A business's read of its own profile, audited.
    public static func ownRead(_ c: PostgresConnection, logger: Logger, audit: AuditEntry, uscc: String) async throws -> Result {
        let at = Audit.micros(Date())
        let written = AuditEntry(
            requestId: audit.requestId,
            actorOrgId: audit.actorOrgId,
            actorKeyId: audit.actorKeyId,
            actorUserId: audit.actorUserId,
            actorKind: "enterprise",
            action: "profile.read",
            route: audit.route,
            subjectUSCC: uscc,
            purpose: "self",
            result: .allowed
        )
        let statement = OwnRead(
            requestId: audit.requestId,
            org: audit.actorOrgId,
            keyId: audit.actorKeyId,
            route: audit.route,
            uscc: uscc,
            clientRequestId: audit.detail["client_request_id"],
            userId: audit.actorUserId,
            occurredMicros: at,
            code: try Audit.rowCode(written, occurredMicros: at)
        )
        var result: Result?
        for try await (json, logged, keyLive) in try await c.execute(statement, logger: logger) {
            guard logged == 1 else { throw AuditNotWritten() }
            result = Result(authorisationId: nil, allowed: keyLive, profileJSON: json, keyLive: keyLive)
        }
        guard let result else { throw AuditNotWritten() }
        return result
    }
}
