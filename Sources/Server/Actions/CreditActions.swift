import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PostgresNIO
import Store

/// What a business's authorisations and its own reports do — checks, one transaction, the audit
/// row — whichever face asks: the API's routes (CreditRoutes) and the portal's forms call these.
struct CreditActions {
    let db: Database
    let signer: ReportSigner?

    struct NewAuthorisation: Decodable {
        let bankOrgId: UUID
        let scopes: [AuthorisationScope]
        let purpose: AccessPurpose
        let expiresAt: Date
    }

    /// A business authorises a bank (the API's and the portal's way alike).
    func grant(_ call: Call, _ body: NewAuthorisation) async throws -> Authorisation {
        let uscc = try call.ownUSCC()
        guard !body.scopes.isEmpty else { throw Problem.invalid("scopes", "at least one of profile, report, records", zh: "请至少选择一项可查看的范围") }
        do {
            return try await call.audited(
                db,
                action: "authorisation.grant",
                subject: {
                    .init(
                        uscc: uscc,
                        id: $0.id.uuidString.lowercased(),
                        purpose: $0.purpose.rawValue,
                        detail: ["bank_org_id": $0.bankOrgId.uuidString.lowercased()]
                    )
                },
                do: { c in
                    try await Authorisations.grant(
                        c,
                        logger: call.logger,
                        enterpriseOrgId: call.caller.orgId,
                        uscc: uscc,
                        bankOrgId: body.bankOrgId,
                        scopes: body.scopes,
                        purpose: body.purpose,
                        expiresAt: body.expiresAt
                    )
                }
            )
        } catch AuthorisationError.notABank {
            throw Problem.invalid("bank_org_id", "the id of a bank organisation", zh: "请选择一家银行")
        } catch let AuthorisationError.badExpiry(why) {
            throw Problem.invalid("expires_at", why, zh: "授权期限须在今天之后、不超过允许的最长期限")
        }
    }

    /// A business revokes one of its authorisations: effective for every read that starts after.
    func revoke(_ call: Call, id: UUID) async throws -> Authorisation {
        let uscc = try call.ownUSCC()
        return try await call.audited(
            db,
            action: "authorisation.revoke",
            subject: { _ in .init(uscc: uscc, id: id.uuidString.lowercased()) },
            do: { c in
                guard let a = try await Authorisations.revoke(c, logger: call.logger, id: id, uscc: uscc) else {
                    throw Problem(.notFound, "no authorisation \(id) of yours", zh: "没有找到本企业的这项授权。")
                }
                return a
            }
        )
    }

    /// A business's own signed report, as of now or a past moment.
    func ownReport(_ call: Call, asOf: Date?) async throws -> SignedReport {
        let uscc = try call.ownUSCC()
        let signer = try requireSigner()
        do {
            return try await call.audited(
                db,
                action: "report.create",
                subject: { .init(uscc: uscc, id: $0.number, purpose: "self") },
                do: {
                    c in
                    try await Reports.create(
                        c,
                        logger: call.logger,
                        signer: signer,
                        uscc: uscc,
                        requestedBy: call.caller.orgId,
                        requesterName: call.caller.orgName,
                        requesterKind: call.caller.kind.rawValue,
                        authorisationId: nil,
                        purpose: "self",
                        asOf: asOf
                    )
                }
            )
        } catch let e as ReportError { throw Self.mapReportError(e) }
    }

    func requireSigner() throws -> ReportSigner {
        guard let signer else { throw Problem(.notReady, "no report signing key is configured (XYD_SIGNING_KEY_FILE)") }
        return signer
    }

    static func mapReportError(_ e: ReportError) -> Problem {
        switch e {
        case .noScorecard: Problem(.conflict, e.description)
        case .noRecords: Problem(.notFound, e.description)
        case .future: Problem.invalid("as_of", "a moment not in the future")
        }
    }

    // MARK: A bank's authorised reads (the API's routes and the portal's look-up)

    struct ProfileBody: Encodable {
        let profile: StoredProfile
        /// Per feature, the records behind it (when asked for with `?lineage=true`).
        let lineage: [String: [RecordRef]]?
        let authorisationId: UUID?
    }
    enum Outcome<T: Sendable>: Sendable {
        case allowed(T)
        case denied
    }
    /// A bank's read: in one transaction, the live authorisation (locked against revocation),
    /// the read, and the audit row; without one, a denied audit row is committed and 403 answered.
    func bankRead<T: Sendable>(
        _ call: Call,
        uscc: String,
        scope: AuthorisationScope,
        purpose: AccessPurpose,
        action: String,
        _ read: @Sendable (PostgresConnection, UUID) async throws -> T
    ) async throws -> (T, UUID) {
        let outcome: Outcome<(T, UUID)> = try await db.withTransaction { c in
            guard
                let auth = try await Authorisations.live(
                    c,
                    logger: call.logger,
                    bankOrgId: call.caller.orgId,
                    uscc: uscc,
                    scope: scope,
                    purpose: purpose
                )
            else {
                try await Audit.record(
                    on: c,
                    logger: call.logger,
                    call.auditEntry(
                        action: action,
                        result: .denied,
                        subjectUSCC: uscc,
                        purpose: purpose.rawValue,
                        detail: ["scope": scope.rawValue, "why": "no live authorisation"]
                    )
                )
                return .denied
            }
            let value = try await read(c, auth)
            try await Audit.record(
                on: c,
                logger: call.logger,
                call.auditEntry(
                    action: action,
                    result: .allowed,
                    subjectUSCC: uscc,
                    purpose: purpose.rawValue,
                    detail: ["scope": scope.rawValue, "authorisation_id": auth.uuidString.lowercased()]
                )
            )
            return .allowed((value, auth))
        }
        switch outcome {
        case .allowed(let v): return v
        case .denied:
            throw Problem(
                .authorisationRequired,
                "no live authorisation from \(uscc) lets this bank read its \(scope.rawValue) for \(purpose.rawValue)"
            )
        }
    }
    static func lineage(_ c: PostgresConnection, logger: Logger, profile: StoredProfile) async throws -> [String: [RecordRef]] {
        let l = try await CheckUp.lineage(c, logger: logger, profile: profile)
        var out: [String: [RecordRef]] = [:]
        for feature in Feature.allCases { out[feature.rawValue] = l[feature] ?? [] }
        return out
    }
    static func profileBody(_ c: PostgresConnection, logger: Logger, uscc: String, lineage: Bool, auth: UUID?) async throws -> ProfileBody {
        guard let p = try await ProfileStore.profile(c, uscc: uscc, logger: logger) else {
            throw Problem(.notFound, "no profile of \(uscc) yet: no records, or not yet computed")
        }
        return ProfileBody(
            profile: p,
            lineage: lineage ? try await Self.lineage(c, logger: logger, profile: p) : nil,
            authorisationId: auth
        )
    }
}
