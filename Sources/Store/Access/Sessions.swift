import CreditCore
import Crypto
import Foundation
import Logging
import PostgresNIO

/// Browser sessions: a random token in an HTTP-only cookie, its SHA-256 in `web_session`,
/// bound to the key that signed in (a revoked or expired key ends the session at once).
public enum Sessions {
    /// A session lasts this long from sign-in.
    public static let lifetimeSeconds = 8 * 3600

    public struct Session: Sendable {
        public let principal: Principal
        public let csrfToken: String
        public let expiresAt: Date
        /// An admin set the user's password: it must be changed before anything else.
        public var mustChangePassword = false
    }

    static func hash(_ token: String) -> Data { Data(SHA256.hash(data: Data(token.utf8))) }

    /// Starts a session for a principal that has just presented its key; returns the cookie's token.
    public static func create(
        _ c: PostgresConnection,
        logger: Logger,
        principal: Principal,
        mustChangePassword: Bool = false
    ) async throws -> (token: String, Session) {
        let token = secureRandomBytes(32).base64URLString
        let csrf = secureRandomBytes(24).base64URLString
        let expires = try await c.query(
            """
            INSERT INTO web_session (token_hash, key_id, user_id, csrf_token, expires_at)
            VALUES (\(hash(token)), \(principal.user == nil ? principal.keyId : nil), \(principal.user?.id), \(csrf),
                    now() + make_interval(secs => \(lifetimeSeconds)::int))
            RETURNING expires_at
            """,
            logger: logger
        ).collect()[0].decode(Date.self)
        // Old sessions are swept as new ones start.
        try await c.query("DELETE FROM web_session WHERE expires_at < now() - interval '1 day'", logger: logger)
        return (token, Session(principal: principal, csrfToken: csrf, expiresAt: expires, mustChangePassword: mustChangePassword))
    }

    /// The live session of a cookie's token, or nil.
    public static func find(_ c: PostgresConnection, logger: Logger, token: String) async throws -> Session? {
        guard token.utf8.count <= 100 else { return nil }
        // A session belongs to an enabled user (or, from before users, to a live key).
        let rows = try await c.query(
            """
            SELECT o.id, o.kind, o.name, o.uscc, k.id, s.csrf_token, s.expires_at, k.role,
                   u.id, u.login, u.name, u.staff_number, u.role, coalesce(u.password_set_by_admin, false)
            FROM web_session s
            LEFT JOIN api_keys k ON k.id = s.key_id
            LEFT JOIN org_user u ON u.id = s.user_id
            JOIN organisations o ON o.id = coalesce(u.org_id, k.org_id)
            WHERE s.token_hash = \(hash(token)) AND s.expires_at > now()
              AND (s.user_id IS NOT NULL AND u.disabled_at IS NULL
                   OR s.key_id IS NOT NULL AND \(unescaped: Live.key("k")))
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (org, kind, name, uscc, key, csrf, expires, keyRole) = try row.decode(
            (UUID, String, String, String?, UUID?, String, Date, String?).self
        )
        let cells = row.makeRandomAccess()
        let (userId, login, userName, staff, userRole) = (
            try cells[8].decode(UUID?.self), try cells[9].decode(String?.self), try cells[10].decode(String?.self),
            try cells[11].decode(String?.self), try cells[12].decode(String?.self)
        )
        let mustChange = try cells[13].decode(Bool.self)
        guard let k = OrgKind(rawValue: kind), let role = OrgRole(rawValue: userRole ?? keyRole ?? "") else { return nil }
        var user: UserRef?
        if let userId, let login, let userName { user = UserRef(id: userId, login: login, name: userName, staffNumber: staff, role: role) }
        return Session(
            principal: Principal(orgId: org, kind: k, orgName: name, uscc: uscc, keyId: user == nil ? key : nil, user: user, role: role),
            csrfToken: csrf,
            expiresAt: expires,
            mustChangePassword: mustChange
        )
    }

    /// A tag binding a message to one session (keyed by its CSRF token): a page shows a message
    /// carried in its link only when the tag checks, so no link from elsewhere can put words on
    /// our pages.
    public static func tag(_ message: String, session: Session) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(session.csrfToken.utf8)))
        return String(Data(mac).base64URLString.prefix(22))
    }

    public static func end(_ c: PostgresConnection, logger: Logger, token: String) async throws {
        try await c.query("DELETE FROM web_session WHERE token_hash = \(hash(token))", logger: logger)
    }
}
