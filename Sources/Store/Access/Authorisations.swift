import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What an authorisation lets a bank read.
public enum AuthorisationScope: String, CaseIterable, Sendable, Codable { case profile, report, records }

/// Why a bank reads.
public enum AccessPurpose: String, CaseIterable, Sendable, Codable {
    case loanApplication = "loan_application"
    case postLoanMonitoring = "post_loan_monitoring"
    case creditLineReview = "credit_line_review"
}

public struct Authorisation: Sendable, Codable, Equatable {
    public let id: UUID
    public let uscc: String
    public let bankOrgId: UUID
    public let bankName: String
    public let scopes: [AuthorisationScope]
    public let purpose: AccessPurpose
    public let grantedAt: Date
    public let expiresAt: Date
    public let revokedAt: Date?
    /// Who or what ended it: `business`, `bank_passed`, `no_longer_matching`, `demand_taken_up`
    /// (the demand's places were taken by other banks), `bank_declined`, `offer_lapsed` (its
    /// take-up or offer lapsed), `demand_closed` (decided, lent, withdrawn, expired).
    public let revokedBy: String?
    public let source: String
    /// `live`, `expired` or `revoked`, as of the read.
    public let status: String

    enum CodingKeys: String, CodingKey {
        case id, uscc, scopes, purpose, source, status
        case bankOrgId = "bank_org_id"
        case bankName = "bank_name"
        case grantedAt = "granted_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case revokedBy = "revoked_by"
    }
}

public enum AuthorisationError: Error, CustomStringConvertible {
    case notABank(UUID)
    case badExpiry(String)
    public var description: String {
        switch self {
        case .notABank(let id): "organisation \(id) is not a bank"
        case .badExpiry(let why): why
        }
    }
}

/// Consent records. Reads lock the authorisation they rely on (FOR SHARE), so a revocation
/// waits for reads in flight and every read after its commit is denied.
public enum Authorisations {
    /// The longest an authorisation may run.
    public static let maxLifetimeDays = 365
    public static let listLimit = 500

    static let columns = """
        a.id, a.uscc, a.bank_org_id, o.name, a.scopes, a.purpose, a.granted_at, a.expires_at, a.revoked_at, a.revoked_by, a.source,
        CASE WHEN \(Live.authorisation("a")) THEN 'live' WHEN a.revoked_at IS NOT NULL THEN 'revoked' ELSE 'expired' END
        """

    static func decode(_ rows: PostgresRowSequence) async throws -> [Authorisation] {
        var out: [Authorisation] = []
        for try await (id, uscc, bank, name, scopes, purpose, granted, expires, revoked, revokedBy, source, status) in rows.decode(
            (UUID, String, UUID, String, [String], String, Date, Date, Date?, String?, String, String).self
        ) {
            out.append(
                Authorisation(
                    id: id,
                    uscc: uscc,
                    bankOrgId: bank,
                    bankName: name,
                    scopes: scopes.compactMap(AuthorisationScope.init),
                    purpose: AccessPurpose(rawValue: purpose) ?? .loanApplication,
                    grantedAt: granted,
                    expiresAt: expires,
                    revokedAt: revoked,
                    revokedBy: revokedBy,
                    source: source,
                    status: status
                )
            )
        }
        return out
    }

    public static func grant(
        _ c: PostgresConnection,
        logger: Logger,
        enterpriseOrgId: UUID,
        uscc: String,
        bankOrgId: UUID,
        scopes: [AuthorisationScope],
        purpose: AccessPurpose,
        expiresAt: Date,
        source: String = "business"
    ) async throws -> Authorisation {
        let bank = try await c.query("SELECT kind FROM organisations WHERE id = \(bankOrgId)", logger: logger).collect()
        guard let kind = try bank.first?.decode(String.self), kind == OrgKind.bank.rawValue else {
            throw AuthorisationError.notABank(bankOrgId)
        }
        let now = try await c.query("SELECT now()", logger: logger).collect()[0].decode(Date.self)
        guard expiresAt > now else { throw AuthorisationError.badExpiry("expires_at must be in the future") }
        guard expiresAt <= now.addingTimeInterval(Double(maxLifetimeDays) * 86_400) else {
            throw AuthorisationError.badExpiry("expires_at may be at most \(maxLifetimeDays) days away")
        }
        let distinct = Array(Set(scopes.map(\.rawValue))).sorted()
        let id = try await c.query(
            """
            INSERT INTO authorisation (uscc, enterprise_org_id, bank_org_id, scopes, purpose, expires_at, source)
            VALUES (\(uscc), \(enterpriseOrgId), \(bankOrgId), \(distinct)::text[], \(purpose.rawValue), \(expiresAt), \(source))
            RETURNING id
            """,
            logger: logger
        ).collect()[0].decode(UUID.self)
        return try await find(c, logger: logger, id: id)!
    }

