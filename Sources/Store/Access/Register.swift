import CreditCore
import Crypto
import Foundation
import Logging
import PostgresNIO

public struct Organisation: Sendable, Codable, Equatable {
    public let id: UUID
    public let kind: OrgKind
    public let name: String
    public let uscc: String?
    public let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, name, uscc
        case createdAt = "created_at"
    }
}

public struct APIKeyInfo: Sendable, Codable, Equatable {
    public let id: UUID
    public let orgId: UUID
    public let prefix: String
    public let label: String
    public let createdAt: Date
    public let expiresAt: Date?
    public let revokedAt: Date?
    /// The role within the organisation the key acts with (a user's key: the user's).
    public let role: OrgRole
    /// The machine the key is for, when a system owns it.
    public let systemName: String?
    /// The user who owns it, when a user does.
    public let userId: UUID?

    enum CodingKeys: String, CodingKey {
        case id, prefix, label, role
        case orgId = "org_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case systemName = "system_name"
        case userId = "user_id"
    }
}

/// Who owns a key: a person of the organisation, or a named system (a bank's loan platform).
public enum KeyOwner: Sendable, Equatable {
    case user(UUID)
    case system(String)

    public static let systemNameMaxCharacters = 60
}

/// A key as issued: the secret appears here once and is never stored.
public struct IssuedKey: Sendable, Codable {
    public let info: APIKeyInfo
    public let secret: String
}

/// Who is calling: the organisation behind a valid key.
public struct Principal: Sendable, Equatable {
    public let orgId: UUID
    public let kind: OrgKind
    public let orgName: String
    public let uscc: String?
    /// The key of a machine's call (nil in a person's browser session).
    public let keyId: UUID?
    /// The person: the user signed in, or the user who owns the key.
    public var user: UserRef? = nil
    /// The role within the organisation the call acts with (the user's, or the system key's).
    public var role: OrgRole

    public init(orgId: UUID, kind: OrgKind, orgName: String, uscc: String?, keyId: UUID?, user: UserRef? = nil, role: OrgRole? = nil) {
        self.orgId = orgId
        self.kind = kind
        self.orgName = orgName
        self.uscc = uscc
        self.keyId = keyId
        self.user = user
        self.role = role ?? user?.role ?? OrgRole.highest(of: kind)
    }

    /// Whether the caller's role within its organisation reaches `rank`.
    public func reaches(_ rank: OrgRole.Rank) -> Bool { role.rank >= rank }
}

/// A person as calls and audit rows name them.
public struct UserRef: Sendable, Equatable, Codable {
    public let id: UUID
    public let login: String
    public let name: String
    public let staffNumber: String?
    public let role: OrgRole
    public init(id: UUID, login: String, name: String, staffNumber: String?, role: OrgRole) {
        self.id = id
        self.login = login
        self.name = name
        self.staffNumber = staffNumber
        self.role = role
    }
}

/// Why a presented key was refused (all answered 401, told apart in logs and tests).
public enum KeyRejection: String, Sendable, Error {
    case unknown, revoked, expired
}

public enum RegisterError: Error, Equatable, CustomStringConvertible {
    case invalidName(String)
    case usccRequired
    case usccNotAllowed
    case invalidUSCC(String)
    case duplicateOrganisation(kind: OrgKind, name: String)
    case duplicateUSCC(String)
    case orgNotFound(UUID)
    case keyNotFound(UUID)
    case invalidLabel(String)
    case invalidSystemName(String)
    case invalidExpiry(String)
    case tooManyKeys(Int)
    case userNotFound(UUID)
    case roleNotOfKind(OrgRole, OrgKind)

    public var description: String {
        switch self {
        case .invalidName(let why): "name: \(why)"
        case .usccRequired: "uscc: an enterprise organisation needs its USCC"
        case .usccNotAllowed: "uscc: only an enterprise organisation has a USCC"
        case .invalidUSCC(let why): "uscc: \(why)"
        case .duplicateOrganisation(let kind, let name): "a \(kind.rawValue) organisation named '\(name)' already exists"
        case .duplicateUSCC(let code): "an organisation for USCC \(code) already exists"
        case .orgNotFound(let id): "no organisation \(id)"
        case .keyNotFound(let id): "no key \(id)"
        case .invalidLabel(let why): "label: \(why)"
        case .invalidSystemName(let why): "system_name: \(why)"
        case .invalidExpiry(let why): "expires_at: \(why)"
        case .tooManyKeys(let n): "the organisation holds \(n) live keys, the most allowed: revoke one first"
        case .userNotFound(let id): "no enabled user \(id) in this organisation"
        case .roleNotOfKind(let role, let kind):
            "a \(kind.rawValue) has no role \(role.rawValue) (it has \(OrgRole.roles(of: kind).map(\.rawValue).joined(separator: ", ")))"
        }
    }
}

