import CreditCore
import Foundation
import Hummingbird
import Store

/// Organisations and their API keys: operators manage every organisation; every
/// organisation manages its own keys (rotation). Each change is audited in its transaction.
struct OrgRoutes {
    let db: Database

    var actions: OrgActions { OrgActions(db: db) }

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
            let body = try await call.decode(OrgActions.NewOrganisation.self)
            return try JSON.response(try await actions.create(call, body), status: .created)
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
            return try JSON.response(try await actions.revoke(call, key: id))
        }
    }

    /// Issues a key for `orgId` (the caller's own, or any for an operator).
    func issue(_ call: Call, for orgId: UUID) async throws -> Response {
        let body = try await call.decode(OrgActions.NewKey.self)
        return try JSON.response(try await actions.issue(call, for: orgId, body), status: .created)
    }
}
