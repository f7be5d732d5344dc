import CreditCore
import Foundation
import Logging
import PostgresNIO

/// People inside organisations (issue 22): created by their organisation's admin or an operator
/// (`xyd user …`), signed in with a password and — for banks and the operator, always — a TOTP
/// code. Passwords are hashed by the caller (`PasswordHash`, off the event loops) before they
/// reach here; no statement ever sees a password.
public enum Users {
    /// Failed sign-ins in a row after which the user is locked out for `lockSeconds`.
    public static let lockAfterFailures = 5
    public static let lockSeconds = 15 * 60
    /// Users an organisation may have (enabled or not).
    public static let maxUsersPerOrganisation = 500
    public static let nameMaxCharacters = 40
    public static let staffNumberMaxCharacters = 20

    public struct User: Sendable, Codable, Equatable {
        public let id: UUID
        public let orgId: UUID
        public let login: String
        public let name: String
        public let staffNumber: String?
        public let role: OrgRole
        public let secondFactor: Bool
        public let createdAt: Date
        public let disabledAt: Date?
        public let lockedUntil: Date?
        public let lastSignInAt: Date?

        public var ref: UserRef { UserRef(id: id, login: login, name: name, staffNumber: staffNumber, role: role) }

        enum CodingKeys: String, CodingKey {
            case id, login, name, role
            case orgId = "org_id"
            case staffNumber = "staff_number"
            case secondFactor = "second_factor"
            case createdAt = "created_at"
            case disabledAt = "disabled_at"
            case lockedUntil = "locked_until"
            case lastSignInAt = "last_sign_in_at"
        }
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case invalid(field: String, why: String)
        case loginTaken(String)
        case tooManyUsers
        case notFound
        case lastAdmin

        public var description: String {
            switch self {
            case .invalid(let field, let why): "\(field): \(why)"
            case .loginTaken(let login): "login: \(login) is taken"
            case .tooManyUsers: "the organisation has \(Users.maxUsersPerOrganisation) users, the most allowed"
            case .notFound: "no such user in this organisation"
            case .lastAdmin: "the organisation's last enabled admin cannot be disabled or demoted"
            }
        }
    }

    static let columns = """
        u.id, u.org_id, u.login, u.name, u.staff_number, u.role, u.totp_secret IS NOT NULL, u.created_at, u.disabled_at,
        CASE WHEN u.locked_until > now() THEN u.locked_until END, u.last_sign_in_at
        """

    static func decode(_ row: PostgresRow) throws -> User {
        let (id, org, login, name, staff, role, totp, created, disabled, locked, last) = try row.decode(
            (UUID, UUID, String, String, String?, String, Bool, Date, Date?, Date?, Date?).self
        )
        return User(
            id: id,
            orgId: org,
            login: login,
            name: name,
            staffNumber: staff,
            role: OrgRole(rawValue: role) ?? .staff,
            secondFactor: totp,
            createdAt: created,
            disabledAt: disabled,
            lockedUntil: locked,
            lastSignInAt: last
        )
    }

    /// Checks what a person types for a new user (before the password is hashed).
    public static func check(login: String, name: String, staffNumber: String?, role: OrgRole, kind: OrgKind) throws {
        if let why = Login.problem(login) { throw Refusal.invalid(field: "login", why: why) }
        // No control, format (bidirectional overrides) or separator characters: a name is shown
        // on pages, in access logs and on terminals (`xyd user list`).
        for (field, text) in [("name", name), ("staff_number", staffNumber ?? "")] where TextHygiene.hasHidden(text) {
            throw Refusal.invalid(field: field, why: "control, format and separator characters are not allowed")
        }
        let name = name.trimmingBlanks()
        if name.isEmpty || name.count > nameMaxCharacters {
            throw Refusal.invalid(field: "name", why: "a name has 1 to \(nameMaxCharacters) characters")
        }
        if let staffNumber, staffNumber.trimmingBlanks().isEmpty || staffNumber.count > staffNumberMaxCharacters {
            throw Refusal.invalid(field: "staff_number", why: "a staff number has 1 to \(staffNumberMaxCharacters) characters")
        }
        guard role.belongs(to: kind) else {
            throw Refusal.invalid(
                field: "role",
                why:
                    "\(kind == .enterprise || kind == .operator ? "an" : "a") \(kind.rawValue)'s roles are \(OrgRole.roles(of: kind).map(\.rawValue).joined(separator: ", "))"
            )
        }
    }