/// Organisations and their API keys.
public enum Register {
    public static let keyPrefix = "xyd_"
    /// The first half of the advisory-lock key an organisation's key issue holds.
    static let keyIssueLockClass: Int32 = 0x4B65_7973  // "Keys"
    static let keyRandomBytes = 32
    static let displayPrefixLength = 12

    public static func hashKey(_ key: String) -> Data { Data(SHA256.hash(data: Data(key.utf8))) }

    /// Validates the fields of a new organisation; returns the normalised USCC.
    public static func validateNew(kind: OrgKind, name: String, uscc: String?) throws -> (name: String, uscc: String?) {
        let trimmed = name.trimmingBlanks()
        if trimmed.isEmpty { throw RegisterError.invalidName("must not be empty") }
        if TextHygiene.hasHidden(trimmed) { throw RegisterError.invalidName("control and format characters are not allowed") }
        if trimmed.unicodeScalars.count > OrganisationLimits.nameMaxCharacters {
            throw RegisterError.invalidName("at most \(OrganisationLimits.nameMaxCharacters) characters")
        }
        switch (kind, uscc) {
        case (.enterprise, nil): throw RegisterError.usccRequired
        case (.enterprise, let raw?):
            switch USCC.parse(raw) {
            case .success(let code): return (trimmed, code.value)
            case .failure(let problem): throw RegisterError.invalidUSCC(problem.description)
            }
        case (_, .some): throw RegisterError.usccNotAllowed
        case (_, nil): return (trimmed, nil)
        }
    }

    public static func createOrganisation(
        on c: PostgresConnection,
        logger: Logger,
        kind: OrgKind,
        name: String,
        uscc: String?
    ) async throws -> Organisation {
        let (name, uscc) = try validateNew(kind: kind, name: name, uscc: uscc)
        let existing = try await c.query(
            "SELECT kind, name, uscc FROM organisations WHERE (kind = \(kind.rawValue) AND name = \(name)) OR uscc = \(uscc)",
            logger: logger
        ).collect()
        if let row = existing.first {
            let (_, _, existingUSCC) = try row.decode((String, String, String?).self)
            if let code = existingUSCC, code == uscc { throw RegisterError.duplicateUSCC(code) }
            throw RegisterError.duplicateOrganisation(kind: kind, name: name)
        }
        let rows = try await c.query(
            """
            INSERT INTO organisations (kind, name, uscc) VALUES (\(kind.rawValue), \(name), \(uscc))
            RETURNING id, kind, name, uscc, created_at
            """,
            logger: logger
        ).collect()
        return try decodeOrganisation(rows[0])
    }

    static func decodeOrganisation(_ row: PostgresRow) throws -> Organisation {
        let (id, kind, name, uscc, createdAt) = try row.decode((UUID, String, String, String?, Date).self)
        guard let k = OrgKind(rawValue: kind) else { preconditionFailure("organisations.kind CHECK admits only known kinds") }
        return Organisation(id: id, kind: k, name: name, uscc: uscc, createdAt: createdAt)
    }

    public static func organisation(on c: PostgresConnection, logger: Logger, id: UUID) async throws -> Organisation? {
        let rows = try await c.query(
            "SELECT id, kind, name, uscc, created_at FROM organisations WHERE id = \(id)",
            logger: logger
        ).collect()
        return try rows.first.map(decodeOrganisation)
    }

    /// The enterprise organisation registered for a USCC, if any.
    public static func organisation(on c: PostgresConnection, logger: Logger, uscc: String) async throws -> Organisation? {
        let rows = try await c.query(
            "SELECT id, kind, name, uscc, created_at FROM organisations WHERE uscc = \(uscc)",
            logger: logger
        ).collect()
        return try rows.first.map(decodeOrganisation)
    }

    public static func organisation(on c: PostgresConnection, logger: Logger, kind: OrgKind, name: String) async throws -> Organisation? {
        let rows = try await c.query(
            "SELECT id, kind, name, uscc, created_at FROM organisations WHERE kind = \(kind.rawValue) AND name = \(name)",
            logger: logger
        ).collect()
        return try rows.first.map(decodeOrganisation)
    }

