import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server
@testable import Store

/// Authentication and the whole role × route matrix, read from `AccessPolicy.rules`.
@Suite struct AccessTests {
    @Test func everyBadKeyGets401() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let cases: [(String, HTTPFields)] = [
                    ("missing", [:]),
                    ("not bearer", [.authorization: "Basic dXNlcjpwYXNz"]),
                    ("unknown", bearer("xyd_" + String(repeating: "A", count: 43))),
                    ("not a key", bearer("hello")),
                    ("revoked", bearer(keys.revoked)),
                    ("expired", bearer(keys.expired)),
                ]
                // Key routes (session routes take no key: DashboardTests and the matrix below cover them).
                for rule in AccessPolicy.rules {
                    guard case .roles = rule.access else { continue }
                    for (name, headers) in cases {
                        let response = try await client.execute(uri: concrete(rule.path), method: rule.method, headers: headers)
                        #expect(response.status == .unauthorized, "\(name) key on \(rule.key)")
                        let problem = try decodeProblem(response)
                        #expect(problem.type == Problem.Kind.unauthorized.uri)
                        #expect(response.headers[.wwwAuthenticate] == "Bearer realm=\"xyd\"")
                    }
                }
            }
        }
    }

    @Test func theRoleMatrixIsEnforcedCellByCell() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                var denied = 0
                var allowed = 0
                for rule in AccessPolicy.rules {
                    for kind in OrgKind.allCases {
                        let response = try await client.execute(
                            uri: concrete(rule.path),
                            method: rule.method,
                            headers: bearer(keys.byKind[kind]!).merging(.json),
                            body: jsonBody("{}")
                        )
                        switch rule.access {
                        case .open:
                            // The gate lets anyone through; only a sign-in form refuses (403) a post
                            // without the anti-forgery token its page sets (SecurityTests).
                            let signInForm = rule.method == .post && rule.path.hasSuffix("/login")
                            #expect(
                                response.status != .unauthorized && (response.status != .forbidden || signInForm),
                                "\(kind) on \(rule.key)"
                            )
                        case .roles(let kinds) where kinds.contains(kind):
                            allowed += 1
                            #expect(response.status != .unauthorized && response.status != .forbidden, "\(kind) on \(rule.key)")
                        case .session:
                            // A key is not a session: pages send the browser to sign in, forms are refused.
                            #expect(response.status == (rule.method == .get ? .seeOther : .unauthorized), "\(kind) on \(rule.key)")
                        case .roles:
                            denied += 1
                            #expect(response.status == .forbidden, "\(kind) on \(rule.key)")
                            let problem = try decodeProblem(response)
                            #expect(problem.type == Problem.Kind.forbidden.uri)
                            #expect(problem.status == 403)
                        }
                    }
                }
                #expect(denied > 0 && allowed > 0)
            }
        }
    }

    @Test func everyRouteHasExactlyOneRuleAndEveryRuleARoute() async throws {
        try await TestDatabase.with { db in
            let config = try testConfig(db)
            let deps = Dependencies(
                config: config,
                db: db.app,
                migrator: try Migrator(folder: config.migrationsDirectory),
                registry: Observability.registry
            )
            let (_, routes) = buildRouter(deps)
            #expect(Set(routes).count == routes.count)
            #expect(Set(routes) == Set(AccessPolicy.rules.map(\.key)))
        }
    }

    @Test func aBusinessCannotRevokeAnotherOrganisationsKey() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let bankKeys = try await db.app.withConnection { c in
                try await Register.keys(on: c, logger: db.app.logger, orgId: keys.orgIds[.bank]!)
            }
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let target = bankKeys[0].id
                let response = try await client.execute(
                    uri: "/v1/keys/\(target)",
                    method: .delete,
                    headers: bearer(keys.byKind[.enterprise]!)
                )
                #expect(response.status == .notFound)
                // The bank's key still works.
                let me = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(keys.byKind[.bank]!))
                #expect(me.status == .ok)
            }
        }
    }
}
