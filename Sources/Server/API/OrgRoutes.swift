import CreditCore
import Foundation
import Hummingbird
import Store

/// Organisations and their API keys: operators manage every organisation; every
/// organisation manages its own keys (rotation). Each change is audited in its transaction.
struct OrgRoutes {
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

    struct Me: Encodable {
        let organisation: Organisation
        let keyId: UUID?
        /// The role within the organisation the key acts with.
        let role: OrgRole
        /// The person owning the key, when a user does.
        let user: UserRef?
    }

    func register(_ api: API) {
        api.on(.get, "/v1/me") { call in
            let org = try await db.withConnection { c in
                try await Register.organisation(on: c, logger: call.logger, id: call.caller.orgId)
            }
            guard let org else { throw Problem(.notFound) }
            return try JSON.response(Me(organisation: org, keyId: call.caller.keyId, role: call.caller.role, user: call.caller.user))
        }
        api.on(.get, "/v1/orgs") { call in
            let query = call.request.uri.queryParameters
            let kind = try query.get("kind").map { text in
                guard let k = OrgKind(rawValue: text) else {
                    throw Problem.invalid("kind", "one of \(OrgKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return k
            }
            let after = try query.get("after").map { text in
                guard let id = UUID(uuidString: text) else { throw Problem.invalid("after", "an organisation id") }
                return id
            }
            let limit = try PageLimits.size(call.request)
            let orgs = try await db.withConnection { c in
                try await Register.organisations(on: c, logger: call.logger, kind: kind, after: after, limit: limit)
            }
            return try JSON.response(Page(items: orgs, next: orgs.count == limit ? orgs.last?.id.uuidString : nil))
        }
        api.on(.post, "/v1/orgs") { call in
            let body = try await call.decode(NewOrganisation.self)
            let org = try await call.audited(
                db,
                action: "org.create",
                subject: { .init(uscc: $0.uscc, id: $0.id.uuidString, detail: ["kind": $0.kind.rawValue]) },
                do: { c in
                    try await Register.createOrganisation(on: c, logger: call.logger, kind: body.kind, name: body.name, uscc: body.uscc)
                }
            )
            return try JSON.response(org, status: .created)
        }
        api.on(.get, "/v1/orgs/:orgId") { call in
            let id = try call.uuidParameter("orgId")
            let org = try await db.withConnection { c in try await Register.organisation(on: c, logger: call.logger, id: id) }
            guard let org else { throw Problem(.notFound, "no organisation \(id)") }
            return try JSON.response(org)
        }
        api.on(.get, "/v1/orgs/:orgId/keys") { call in
            let id = try call.uuidParameter("orgId")
            let keys = try await db.withConnection { c in
                guard try await Register.organisation(on: c, logger: call.logger, id: id) != nil else {
                    throw Problem(.notFound, "no organisation \(id)")
                }
                return try await Register.keys(on: c, logger: call.logger, orgId: id)
            }
            return try JSON.response(Page(items: keys, next: nil))
        }
        api.on(.post, "/v1/orgs/:orgId/keys") { call in
            let id = try call.uuidParameter("orgId")
            return try await issue(call, for: id)
        }
        api.on(.get, "/v1/keys") { call in
            let keys = try await db.withConnection { c in
                try await Register.keys(on: c, logger: call.logger, orgId: call.caller.orgId)
            }
            return try JSON.response(Page(items: keys, next: nil))
        }
        api.on(.post, "/v1/keys") { call in
            try await issue(call, for: call.caller.orgId)
        }
        api.on(.delete, "/v1/keys/:keyId") { call in
            let id = try call.uuidParameter("keyId")
            let revoked = try await call.audited(
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
            return try JSON.response(revoked)
        }
    }

    /// Issues a key for `orgId` (the caller's own, or any for an operator).
    func issue(_ call: Call, for orgId: UUID) async throws -> Response {
        let body = try await call.decode(NewKey.self)
        let kind = try await db.withConnection { c in try await Register.organisation(on: c, logger: call.logger, id: orgId)?.kind }
        guard let kind else { throw Problem(.notFound, "no organisation \(orgId)") }
        let (owner, role) = try body.owner(kind: kind)
        // Over the API a key always expires: when none is asked, after the default validity.
        let expiresAt = body.expiresAt ?? Date().addingTimeInterval(Double(OrganisationLimits.keyDefaultValidityDays) * 86_400)
        let issued = try await call.audited(
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
        return try JSON.response(issued, status: .created)
    }
}