    /// Creates a user with a password hash; a TOTP secret when `totpSecret` is given.
    public static func create(
        on c: PostgresConnection,
        logger: Logger,
        orgId: UUID,
        login: String,
        name: String,
        staffNumber: String?,
        role: OrgRole,
        passwordHash: String,
        totpSecret: [UInt8]?,
        createdBy: UUID?
    ) async throws -> User {
        guard let org = try await Register.organisation(on: c, logger: logger, id: orgId) else { throw Refusal.notFound }
        try check(login: login, name: name, staffNumber: staffNumber, role: role, kind: org.kind)
        try await c.query("SELECT pg_advisory_xact_lock(hashtext('xyd.users'), hashtext(\(orgId.uuidString)))", logger: logger)
        let count = try await c.query("SELECT count(*)::int FROM org_user WHERE org_id = \(orgId)", logger: logger).collect()[0]
            .decode(Int.self)
        guard count < maxUsersPerOrganisation else { throw Refusal.tooManyUsers }
        let rows = try await c.query(
            """
            INSERT INTO org_user AS u (org_id, login, name, staff_number, role, password_hash, totp_secret, created_by)
            VALUES (\(orgId), \(login), \(name.trimmingBlanks()), \(staffNumber?.trimmingBlanks()), \(role.rawValue), \(passwordHash),
                    \(totpSecret.map { Data($0) }), \(createdBy))
            ON CONFLICT (login) DO NOTHING
            RETURNING \(unescaped: columns)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { throw Refusal.loginTaken(login) }
        return try decode(row)
    }

    public static func list(on c: PostgresConnection, logger: Logger, orgId: UUID) async throws -> [User] {
        try await c.query(
            "SELECT \(unescaped: columns) FROM org_user u WHERE u.org_id = \(orgId) ORDER BY u.disabled_at IS NOT NULL, u.created_at, u.id",
            logger: logger
        ).collect().map(decode)
    }

    public static func find(on c: PostgresConnection, logger: Logger, orgId: UUID?, id: UUID) async throws -> User? {
        try await c.query(
            "SELECT \(unescaped: columns) FROM org_user u WHERE u.id = \(id) AND (\(orgId)::uuid IS NULL OR u.org_id = \(orgId))",
            logger: logger
        ).collect().first.map(decode)
    }

    public static func find(on c: PostgresConnection, logger: Logger, login: String) async throws -> User? {
        try await c.query("SELECT \(unescaped: columns) FROM org_user u WHERE u.login = \(login)", logger: logger).collect().first.map(
            decode
        )
    }

    /// Whether the user is the organisation's last enabled admin (who must stay).
    static func isLastAdmin(_ c: PostgresConnection, logger: Logger, _ user: User) async throws -> Bool {
        guard user.role.rank == .admin, user.disabledAt == nil else { return false }
        let others = try await c.query(
            """
            SELECT count(*)::int FROM org_user
            WHERE org_id = \(user.orgId) AND id <> \(user.id) AND disabled_at IS NULL AND role IN ('admin', 'legal_rep')
            """,
            logger: logger
        ).collect()[0].decode(Int.self)
        return others == 0
    }

    /// Disables a user: their sessions end and their keys stop at once (keys are checked with
    /// the user's state on every call); the row stays for the audit log.
    public static func disable(on c: PostgresConnection, logger: Logger, orgId: UUID?, id: UUID) async throws -> User {
        guard let user = try await find(on: c, logger: logger, orgId: orgId, id: id) else { throw Refusal.notFound }
        if user.disabledAt != nil { return user }
        try await c.query("SELECT 1 FROM org_user WHERE org_id = \(user.orgId) FOR UPDATE", logger: logger)
        if try await isLastAdmin(c, logger: logger, user) { throw Refusal.lastAdmin }
        try await c.query("UPDATE org_user SET disabled_at = now() WHERE id = \(id)", logger: logger)
        try await c.query("DELETE FROM web_session WHERE user_id = \(id)", logger: logger)
        return try await find(on: c, logger: logger, orgId: orgId, id: id)!
    }

    /// Sets a new password (hashed by the caller); by an admin, the user changes it at the next
    /// sign-in. Ends the user's other sessions and lifts a lock-out.
    public static func setPassword(
        on c: PostgresConnection,
        logger: Logger,
        id: UUID,
        passwordHash: String,
        byAdmin: Bool,
        keepSession: String? = nil
    ) async throws {
        try await c.query(
            """
            UPDATE org_user SET password_hash = \(passwordHash), password_set_by_admin = \(byAdmin), failed_sign_ins = 0, locked_until = NULL
            WHERE id = \(id)
            """,
            logger: logger
        )
        try await c.query(
            "DELETE FROM web_session WHERE user_id = \(id) AND token_hash IS DISTINCT FROM \(keepSession.map(Sessions.hash))",
            logger: logger
        )
    }

    /// A new TOTP secret for the user (the old one stops working): shown once to be enrolled.
    public static func resetSecondFactor(on c: PostgresConnection, logger: Logger, id: UUID, secret: [UInt8]) async throws {
        try await c.query(
            "UPDATE org_user SET totp_secret = \(Data(secret)), totp_last_step = NULL WHERE id = \(id)",
            logger: logger
        )
    }

    /// The TOTP secret of a user (for `xyd user totp-code` on the server: the demo's authenticator).
    public static func secondFactorSecret(on c: PostgresConnection, logger: Logger, login: String) async throws -> [UInt8]? {
        try await c.query("SELECT totp_secret FROM org_user WHERE login = \(login)", logger: logger).collect().first
            .flatMap { try $0.decode(Data?.self) }.map { Array($0) }
    }

    // MARK: Sign-in

    /// What a sign-in checks (concurrent attempts count each other through `reserveAttempt`).
    public struct Candidate: Sendable {
        public let user: User
        public let orgKind: OrgKind
        public let orgName: String
        public let uscc: String?
        public let passwordHash: String
        public let mustChangePassword: Bool
        public let totpSecret: [UInt8]?
        public let totpLastStep: Int64?
    }

    public static func candidate(on c: PostgresConnection, logger: Logger, login: String) async throws -> Candidate? {
        guard Login.problem(login) == nil else { return nil }
        let rows = try await c.query(
            """
            SELECT \(unescaped: columns), o.kind, o.name, o.uscc, u.password_hash, u.password_set_by_admin, u.totp_secret, u.totp_last_step
            FROM org_user u JOIN organisations o ON o.id = u.org_id
            WHERE u.login = \(login)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let user = try decode(row)
        let cells = row.makeRandomAccess()
        let n = 11
        guard let kind = OrgKind(rawValue: try cells[n].decode(String.self)) else { return nil }
        return Candidate(
            user: user,
            orgKind: kind,
            orgName: try cells[n + 1].decode(String.self),
            uscc: try cells[n + 2].decode(String?.self),
            passwordHash: try cells[n + 3].decode(String.self),
            mustChangePassword: try cells[n + 4].decode(Bool.self),
            totpSecret: try cells[n + 5].decode(Data?.self).map { Array($0) },
            totpLastStep: try cells[n + 6].decode(Int64?.self)
        )
    }

    /// Counts an attempt before its password is checked (as a failure until it succeeds), so
    /// that attempts made at once count each other: the one that makes `lockAfterFailures` in a
    /// row locks the user for `lockSeconds`. An expired lock starts the count afresh. False when
    /// the user is locked (or disabled): the attempt is refused unheard and the lock not lengthened.
    public static func reserveAttempt(on c: PostgresConnection, logger: Logger, id: UUID) async throws -> Bool {
        let rows = try await c.query(
            """
            WITH fresh AS (
                SELECT id, CASE WHEN locked_until IS NOT NULL AND locked_until <= now() THEN 1 ELSE failed_sign_ins + 1 END AS n
                FROM org_user WHERE id = \(id) AND disabled_at IS NULL AND (locked_until IS NULL OR locked_until <= now())
                FOR UPDATE)
            UPDATE org_user u SET failed_sign_ins = fresh.n,
                locked_until = CASE WHEN fresh.n >= \(lockAfterFailures) THEN now() + make_interval(secs => \(lockSeconds)) END
            FROM fresh WHERE u.id = fresh.id
            RETURNING u.id
            """,
            logger: logger
        ).collect()
        return !rows.isEmpty
    }

    /// The attempt counted by `reserveAttempt` was the right one: the count and any lock go.
    public static func clearFailures(on c: PostgresConnection, logger: Logger, id: UUID) async throws {
        try await c.query("UPDATE org_user SET failed_sign_ins = 0, locked_until = NULL WHERE id = \(id)", logger: logger)
    }

    /// A successful sign-in: the failure count is reset and the TOTP step recorded (a code is
    /// taken once; false when another sign-in took this step first).
    public static func succeeded(on c: PostgresConnection, logger: Logger, id: UUID, totpStep: Int64?) async throws -> Bool {
        let rows = try await c.query(
            """
            UPDATE org_user SET failed_sign_ins = 0, locked_until = NULL, last_sign_in_at = now(),
                totp_last_step = coalesce(\(totpStep), totp_last_step)
            WHERE id = \(id) AND (\(totpStep)::bigint IS NULL OR totp_last_step IS NULL OR totp_last_step < \(totpStep))
            RETURNING id
            """,
            logger: logger
        ).collect()
        return !rows.isEmpty
    }

    /// Names of users by id (for access logs and audit views).
    public static func names(on c: PostgresConnection, logger: Logger, ids: [UUID]) async throws -> [UUID: UserRef] {
        guard !ids.isEmpty else { return [:] }
        var out: [UUID: UserRef] = [:]
        for row in try await c.query(
            "SELECT id, login, name, staff_number, role FROM org_user WHERE id = ANY(\(Array(Set(ids))))",
            logger: logger
        ).collect() {
            let (id, login, name, staff, role) = try row.decode((UUID, String, String, String?, String).self)
            out[id] = UserRef(id: id, login: login, name: name, staffNumber: staff, role: OrgRole(rawValue: role) ?? .staff)
        }
        return out
    }
}
