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
                /// Below the route's rank: 403 naming the role; at or above it: anything but that.
                func check(_ r: TestResponse, _ rule: RouteRule, _ kind: OrgKind, _ role: OrgRole) {
                    let refusedForRole = r.status == .forbidden && String(buffer: r.body).contains("the role \(role.rawValue) may not")
                    #expect(refusedForRole == (role.rank < rule.rank), "\(rule.key) as \(kind.rawValue) \(role.rawValue): \(r.status)")
                    cells += 1
                }
                // Pages: a person of each role of each kind the page is for, signed in.
                var sessions: [OrgKind: [OrgRole: (cookie: String, csrf: String)]] = [:]
                for rule in AccessPolicy.rules where rule.rank > .member {
                    guard case .session(let kinds) = rule.access else { continue }
                    let path = rule.path.split(separator: "/").map { $0.hasPrefix(":") ? UUID().uuidString : String($0) }
                        .reduce("") { $0 + "/" + $1 }
                    for kind in kinds.sorted() {
                        for role in OrgRole.roles(of: kind) {
                            if sessions[kind]?[role] == nil {
                                let area = kind == .regulator ? "/dashboard" : kind == .operator ? "/console" : "/portal"
                                let signed = try await People.signIn(client, key: keys.byKind[kind]!, area: area, role: role)
                                let cookie = try #require(DashboardTests.cookie(signed))
                                sessions[kind, default: [:]][role] = (
                                    cookie, try await People.csrf(client, cookie: cookie, page: "\(area)/password")
                                )
                            }
                            let (cookie, csrf) = sessions[kind]![role]!
                            let r = try await client.execute(
                                uri: path,
                                method: rule.method,
                                headers: People.formHeaders.merging([.cookie: cookie]),
                                body: rule.method == .get ? nil : People.form([("csrf", csrf)])
                            )
                            check(r, rule, kind, role)
                        }
                    }
                }
                // The API: a key of each role.
                for rule in AccessPolicy.rules where rule.rank > .member {
                    guard case .roles(let kinds) = rule.access else { continue }
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
                            check(r, rule, kind, role)
                        }
                    }
                }
                #expect(cells > 40)
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
                    why == ["wrong_code", "wrong_code", "wrong_code"] + Array(repeating: "wrong_password", count: 4) + [
                        "locked", "locked",
                    ],
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

    /// Attempts made at once count each other (the lock-out is not a race), a lock that ran out
    /// starts the count afresh, and guessing the current password on the password form counts
    /// the same way.
    @Test func attemptsAtOnceCountEachOtherAndAnExpiredLockStartsAfresh() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let (person, _) = try #require(try await People.make(client, key: w.business, role: .staff))
                let login = person.user.login
                @Sendable func attempt(_ password: String) async throws -> HTTPResponse.Status {
                    try await People.postLogin(client, area: "/portal", login: login, password: password, code: "", next: "").status
                }
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<3 {
                    statuses += try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for _ in 0..<4 { group.addTask { try await attempt("wrong-password-123") } }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                }
                #expect(statuses.allSatisfy { $0 == .unauthorized || $0 == .tooManyRequests }, "\(statuses)")
                let heard: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'session.sign_in' AND detail->>'why' = 'wrong_password'"
                )
                #expect(heard == Users.lockAfterFailures, "only five wrong passwords are ever checked")
                #expect(try await attempt(person.password) == .unauthorized)
                // The lock runs out: the count starts afresh (one typo does not lock again).
                try await db.owner.execute("UPDATE org_user SET locked_until = now() - interval '1 second' WHERE login = '\(login)'")
                #expect(try await attempt("wrong-password-123") == .unauthorized)
                #expect(try await db.owner.scalar("SELECT failed_sign_ins FROM org_user WHERE login = '\(login)'") == 1)
                #expect(try await attempt(person.password) == .seeOther)
                // The password form: guessing the current password counts, and is audited.
                let (cookie, _) = try await PortalTests.session(client, key: w.business, page: "/portal/password")
                let csrf = try await People.csrf(client, cookie: cookie, page: "/portal/password")
                for _ in 0..<(Users.lockAfterFailures + 1) {
                    let r = try await client.execute(
                        uri: "/portal/password",
                        method: .post,
                        headers: People.formHeaders.merging([.cookie: cookie]),
                        body: People.form([
                            ("csrf", csrf), ("current", "not-the-password-1"), ("new", "new-river-stone-9"), ("again", "new-river-stone-9"),
                        ])
                    )
                    #expect(r.status == .unprocessableContent)
                }
                let guessed: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'user.password' AND result = 'denied'"
                )
                #expect(guessed == Users.lockAfterFailures)
                let locked: Date? = try await db.owner.scalar(
                    "SELECT u.locked_until FROM org_user u JOIN web_session s ON s.user_id = u.id ORDER BY s.created_at DESC LIMIT 1"
                )
                #expect(locked != nil)
            }
        }
    }

    /// Keys for machines: a system's key acts with the role it was issued with, a person's key
    /// as that person (audited with them); the audit API shows the person; the offer limit is
    /// only ever removed on purpose.
    @Test func aKeyActsWithItsRoleOrAsItsPerson() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                struct Issued: Decodable {
                    struct Info: Decodable {
                        let role: String
                        let systemName: String?
                        let userId: UUID?
                    }
                    let info: Info
                    let secret: String
                }
                let decoder = JSONDecoder()
                decoder.keyDecodingStrategy = .convertFromSnakeCase
                func issue(_ body: String) async throws -> TestResponse {
                    try await client.execute(uri: "/v1/keys", method: .post, headers: bearer(w.bank).merging(.json), body: jsonBody(body))
                }
                let officerKey = try decoder.decode(
                    Issued.self,
                    from: Data(buffer: try await issue(#"{"role": "officer", "system_name": "loan desk"}"#).body)
                )
                #expect(officerKey.info.role == "officer" && officerKey.info.systemName == "loan desk")
                let me = String(buffer: try await client.execute(uri: "/v1/me", method: .get, headers: bearer(officerKey.secret)).body)
                #expect(me.contains("\"role\":\"officer\""))
                #expect(try await client.execute(uri: "/v1/users", method: .get, headers: bearer(officerKey.secret)).status == .forbidden)
                #expect(try await issue(#"{"role": "analyst"}"#).status == .unprocessableContent)
                #expect(try await issue("{\"user_id\": \"\(UUID())\"}").status == .unprocessableContent)
                let (person, _) = try #require(try await People.make(client, key: w.bank, role: .manager, name: "吴芳"))
                #expect(try await issue("{\"user_id\": \"\(person.user.id)\", \"role\": \"admin\"}").status == .unprocessableContent)
                let personal = try decoder.decode(
                    Issued.self,
                    from: Data(buffer: try await issue("{\"user_id\": \"\(person.user.id)\"}").body)
                )
                #expect(personal.info.userId == person.user.id && personal.info.role == "manager")
                let whoami = String(buffer: try await client.execute(uri: "/v1/me", method: .get, headers: bearer(personal.secret)).body)
                #expect(whoami.contains("\"name\":\"吴芳\"") && whoami.contains("\"role\":\"manager\""))
                // An audited act with the person's key (a manager's: a product).
                let product = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(personal.secret).merging(.json),
                    body: jsonBody(
                        #"{"name": "吴芳的产品", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 3000000, "term_min_months": 1, "term_max_months": 12, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}"#
                    )
                )
                #expect(product.status == .created, "\(String(buffer: product.body))")
                let audit = String(
                    buffer: try await client.execute(uri: "/v1/audit?limit=200", method: .get, headers: bearer(w.keys.byKind[.operator]!))
                        .body
                ).lowercased()
                #expect(audit.contains("\"actor_user_id\":\"\(person.user.id.uuidString.lowercased())\""))
                // Disabling the person stops their key at once.
                #expect(
                    try await client.execute(uri: "/v1/users/\(person.user.id)/disable", method: .post, headers: bearer(w.bank)).status
                        == .ok
                )
                #expect(try await client.execute(uri: "/v1/me", method: .get, headers: bearer(personal.secret)).status == .unauthorized)
                // The offer limit is only ever removed on purpose.
                for body in ["{}", #"{"officer_offer_limit": 5000000}"#, #"{"officer_offer_limit_fen": null, "x": 1}"#] {
                    let r = try await client.execute(
                        uri: "/v1/bank/settings",
                        method: .put,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .unprocessableContent, "\(body)")
                }
                // A number the field cannot hold is said as such (Foundation calls it invalid JSON);
                // a body that is not JSON is still 400.
                for (body, status, words) in [
                    (#"{"officer_offer_limit_fen": 1e20}"#, HTTPResponse.Status.unprocessableContent, "does not fit its field"),
                    (#"{"officer_offer_limit_fen": 12.5}"#, .unprocessableContent, "does not fit its field"),
                    (#"{"officer_offer_limit_fen": "#, .badRequest, "not valid JSON"),
                ] {
                    let r = try await client.execute(
                        uri: "/v1/bank/settings",
                        method: .put,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(body)
                    )
                    let detail = try decodeProblem(r).detail ?? ""
                    #expect(r.status == status && detail.contains(words), "\(body): \(r.status) \(detail)")
                }
            }
        }
    }

    /// A bank's admin manages its people on the portal: adds an officer (the one-time password
    /// and authenticator secret shown once), resets and disables them; an officer may not.
    @Test func aBanksAdminManagesItsPeopleOnThePortal() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let (admin, csrf) = try await PortalTests.session(client, key: w.bank, page: "/portal/users")
                let list = String(buffer: try await client.execute(uri: "/portal/users", method: .get, headers: [.cookie: admin]).body)
                #expect(list.contains("添加人员") && list.contains("href=\"/portal/users\""))
                let added = try await PortalTests.post(
                    client,
                    "/portal/users",
                    cookie: admin,
                    "csrf=\(csrf)&login=zhou.li&name=%E5%91%A8%E7%AB%8B&staff_number=A0173&role=officer"
                )
                let page = String(buffer: added.body)
                #expect(added.status == .created, "\(page.prefix(300))")
                #expect(page.contains("一次性密码") && page.contains("动态验证码密钥") && page.contains("otpauth://totp/Xinyidai:zhou.li"))
                let person: UUID = try await db.owner.scalar("SELECT id FROM org_user WHERE login = 'zhou.li'")
                #expect(try await db.owner.scalar("SELECT role FROM org_user WHERE id = '\(person)'") == "officer")
                // The officer signs in: no people page for them.
                let officer = try await People.signIn(client, key: w.bank, area: "/portal", role: .officer)
                let officerCookie = try #require(DashboardTests.cookie(officer))
                #expect(
                    try await client.execute(uri: "/portal/users", method: .get, headers: [.cookie: officerCookie]).status == .forbidden
                )
                // Reset shows a new one-time password; disabling takes effect.
                let reset = try await PortalTests.post(client, "/portal/users/\(person)/reset", cookie: admin, "csrf=\(csrf)")
                #expect(reset.status == .ok && String(buffer: reset.body).contains("一次性密码"))
                let disabled = try await PortalTests.post(client, "/portal/users/\(person)/disable", cookie: admin, "csrf=\(csrf)")
                #expect(disabled.status == .seeOther)
                let gone: Date? = try await db.owner.scalar("SELECT disabled_at FROM org_user WHERE id = '\(person)'")
                #expect(gone != nil)
                #expect(try await PortalTests.post(client, "/portal/users", cookie: admin, "login=x").status == .forbidden)
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action IN ('user.create', 'user.reset', 'user.disable') AND subject_id = '\(person.uuidString.lowercased())'"
                )
                #expect(audited == 3)
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