    public static func find(_ c: PostgresConnection, logger: Logger, id: UUID) async throws -> Authorisation? {
        try await decode(
            c.query(
                "SELECT \(unescaped: columns) FROM authorisation a JOIN organisations o ON o.id = a.bank_org_id WHERE a.id = \(id)",
                logger: logger
            )
        ).first
    }

    /// A business's authorisations, newest first.
    public static func forEnterprise(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> [Authorisation] {
        try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM authorisation a JOIN organisations o ON o.id = a.bank_org_id
                WHERE a.uscc = \(uscc) ORDER BY a.granted_at DESC LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
    }

    /// The authorisations granted to a bank that are live now, newest first.
    public static func forBank(_ c: PostgresConnection, logger: Logger, bankOrgId: UUID, liveOnly: Bool) async throws -> [Authorisation] {
        try await decode(
            c.query(
                """
                SELECT \(unescaped: columns) FROM authorisation a JOIN organisations o ON o.id = a.bank_org_id
                WHERE a.bank_org_id = \(bankOrgId)
                  AND (NOT \(liveOnly) OR (\(unescaped: Live.authorisation("a"))))
                ORDER BY a.granted_at DESC LIMIT \(listLimit)
                """,
                logger: logger
            )
        )
    }

    /// Revokes one of this business's authorisations (at once; reads in flight finish first).
    /// nil when it is not this business's.
    public static func revoke(_ c: PostgresConnection, logger: Logger, id: UUID, uscc: String) async throws -> Authorisation? {
        let revoked = try await c.query(
            """
            UPDATE authorisation SET revoked_at = now(), revoked_by = 'business' WHERE id = \(id) AND uscc = \(uscc) AND revoked_at IS NULL
            RETURNING 1
            """,
            logger: logger
        ).collect()
        // The business's own demand authorisation of a bank holding the demand: its part ends with it.
        if !revoked.isEmpty { try await Demands.revokedByBusiness(c, logger: logger, authorisation: id) }
        guard let a = try await find(c, logger: logger, id: id), a.uscc == uscc else { return nil }
        return a
    }

    /// The live authorisation this read rests on, locked against revocation until the
    /// transaction ends; nil when there is none.
    public static func live(
        _ c: PostgresConnection,
        logger: Logger,
        bankOrgId: UUID,
        uscc: String,
        scope: AuthorisationScope,
        purpose: AccessPurpose
    ) async throws -> UUID? {
        try await c.query(
            """
            SELECT id FROM authorisation
            WHERE bank_org_id = \(bankOrgId) AND uscc = \(uscc) AND \(scope.rawValue) = ANY(scopes) AND purpose = \(purpose.rawValue)
              AND \(unescaped: Live.authorisation())
            ORDER BY expires_at DESC LIMIT 1
            FOR SHARE
            """,
            logger: logger
        ).collect().first?.decode(UUID.self)
    }

    public struct Access: Sendable, Codable {
        public let at: Date
        public let bankOrgId: UUID?
        public let bankName: String?
        public let action: String
        public let purpose: String?
        public let result: String
        public let authorisationId: String?
        /// The bank's person who read (issue 22): their name and staff number.
        public var officerName: String? = nil
        public var officerStaffNumber: String? = nil
        /// The bank's system that read, when a machine's key did.
        public var systemName: String? = nil
        /// Where the bank saw the data: `queue` — the grade and score on its officer's queue.
        public var view: String? = nil
        enum CodingKeys: String, CodingKey {
            case at, action, purpose, result
            case bankOrgId = "bank_org_id"
            case bankName = "bank_name"
            case authorisationId = "authorisation_id"
            case officerName = "officer_name"
            case officerStaffNumber = "officer_staff_number"
            case systemName = "system_name"
            case view
        }
    }

    /// Who looked at this business: banks' reads (allowed and denied), newest first.
    public static func accessLog(_ c: PostgresConnection, logger: Logger, uscc: String, limit: Int) async throws -> [Access] {
        var out: [Access] = []
        for try await (at, org, name, action, purpose, result, auth, officer, staff, system, view) in try await c.query(
            """
            SELECT l.occurred_at, l.actor_org_id, o.name, l.action, l.purpose, l.result, l.detail->>'authorisation_id',
                   u.name, u.staff_number, CASE WHEN u.id IS NULL THEN k.system_name END, l.detail->>'view'
            FROM audit_log l LEFT JOIN organisations o ON o.id = l.actor_org_id
                 LEFT JOIN org_user u ON u.id = l.actor_user_id
                 LEFT JOIN api_keys k ON k.id = l.actor_key_id
            WHERE l.subject_uscc = \(uscc) AND l.actor_kind = 'bank'
            ORDER BY l.occurred_at DESC LIMIT \(limit)
            """,
            logger: logger
        ).decode((Date, UUID?, String?, String, String?, String, String?, String?, String?, String?, String?).self) {
            var a = Access(at: at, bankOrgId: org, bankName: name, action: action, purpose: purpose, result: result, authorisationId: auth)
            a.officerName = officer
            a.officerStaffNumber = staff
            a.systemName = system
            a.view = view
            out.append(a)
        }
        return out
    }
}
