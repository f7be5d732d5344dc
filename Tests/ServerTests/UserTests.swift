import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Store
import TestSupport
import Testing

@testable import Server

/// People, not keys (issue 22): roles within the organisation from the one policy table, sign-in
/// with password and TOTP, lock-out, the person in every audit row and in a business's access
/// log, and the bank's limit above which an offer is a manager's.
@Suite struct UserTests {
    /// A machine key of the organisation acting with `role`.
    static func key(_ db: TestDatabase, org: UUID, role: OrgRole) async throws -> String {
        try await db.app.withConnection { c in
            try await Register.issueKey(
                on: c,
                logger: db.app.logger,
                orgId: org,
                label: role.rawValue,
                expiresAt: nil,
                issuedBy: nil,
                owner: .system("tests \(role.rawValue)"),
                role: role
            ).secret
        }
    }

    /// Every route that needs more than a member, tried with a key of every role of every kind
    /// it is open to: below its rank 403 naming the role, at or above it anything but that 403.
    @Test func theRankMatrixIsEnforcedCellByCell() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            var byRole: [OrgKind: [OrgRole: String]] = [:]
            for kind in OrgKind.allCases {
                for role in OrgRole.roles(of: kind) {
                    byRole[kind, default: [:]][role] = try await Self.key(db, org: keys.orgIds[kind]!, role: role)
                }
            }
            let roleKeys = byRole
            try await buildApplication(try testConfig(db)).test(.router) { client in
                var cells = 0
                for rule in AccessPolicy.rules where rule.rank > .member {
                    guard case .roles(let kinds) = rule.access else {
                        Issue.record("\(rule.key): a rank on a page route is not tried here")
                        continue
                    }
                    let path = rule.path.split(separator: "/").map { $0.hasPrefix(":") ? UUID().uuidString : String($0) }
                        .reduce("") { $0 + "/" + $1 }
                    for kind in kinds.sorted() {
                        for role in OrgRole.roles(of: kind) {
                            let r = try await client.execute(
                                uri: path,
                                method: rule.method,
                                headers: bearer(roleKeys[kind]![role]!).merging(.json),
                                body: rule.method == .get || rule.method == .delete ? nil : jsonBody("{}")
                            )
                            let refusedForRole =
                                r.status == .forbidden && String(buffer: r.body).contains("the role \(role.rawValue) may not")
                            #expect(
                                refusedForRole == (role.rank < rule.rank),
                                "\(rule.key) as \(kind.rawValue) \(role.rawValue): \(r.status)"
                            )
                            cells += 1
                        }
                    }
                }
                #expect(cells > 30)
                // A refusal for the role is audited with the key that tried.
                let refused: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'access.refused' AND detail->>'why' = 'rank_refused'"
                )
                #expect(refused > 0)
            }
        }
    }

    /// Password and TOTP: a wrong code, no code, a code used before, a wrong password are refused alike;
    /// five failures in a row lock the person out even with the right password; an admin's
    /// reset lifts it. Every attempt is audited with the person.
    @Test func signInTakesPasswordAndCodeAndLocksOutAfterFiveFailures() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let (officer, _) = try #require(try await People.make(client, key: w.bank, role: .officer))
                let secret = try #require(officer.totpSecret.flatMap(Base32.decode))
                let login = officer.user.login
                func attempt(_ password: String, _ code: String) async throws -> TestResponse {
                    try await People.postLogin(client, area: "/portal", login: login, password: password, code: code, next: "")
                }
                let step = TOTP.step(at: Date())
                let wrongCode = String(format: "%06d", (Int(TOTP.code(secret: secret, step: step))! + 1) % 1_000_000)
                #expect(try await attempt(officer.password, wrongCode).status == .unauthorized)
                #expect(try await attempt(officer.password, "").status == .unauthorized)
                let good = try await attempt(officer.password, TOTP.code(secret: secret, step: step))
                #expect(good.status == .seeOther && good.headers[.location]?.hasPrefix("/portal/password") == true)
                // The same code again: refused (a code is taken once).
                #expect(try await attempt(officer.password, TOTP.code(secret: secret, step: step)).status == .unauthorized)
                for _ in 0..<Users.lockAfterFailures {
                    #expect(try await attempt("wrong-password-123", TOTP.code(secret: secret, step: step + 1)).status == .unauthorized)
                }
                let locked: Date? = try await db.owner.scalar("SELECT locked_until FROM org_user WHERE login = '\(login)'")
                #expect(locked != nil && locked! > Date())
                #expect(try await attempt(officer.password, TOTP.code(secret: secret, step: step + 1)).status == .unauthorized)
                let whyText: String = try await db.owner.scalar(
                    """
                    SELECT string_agg(detail->>'why', ',' ORDER BY id) FROM audit_log
                    WHERE action = 'session.sign_in' AND result = 'denied' AND actor_user_id = '\(officer.user.id)'
                    """
                )
                let why = whyText.split(separator: ",").map(String.init)
                // A code used before is refused as a wrong one (two sign-ins racing for one code: "code_reused").
                #expect(
                    why == ["wrong_code", "wrong_code", "wrong_code"] + Array(repeating: "wrong_password", count: 5) + ["locked"],
                    "\(why)"
                )
                // An admin's reset: a new one-time password, the lock lifted.
                let reset = try await client.execute(uri: "/v1/users/\(officer.user.id)/reset", method: .post, headers: bearer(w.bank))
                #expect(reset.status == .ok)
                struct Reset: Decodable { let password: String }
                let fresh = try JSONDecoder().decode(Reset.self, from: Data(buffer: reset.body)).password
                #expect(try await attempt(officer.password, TOTP.code(secret: secret, step: step + 1)).status == .unauthorized)
                #expect(try await attempt(fresh, TOTP.code(secret: secret, step: step + 1)).status == .seeOther)
                // The chain holds every one of these rows, each naming the person.
                let named: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'session.sign_in' AND actor_user_id = '\(officer.user.id)'"
                )
                #expect(named == 12)
                try await eventually("every row sealed") {
                    try await db.owner.scalar("SELECT count(*)::int FROM audit_unsealed") == 0
                }
                let verified = try await Audit.verify(db.app)
                #expect(verified.firstBreak == nil, "\(String(describing: verified.firstBreak))")
            }
        }
    }

    /// A bank officer signed in to the portal looks a business up: the business's "who looked at
    /// me" names the officer and their staff number, over the API and on its page.
    @Test func theOfficersNameIsInTheBusinessesAccessLog() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                let signed = try await People.signIn(client, key: w.bank, area: "/portal", role: .officer)
                let cookie = try #require(DashboardTests.cookie(signed))
                // The person signed in, given the name and staff number the business should read.
                let person: UUID = try await db.owner.scalar(
                    "SELECT u.id FROM org_user u JOIN web_session s ON s.user_id = u.id ORDER BY s.created_at DESC LIMIT 1"
                )
                try await db.owner.execute("UPDATE org_user SET name = '吴芳', staff_number = 'B2046' WHERE id = '\(person)'")
                let page = try await client.execute(
                    uri: "/portal/bank/lookup?uscc=\(CreditWorld.uscc)&purpose=loan_application",
                    method: .get,
                    headers: [.cookie: cookie]
                )
                #expect(page.status == .ok)
                let log = String(buffer: try await client.execute(uri: "/v1/me/access-log", method: .get, headers: bearer(w.business)).body)
                #expect(log.contains("\"officer_name\":\"吴芳\"") && log.contains("\"officer_staff_number\":\"B2046\""), "\(log)")
                let (business, _) = try await PortalTests.session(client, key: w.business, page: "/portal/access")
                let html = String(buffer: try await client.execute(uri: "/portal/access", method: .get, headers: [.cookie: business]).body)
                #expect(html.contains("吴芳（工号 B2046）"))
                // A machine's read says which system.
                _ = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                let again = String(
                    buffer: try await client.execute(uri: "/v1/me/access-log", method: .get, headers: bearer(w.business)).body
                )
                #expect(again.contains("\"system_name\":\"integration\""), "\(again)")
            }
        }
    }

    /// The bank's admin sets the amount above which an offer needs a manager: an officer's offer
    /// above it is refused (403, nothing offered), a manager's goes through.
    @Test func anOfferAboveTheLimitIsAManagers() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let officer = try await Self.key(db, org: w.bankId, role: .officer)
            let manager = try await Self.key(db, org: w.bankId, role: .manager)
            try await w.app(db).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                #expect(try await client.execute(uri: "/v1/demands/\(id)/take-up", method: .post, headers: bearer(officer)).status == .ok)
                func settings(_ key: String, _ body: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/bank/settings",
                        method: .put,
                        headers: bearer(key).merging(.json),
                        body: jsonBody(body)
                    )
                }
                #expect(try await settings(officer, #"{"officer_offer_limit_fen": 10000000}"#).status == .forbidden)
                let zero = try await settings(w.bank, #"{"officer_offer_limit_fen": 0}"#)
                #expect(zero.status == .unprocessableContent, "\(String(buffer: zero.body))")
                #expect(try await settings(w.bank, #"{"officer_offer_limit_fen": 10000000}"#).status == .ok)
                let read = String(buffer: try await client.execute(uri: "/v1/bank/settings", method: .get, headers: bearer(officer)).body)
                #expect(read == #"{"officer_offer_limit_fen":10000000}"#)
                func offer(_ key: String, _ fen: Int64) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/demands/\(id)/offer",
                        method: .post,
                        headers: bearer(key).merging(.json),
                        body: jsonBody(DemandWorkflowTests.offerBody(amountFen: fen))
                    )
                }
                let refused = try await offer(officer, 15_000_000)
                #expect(refused.status == .forbidden && String(buffer: refused.body).contains("needs a manager"))
                #expect(
                    try await db.owner.scalar("SELECT count(*)::int FROM demand_offer WHERE demand_id = '\(id)' AND amount_fen IS NOT NULL")
                        == 0
                )
                #expect(try await offer(manager, 15_000_000).status == .ok)
            }
        }
    }
}
