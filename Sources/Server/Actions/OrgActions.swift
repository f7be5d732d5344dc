import CreditCore
import Foundation
import Hummingbird
import Store

/// What organisation and key management does — checks, one transaction, the audit row —
/// whichever face asks: the API (OrgRoutes) and the operator's console.
struct OrgActions {
    let db: Database

    struct NewOrganisation: Decodable {
        let kind: OrgKind
        let name: String
        let uscc: String?
    }

    struct NewKey: Decodable {
        let label: String?
        let expiresAt: Date?
        /// A person of the organisation who owns the key (it acts as them).
        let userId: UUID?
        /// The machine the key is for.
        let systemName: String?
        /// The role a system's key acts with.
        let role: String?

        /// Who owns the key and the role a system's key acts with, or the 422 saying what is wrong.
        func owner(kind: OrgKind) throws -> (KeyOwner, OrgRole?) {
            if let userId {
                guard systemName == nil, role == nil else {
                    throw Problem.invalid("user_id", "a person's key acts with the person's role: give no role nor system_name with it")
                }
                return (.user(userId), nil)
            }
            var r: OrgRole?
            if let role {
                guard let parsed = OrgRole(rawValue: role), parsed.belongs(to: kind) else {
                    throw Problem.invalid("role", "one of \(OrgRole.roles(of: kind).map(\.rawValue).joined(separator: ", "))")
                }
                r = parsed
            }
            return (.system(systemName ?? "integration"), r)
        }
    }

    /// An operator registers an organisation.
    func create(_ call: Call, _ body: NewOrganisation) async throws -> Organisation {
        try await Self.mapped {
            try await call.audited(
                db,
                action: "org.create",
                subject: { .init(uscc: $0.uscc, id: $0.id.uuidString, detail: ["kind": $0.kind.rawValue]) },
                do: { c in
                    try await Register.createOrganisation(on: c, logger: call.logger, kind: body.kind, name: body.name, uscc: body.uscc)
                }
            )
        }
    }

    /// The register's refusals as the problems the API answers (with their Chinese), so that a
    /// page's form shows them in place.
    static func mapped<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch let e as RegisterError { throw ProblemMiddleware.fromRegisterError(e) }
    }

    /// Issues a key for `orgId` (the caller's own, or any for an operator).
    func issue(_ call: Call, for orgId: UUID, _ body: NewKey) async throws -> IssuedKey {
        let kind = try await db.withConnection { c in try await Register.organisation(on: c, logger: call.logger, id: orgId)?.kind }
        guard let kind else { throw Problem(.notFound, "no organisation \(orgId)") }
        let (owner, role) = try body.owner(kind: kind)
        // Over the API a key always expires: when none is asked, after the default validity.
        let expiresAt = body.expiresAt ?? Date().addingTimeInterval(Double(OrganisationLimits.keyDefaultValidityDays) * 86_400)
        return try await Self.mapped {
            try await call.audited(
                db,
                action: "key.issue",
                subject: { .init(id: $0.info.id.uuidString, detail: ["org_id": orgId.uuidString]) },
                do: { c in
                    try await Register.issueKey(
                        on: c,
                        logger: call.logger,
                        orgId: orgId,
                        label: body.label ?? "",
                        expiresAt: expiresAt,
                        issuedBy: call.caller.keyId,
                        owner: owner,
                        role: role
                    )
                }
            )
        }
    }

    /// Revokes a key of the caller's organisation (an operator's: any).
    func revoke(_ call: Call, key id: UUID) async throws -> APIKeyInfo {
        try await Self.mapped {
            try await call.audited(
                db,
                action: "key.revoke",
                subject: { .init(id: id.uuidString, detail: ["org_id": $0.orgId.uuidString]) },
                do: { c in
                    // Another organisation's key is answered as absent: its existence is not told.
                    guard let key = try await Register.key(on: c, logger: call.logger, id: id),
                        key.orgId == call.caller.orgId || call.caller.kind == .operator
                    else { throw Problem(.notFound, "no key \(id)") }
                    return try await Register.revokeKey(on: c, logger: call.logger, id: id)
                }
            )
        }
    }
}