    /// A page of organisations ordered by creation, optionally of one kind.
    public static func organisations(
        on c: PostgresConnection,
        logger: Logger,
        kind: OrgKind?,
        after: UUID?,
        limit: Int,
        matching: String? = nil
    ) async throws -> [Organisation] {
        // Part of the name or code, taken literally.
        let pattern = matching.map {
            "%"
                + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%").replacingOccurrences(
                    of: "_",
                    with: "\\_"
                ) + "%"
        }
        let rows = try await c.query(
            """
            SELECT id, kind, name, uscc, created_at FROM organisations
            WHERE (\(kind?.rawValue)::text IS NULL OR kind = \(kind?.rawValue))
              AND (\(pattern)::text IS NULL OR name ILIKE \(pattern) OR uscc ILIKE \(pattern))
              AND (\(after)::uuid IS NULL OR (created_at, id) > (SELECT created_at, id FROM organisations WHERE id = \(after)))
            ORDER BY created_at, id LIMIT \(limit)
            """,
            logger: logger
        ).collect()
        return try rows.map(decodeOrganisation)
    }

    /// Issues a new key for an organisation. The secret is in the result only.
    public static func issueKey(
        on c: PostgresConnection,
        logger: Logger,
        orgId: UUID,
        label: String,
        expiresAt: Date?,
        issuedBy: UUID?,
        owner: KeyOwner = .system("integration"),
        role: OrgRole? = nil,
        now: Date = Date()
    ) async throws -> IssuedKey {
        let label = label.trimmingBlanks()
        if case .system(let name) = owner,
            name.trimmingBlanks().isEmpty || name.count > KeyOwner.systemNameMaxCharacters || TextHygiene.hasHidden(name)
        {
            throw RegisterError.invalidSystemName(
                "a system's name has 1 to \(KeyOwner.systemNameMaxCharacters) characters, none of them control or format characters"
            )
        }
        if label.unicodeScalars.count > OrganisationLimits.keyLabelMaxCharacters || TextHygiene.hasHidden(label) {
            throw RegisterError.invalidLabel(
                "at most \(OrganisationLimits.keyLabelMaxCharacters) characters, none of them control or format characters"
            )
        }
        if let expiresAt {
            if expiresAt <= now { throw RegisterError.invalidExpiry("must be in the future") }
            if expiresAt > now.addingTimeInterval(Double(OrganisationLimits.keyMaxValidityDays) * 86_400) {
                throw RegisterError.invalidExpiry("at most \(OrganisationLimits.keyMaxValidityDays) days ahead")
            }
        }
        guard let org = try await organisation(on: c, logger: logger, id: orgId) else {
            throw RegisterError.orgNotFound(orgId)
        }
        var keyRole = role ?? OrgRole.highest(of: org.kind)
        var userId: UUID?
        if case .user(let id) = owner {
            // A user's key acts as the user: the user's role, and only while the user is enabled.
            let rows = try await c.query(
                "SELECT role FROM org_user WHERE id = \(id) AND org_id = \(orgId) AND disabled_at IS NULL",
                logger: logger
            ).collect()
            guard let r = try rows.first.flatMap({ OrgRole(rawValue: try $0.decode(String.self)) }) else {
                throw RegisterError.userNotFound(id)
            }
            keyRole = r
            userId = id
        }
        guard keyRole.belongs(to: org.kind) else { throw RegisterError.roleNotOfKind(keyRole, org.kind) }
        var systemName: String?
        if case .system(let name) = owner { systemName = name.trimmingBlanks() }
        // One issue per organisation at a time, so that concurrent issues count each other.
        try await c.query("SELECT pg_advisory_xact_lock(\(keyIssueLockClass), hashtext(\(orgId.uuidString)))", logger: logger)
        let live = try await c.query(
            """
            SELECT count(*)::int FROM api_keys WHERE org_id = \(orgId) AND \(unescaped: Live.key())
            """,
            logger: logger
        ).collect()[0].decode(Int.self)
        guard live < OrganisationLimits.maxLiveKeysPerOrganisation else { throw RegisterError.tooManyKeys(live) }
        let secret = keyPrefix + secureRandomBytes(keyRandomBytes).base64URLString
        let hash = hashKey(secret)
        let prefix = String(secret.prefix(displayPrefixLength))
        let rows = try await c.query(
            """
            INSERT INTO api_keys (org_id, key_hash, key_prefix, label, expires_at, issued_by_key_id, user_id, system_name, role)
            VALUES (\(orgId), \(hash), \(prefix), \(label), \(expiresAt), \(issuedBy), \(userId), \(systemName), \(keyRole.rawValue))
            RETURNING id, org_id, key_prefix, label, created_at, expires_at, revoked_at, role, system_name, user_id
            """,
            logger: logger
        ).collect()
        return IssuedKey(info: try decodeKey(rows[0]), secret: secret)
    }

    static func decodeKey(_ row: PostgresRow) throws -> APIKeyInfo {
        let (id, org, prefix, label, created, expires, revoked, role, system, user) = try row.decode(
            (UUID, UUID, String, String, Date, Date?, Date?, String, String?, UUID?).self
        )
        return APIKeyInfo(
            id: id,
            orgId: org,
            prefix: prefix,
            label: label,
            createdAt: created,
            expiresAt: expires,
            revokedAt: revoked,
            role: OrgRole(rawValue: role) ?? .staff,
            systemName: system,
            userId: user
        )
    }

    public static func keys(on c: PostgresConnection, logger: Logger, orgId: UUID) async throws -> [APIKeyInfo] {
        let rows = try await c.query(
            """
            SELECT id, org_id, key_prefix, label, created_at, expires_at, revoked_at, role, system_name, user_id FROM api_keys
            WHERE org_id = \(orgId) ORDER BY created_at, id
            """,
            logger: logger
        ).collect()
        return try rows.map(decodeKey)
    }

    public static func key(on c: PostgresConnection, logger: Logger, id: UUID) async throws -> APIKeyInfo? {
        let rows = try await c.query(
            "SELECT id, org_id, key_prefix, label, created_at, expires_at, revoked_at, role, system_name, user_id FROM api_keys WHERE id = \(id)",
            logger: logger
        ).collect()
        return try rows.first.map(decodeKey)
    }

    /// Revokes a key at once, and with it every key it issued over the API and theirs (a key
    /// minted by a leaked key must not outlive it); revoking a revoked key keeps its first
    /// revocation time.
    public static func revokeKey(on c: PostgresConnection, logger: Logger, id: UUID) async throws -> APIKeyInfo {
        try await c.query(
            """
            WITH RECURSIVE issued(id) AS (
                SELECT id FROM api_keys WHERE issued_by_key_id = \(id)
                UNION SELECT k.id FROM api_keys k JOIN issued i ON k.issued_by_key_id = i.id
            )
            UPDATE api_keys SET revoked_at = now() WHERE id IN (SELECT id FROM issued) AND revoked_at IS NULL
            """,
            logger: logger
        )
        let rows = try await c.query(
            """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = \(id)
            RETURNING id, org_id, key_prefix, label, created_at, expires_at, revoked_at, role, system_name, user_id
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { throw RegisterError.keyNotFound(id) }
        return try decodeKey(row)
    }

    /// Resolves a presented bearer key to its organisation, or says why not.
    public static func authenticate(
        on c: PostgresConnection,
        logger: Logger,
        key: String,
        now: Date = Date()
    ) async throws -> Result<Principal, KeyRejection> {
        guard key.hasPrefix(keyPrefix), key.utf8.count < 200 else { return .failure(.unknown) }
        // Every request does this: prepared once per connection.
        var found: KeyLookup.Row?
        for try await row in try await c.execute(KeyLookup(hash: hashKey(key)), logger: logger) { found = row }
        guard
            let (keyId, expires, revoked, orgId, kind, name, uscc, keyRole, userId, login, userName, staff, userRole, userDisabled) = found
        else { return .failure(.unknown) }
        if revoked != nil { return .failure(.revoked) }
        if let expires, expires <= now { return .failure(.expired) }
        // A key owned by a user acts for that user, with the user's role, while the user is enabled.
        if userId != nil, userDisabled != nil { return .failure(.revoked) }
        guard let k = OrgKind(rawValue: kind), let r = OrgRole(rawValue: userRole ?? keyRole) else {
            preconditionFailure("organisations.kind and the role CHECKs admit only known values")
        }
        var user: UserRef?
        if let userId, let login, let userName { user = UserRef(id: userId, login: login, name: userName, staffNumber: staff, role: r) }
        return .success(Principal(orgId: orgId, kind: k, orgName: name, uscc: uscc, keyId: keyId, user: user, role: r))
    }
}

extension Register {
    /// The amount above which a bank's offer needs a manager (nil: no limit).
    public static func officerOfferLimit(on c: PostgresConnection, logger: Logger, bank: UUID) async throws -> Int64? {
        try await c.query("SELECT officer_offer_limit_fen FROM organisations WHERE id = \(bank)", logger: logger).collect().first?
            .decode(Int64?.self) ?? nil
    }

    public static func setOfficerOfferLimit(on c: PostgresConnection, logger: Logger, bank: UUID, limit: Int64?) async throws {
        try await c.query(
            "UPDATE organisations SET officer_offer_limit_fen = \(limit) WHERE id = \(bank) AND kind = 'bank'",
            logger: logger
        )
    }
}

/// The key look-up of every authenticated request.
struct KeyLookup: PostgresPreparedStatement {
    static let name = "xyd_key_lookup"
    static let sql = """
        SELECT k.id, k.expires_at, k.revoked_at, o.id, o.kind, o.name, o.uscc, k.role,
               u.id, u.login, u.name, u.staff_number, u.role, u.disabled_at
        FROM api_keys k JOIN organisations o ON o.id = k.org_id LEFT JOIN org_user u ON u.id = k.user_id
        WHERE k.key_hash = $1
        """
    typealias Row = (UUID, Date?, Date?, UUID, String, String, String?, String, UUID?, String?, String?, String?, String?, Date?)
    let hash: Data

    func makeBindings() throws -> PostgresBindings {
        var b = PostgresBindings(capacity: 1)
        try b.append(hash)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
