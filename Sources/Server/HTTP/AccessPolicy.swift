import CreditCore
import HTTPTypes

/// Who may call a route.
public enum Access: Sendable, Equatable {
    /// No key needed (health, readiness, metrics).
    case open
    /// A valid key of an organisation of one of these kinds.
    case roles(Set<OrgKind>)
    /// A browser session (signed in with a key) of one of these kinds; a page without one
    /// redirects to the sign-in page.
    case session(Set<OrgKind>)

    public static let anyRole = Access.roles(Set(OrgKind.allCases))
}

public struct RouteRule: Sendable {
    public let method: HTTPRequest.Method
    /// Hummingbird path template, e.g. `/v1/orgs/:orgId`.
    public let path: String
    public let access: Access
    /// The handler checks the caller's key again inside its own statement, so the caller may
    /// come from the key cache (the hot read paths).
    public var handlerChecksKey = false
    /// The role within the organisation the caller needs (issue 22): every member, a manager
    /// (or above), or an admin. A person's role is their user's; a machine key's is its own.
    public var rank: OrgRole.Rank = .member

    public var key: String { "\(method.rawValue) \(path)" }
}

/// The role × route rules, in one place. Every route the server registers must appear here
/// (registration fails otherwise) and a test walks the whole matrix.
public enum AccessPolicy {
    public static let rules: [RouteRule] = [
        .init(method: .get, path: "/healthz", access: .open),
        .init(method: .get, path: "/readyz", access: .open),
        .init(method: .get, path: "/metrics", access: .open),
        .init(method: .get, path: "/v1/me", access: .anyRole),
        .init(method: .get, path: "/v1/keys", access: .anyRole, rank: .admin),
        .init(method: .post, path: "/v1/keys", access: .anyRole, rank: .admin),
        .init(method: .delete, path: "/v1/keys/:keyId", access: .anyRole, rank: .admin),
        .init(method: .get, path: "/v1/users", access: .anyRole, rank: .admin),
        .init(method: .post, path: "/v1/users", access: .anyRole, rank: .admin),
        .init(method: .post, path: "/v1/users/:userId/disable", access: .anyRole, rank: .admin),
        .init(method: .post, path: "/v1/users/:userId/reset", access: .anyRole, rank: .admin),
        .init(method: .get, path: "/v1/bank/settings", access: .roles([.bank])),
        .init(method: .put, path: "/v1/bank/settings", access: .roles([.bank]), rank: .admin),
        // Operators: any may look; organisations, their people and keys are an operator admin's.
        .init(method: .get, path: "/v1/orgs/:orgId/users", access: .roles([.operator])),
        .init(method: .post, path: "/v1/orgs/:orgId/users", access: .roles([.operator]), rank: .admin),
        .init(method: .post, path: "/v1/orgs/:orgId/users/:userId/disable", access: .roles([.operator]), rank: .admin),
        .init(method: .post, path: "/v1/orgs/:orgId/users/:userId/reset", access: .roles([.operator]), rank: .admin),
        .init(method: .get, path: "/v1/orgs", access: .roles([.operator])),
        .init(method: .post, path: "/v1/orgs", access: .roles([.operator]), rank: .admin),
        .init(method: .get, path: "/v1/orgs/:orgId", access: .roles([.operator])),
        .init(method: .get, path: "/v1/orgs/:orgId/keys", access: .roles([.operator])),
        .init(method: .post, path: "/v1/orgs/:orgId/keys", access: .roles([.operator]), rank: .admin),
        .init(method: .get, path: "/v1/me/profile", access: .roles([.enterprise]), handlerChecksKey: true),
        .init(method: .get, path: "/v1/me/records", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/advice", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/authorisations", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/authorisations", access: .roles([.enterprise])),
        .init(method: .delete, path: "/v1/me/authorisations/:authorisationId", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/access-log", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/reports", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/authorisations", access: .roles([.bank])),
        .init(method: .get, path: "/v1/enterprises/:uscc/profile", access: .roles([.bank]), handlerChecksKey: true),
        .init(method: .get, path: "/v1/enterprises/:uscc/records", access: .roles([.bank])),
        .init(method: .post, path: "/v1/enterprises/:uscc/reports", access: .roles([.bank])),
        .init(method: .get, path: "/v1/reports/:number", access: .roles([.bank, .enterprise])),
        .init(method: .get, path: "/v1/reports/:number/verification", access: .open),
        .init(method: .get, path: "/v1/signing-key", access: .open),
        .init(method: .get, path: "/v1/me/demands", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/demands", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/demands/:demandId", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/demands/:demandId/withdraw", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/demands/:demandId/offers/:offerId/accept", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/demands", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/take-up", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/pass", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/offer", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/decline", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/disburse", access: .roles([.bank])),
        .init(method: .get, path: "/v1/demands/:demandId/outcomes", access: .roles([.bank])),
        .init(method: .post, path: "/v1/demands/:demandId/outcomes", access: .roles([.bank])),
        .init(method: .get, path: "/v1/regulator/funnel", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/timing", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/referrals", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/first-loans", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/rates", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/declines", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/banks", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/quality", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/grades", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/applicant-grades", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/stability", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/separation", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/segments", access: .roles([.regulator])),
        .init(method: .get, path: "/dashboard/login", access: .open),
        .init(method: .post, path: "/dashboard/login", access: .open),
        .init(method: .post, path: "/dashboard/logout", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard/password", access: .session([.regulator])),
        .init(method: .post, path: "/dashboard/password", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard/inclusion", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard/banks", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard/quality", access: .session([.regulator])),
        .init(method: .get, path: "/dashboard/model", access: .session([.regulator])),
        .init(method: .get, path: "/static/dashboard.css", access: .open),
        // The portal: businesses' pages for enterprise sessions, officers' pages for bank sessions.
        .init(method: .get, path: "/static/portal.css", access: .open),
        .init(method: .get, path: "/portal/lang", access: .open),
        .init(method: .get, path: "/portal/login", access: .open),
        .init(method: .get, path: "/", access: .open),
        .init(method: .get, path: "/portal/catalogue", access: .open),
        .init(method: .post, path: "/portal/login", access: .open),
        .init(method: .post, path: "/portal/logout", access: .session([.enterprise, .bank])),
        .init(method: .get, path: "/portal/users", access: .session([.enterprise, .bank]), rank: .admin),
        .init(method: .post, path: "/portal/users", access: .session([.enterprise, .bank]), rank: .admin),
        .init(method: .post, path: "/portal/users/:userId/reset", access: .session([.enterprise, .bank]), rank: .admin),
        .init(method: .post, path: "/portal/users/:userId/disable", access: .session([.enterprise, .bank]), rank: .admin),
        .init(method: .get, path: "/portal/password", access: .session([.enterprise, .bank])),
        .init(method: .post, path: "/portal/password", access: .session([.enterprise, .bank])),
        .init(method: .get, path: "/portal", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/access", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/authorisations/:authorisationId/revoke", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/authorisations/:authorisationId/revoke", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/authorisations", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/demands/:demandId/withdraw", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/demands/:demandId/offers/:offerId/accept", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/financing", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/demands", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/demands/:demandId", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/governance", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/objections/new", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/objections", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/repairs/new", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/repairs", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/commitments", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/reports", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/reports", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/reports/:number", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/reports/:number/download", access: .session([.enterprise])),
        .init(method: .get, path: "/portal/bank", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/take-up", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/decline", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/pass", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/disburse", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/offer", access: .session([.bank])),
        .init(method: .get, path: "/portal/bank/loans", access: .session([.bank])),
        .init(method: .post, path: "/portal/bank/demands/:demandId/outcome", access: .session([.bank])),
        .init(method: .get, path: "/portal/bank/lookup", access: .session([.bank])),
        .init(method: .get, path: "/portal/bank/events", access: .session([.bank])),
        .init(method: .post, path: "/v1/silent-queries", access: .roles([.procurement])),
        .init(method: .get, path: "/v1/silent-queries/:queryId", access: .roles([.procurement])),
        .init(method: .get, path: "/v1/public/enterprises", access: .open),
        .init(method: .get, path: "/v1/public/products", access: .open),
        .init(method: .get, path: "/v1/public/scorecard", access: .open),
        .init(method: .get, path: "/v1/public/enterprises/:uscc", access: .open),
        .init(method: .post, path: "/v1/me/objections", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/objections", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/objections", access: .roles([.operator])),
        .init(method: .post, path: "/v1/objections/:objectionId/uphold", access: .roles([.operator])),
        .init(method: .post, path: "/v1/objections/:objectionId/reject", access: .roles([.operator])),
        .init(method: .post, path: "/v1/objections/:objectionId/unverifiable", access: .roles([.operator])),
        .init(method: .post, path: "/v1/me/statements", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/repairs/commitments", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/messages", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/messages/seen", access: .roles([.enterprise])),
        .init(method: .get, path: "/portal/messages", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/messages/seen", access: .session([.enterprise])),
        .init(method: .get, path: "/v1/me/statements", access: .roles([.enterprise])),
        .init(method: .post, path: "/v1/me/statements/:statementId/withdraw", access: .roles([.enterprise])),
        .init(method: .get, path: "/portal/statements/new", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/statements", access: .session([.enterprise])),
        .init(method: .post, path: "/portal/statements/:statementId/withdraw", access: .session([.enterprise])),
        .init(method: .post, path: "/v1/me/repairs", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/repairs", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/repairs", access: .roles([.operator])),
        .init(method: .post, path: "/v1/repairs/:repairId/approve", access: .roles([.operator])),
        .init(method: .post, path: "/v1/repairs/:repairId/reject", access: .roles([.operator])),
        .init(method: .get, path: "/v1/commitments/catalogue", access: .open),
        .init(method: .post, path: "/v1/me/commitments", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/me/commitments", access: .roles([.enterprise])),
        .init(method: .get, path: "/v1/regulator/commitments", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/repairs", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/regulator/governance", access: .roles([.regulator])),
        .init(method: .get, path: "/v1/webhooks", access: .roles([.bank, .enterprise])),
        .init(method: .post, path: "/v1/webhooks", access: .roles([.bank, .enterprise]), rank: .admin),
        .init(method: .delete, path: "/v1/webhooks/:endpointId", access: .roles([.bank, .enterprise]), rank: .admin),
        .init(method: .get, path: "/v1/webhooks/deliveries", access: .roles([.bank, .enterprise])),
        .init(method: .post, path: "/v1/webhooks/:endpointId/replay", access: .roles([.bank, .enterprise])),
        .init(method: .get, path: "/v1/products", access: .roles([.bank])),
        .init(method: .post, path: "/v1/products", access: .roles([.bank]), rank: .manager),
        .init(method: .get, path: "/v1/products/:productId", access: .roles([.bank])),
        .init(method: .put, path: "/v1/products/:productId", access: .roles([.bank]), rank: .manager),
        .init(method: .post, path: "/v1/products/:productId/publish", access: .roles([.bank]), rank: .manager),
        .init(method: .post, path: "/v1/products/:productId/pause", access: .roles([.bank]), rank: .manager),
        .init(method: .post, path: "/v1/products/:productId/retire", access: .roles([.bank]), rank: .manager),
        .init(method: .get, path: "/v1/audit", access: .roles([.operator])),
        .init(method: .get, path: "/v1/audit/verification", access: .roles([.operator])),
        // The operators' console: the same ranks as the API routes it stands for.
        .init(method: .get, path: "/console/login", access: .open),
        .init(method: .post, path: "/console/login", access: .open),
        .init(method: .post, path: "/console/logout", access: .session([.operator])),
        .init(method: .get, path: "/console/password", access: .session([.operator])),
        .init(method: .post, path: "/console/password", access: .session([.operator])),
        .init(method: .get, path: "/console", access: .session([.operator])),
        .init(method: .get, path: "/console/objections", access: .session([.operator])),
        .init(method: .post, path: "/console/objections/:objectionId/uphold", access: .session([.operator])),
        .init(method: .post, path: "/console/objections/:objectionId/reject", access: .session([.operator])),
        .init(method: .post, path: "/console/objections/:objectionId/unverifiable", access: .session([.operator])),
        .init(method: .get, path: "/console/repairs", access: .session([.operator])),
        .init(method: .post, path: "/console/repairs/:repairId/approve", access: .session([.operator])),
        .init(method: .post, path: "/console/repairs/:repairId/reject", access: .session([.operator])),
        .init(method: .get, path: "/console/orgs", access: .session([.operator])),
        .init(method: .post, path: "/console/orgs", access: .session([.operator]), rank: .admin),
        .init(method: .get, path: "/console/orgs/:orgId", access: .session([.operator])),
        .init(method: .post, path: "/console/orgs/:orgId/users", access: .session([.operator]), rank: .admin),
        .init(method: .post, path: "/console/orgs/:orgId/users/:userId/reset", access: .session([.operator]), rank: .admin),
        .init(method: .post, path: "/console/orgs/:orgId/users/:userId/disable", access: .session([.operator]), rank: .admin),
        .init(method: .post, path: "/console/orgs/:orgId/keys", access: .session([.operator]), rank: .admin),
        .init(method: .post, path: "/console/keys/:keyId/revoke", access: .session([.operator]), rank: .admin),
        .init(method: .get, path: "/console/feeds", access: .session([.operator])),
        .init(method: .get, path: "/console/scorecards", access: .session([.operator])),
    ]

    static let byKey: [String: RouteRule] = Dictionary(uniqueKeysWithValues: rules.map { ($0.key, $0) })

    public static func rule(_ method: HTTPRequest.Method, _ path: String) -> RouteRule? {
        byKey["\(method.rawValue) \(path)"]
    }

    /// Methods registered for templates that match a concrete path (for 405 and `Allow`).
    public static func methods(matching path: String) -> [HTTPRequest.Method] {
        rules.filter { matches(template: $0.path, path: path) }.map(\.method)
    }

    static func matches(template: String, path: String) -> Bool {
        let t = template.split(separator: "/", omittingEmptySubsequences: true)
        let p = path.split(separator: "/", omittingEmptySubsequences: true)
        guard t.count == p.count else { return false }
        return zip(t, p).allSatisfy { $0.hasPrefix(":") || $0 == $1 }
    }
}
