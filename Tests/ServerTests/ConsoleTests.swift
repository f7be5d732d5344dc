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

/// The operators' console (`/console`): operator people sign in with password and code; every
/// change is the API's action with its audit row, made by the person.
@Suite struct ConsoleTests {
    struct Created: Decodable { let id: UUID }

    /// A signed-in operator person of `role`: the session's cookie and its CSRF token.
    static func operatorSession(
        _ client: some TestClientProtocol,
        _ w: CreditWorld,
        role: OrgRole
    ) async throws -> (cookie: String, csrf: String) {
        let signed = try await People.signIn(client, key: w.keys.byKind[.operator]!, area: "/console", role: role)
        #expect(
            signed.status == .seeOther && signed.headers[.location] == "/console",
            "\(signed.status) \(String(describing: signed.headers[.location]))"
        )
        let cookie = try #require(DashboardTests.cookie(signed))
        return (cookie, try await People.csrf(client, cookie: cookie, page: "/console/password"))
    }

    static func get(_ client: some TestClientProtocol, _ uri: String, _ cookie: String) async throws -> (HTTPResponse.Status, String) {
        let r = try await client.execute(uri: uri, method: .get, headers: [.cookie: cookie])
        return (r.status, String(buffer: r.body))
    }

    static func post(
        _ client: some TestClientProtocol,
        _ uri: String,
        _ cookie: String,
        _ fields: [(String, String)]
    ) async throws -> TestResponse {
        // As a browser sends it: a form, asking for a page back.
        try await client.execute(
            uri: uri,
            method: .post,
            headers: People.formHeaders.merging([.cookie: cookie, .accept: "text/html"]),
            body: People.form(fields)
        )
    }

    /// A penalty of the test business past its minimum publicity: repair may be applied for.
    static func repairablePenalty(_ db: TestDatabase) async throws {
        try await DisclosureTests.seed(db)
        let today = Day.todayInChina()
        try await DisclosureTests.store(
            db,
            .administrativePenalty,
            [
                DisclosureTests.row(
                    "P-FIXED",
                    DisclosureTests.listed,
                    #"{"decision_no":"通罚P-FIXED","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-5))","violation":"超标排放污染物","severity":"general","fine_amount_fen":500000,"publicity_ends_on":"\#(today.addingMonths(7))"}"#
                )
            ]
        )
    }

    /// The business objects to a record and applies to repair its penalty: the operator's work.
    static func raiseWork(_ client: some TestClientProtocol, _ w: CreditWorld) async throws -> (objection: UUID, repair: UUID) {
        let raised = try await client.execute(
            uri: "/v1/me/objections",
            method: .post,
            headers: bearer(w.business).merging(.json),
            body: jsonBody(
                #"{"dataset": "social_insurance", "record_id": "\#(ObjectionTests.record(2))", "reason": "这个月已缴清", "evidence": "回执 2026-001"}"#
            )
        )
        #expect(raised.status == .created, "\(String(buffer: raised.body))")
        let applied = try await client.execute(
            uri: "/v1/me/repairs",
            method: .post,
            headers: bearer(w.business).merging(.json),
            body: jsonBody(
                #"{"record_id": "P-FIXED", "corrections": ["fine_paid", "training_done"], "evidence": "缴款凭证 0042", "commitment_id": "repair-2026-1", "signed_by": "张三"}"#
            )
        )
        #expect(applied.status == .created, "\(String(buffer: applied.body))")
        return (try decodeJSON(Created.self, raised).id, try decodeJSON(Created.self, applied).id)
    }

    /// An operator's day in Chromium: the overview, an objection rejected with a reason, a repair
    /// approved, an organisation's people and keys, the feeds — then every console page at a
    /// phone's width without sideways scrolling.
    @Test func anOperatorWorksTheConsoleInChromium() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.repairablePenalty(db)
            try await w.app(db).test(.live) { client in
                let (objection, repair) = try await Self.raiseWork(client, w)
                let op = try await People.ready(client, key: w.keys.byKind[.operator]!, area: "/console", role: .admin)
                let openForms = "document.querySelectorAll('details').forEach(d => d.open = true) || true"
                let fits = """
                    document.documentElement.scrollWidth <= window.innerWidth && Array.from(document.querySelectorAll('body *')).every(e => {
                      const o = getComputedStyle(e).overflowX; return (o !== 'auto' && o !== 'scroll') || e.scrollWidth <= e.clientWidth + 1 })
                    """
                var steps: [[String: Any]] = [
                    ["as": "operator"], ["expect_path": "/console"], ["expect_text": "1 件待答复"], ["expect_text": "1 件待决定"],
                    ["expect_text": "统计更新"], ["shot": "console-overview"],
                    ["click": "a[href='/console/objections']"], ["expect_text": "这个月已缴清"], ["eval": openForms, "equals": true],
                    ["fill": "#rr-\(objection.uuidString.lowercased())", "value": "已与社保部门核实，该月记录无误"],
                    ["eval": PortalTests.labelled, "equals": true], ["shot": "console-objections"],
                    ["click": "form[action$='/reject'] button[type=submit]"], ["expect_text": "已驳回异议"],
                    ["go": "/console/repairs"], ["expect_text": "已缴清罚款"], ["eval": openForms, "equals": true], ["shot": "console-repairs"],
                    ["click": "form[action$='/repairs/\(repair.uuidString.lowercased())/approve'] button[type=submit]"],
                    ["expect_text": "已批准修复"],
                    ["go": "/console/orgs?kind=bank"], ["click": "a[href='/console/orgs/\(w.bankId.uuidString.lowercased())']"],
                    ["expect_text": "接口密钥"], ["expect_text": "添加人员"], ["shot": "console-org"],
                    // The bank's first officer: the one-time password and a QR code for the authenticator, once.
                    ["eval": openForms, "equals": true], ["fill": "#ulogin", "value": "zhou.li"], ["fill": "#uname", "value": "周立"],
                    ["fill": "#urole", "value": "officer"], ["click": "form[action$='/users'] button[type=submit]"],
                    ["expect_text": "用验证器应用扫描"], ["shot": "console-new-person"],
                    ["go": "/console/feeds"], ["expect_status": 200], ["shot": "console-feeds"],
                    ["go": "/console/scorecards"], ["expect_text": "启用中"],
                    ["click": "a[href^='/portal/lang?to=en']"], ["expect_text": "Published scorecards"],
                    ["click": "a[href^='/portal/lang?to=zh']"], ["expect_text": "已发布的评分卡"],
                    ["width": 390],
                ]
                for page in [
                    "/console", "/console/objections?state=rejected", "/console/repairs?state=approved", "/console/orgs",
                    "/console/orgs/\(w.bankId.uuidString.lowercased())", "/console/feeds", "/console/scorecards",
                ] {
                    steps += [["go": page], ["expect_status": 200], ["eval": fits, "equals": true]]
                }
                // Focus is visible: a 3 px amber outline on whatever has it, links and buttons alike.
                let focused = """
                    ['main a', 'header summary', 'header button'].map(s => { const e = document.querySelector(s); e.focus();
                      const c = getComputedStyle(e); return c.outlineStyle + ' ' + c.outlineWidth }).join(',')
                    """
                steps += [["go": "/console"], ["eval": focused, "equals": "solid 3px,solid 3px,solid 3px"], ["shot": "phone-console"]]
                let failure = try await PortalTests.walk(client, steps, people: ["operator": op])
                #expect(failure.isEmpty, "\(failure)")
                #expect(try await db.owner.scalar("SELECT state FROM objection WHERE id = '\(objection)'") == "rejected")
                #expect(try await db.owner.scalar("SELECT state FROM repair_application WHERE id = '\(repair)'") == "approved")
            }
        }
    }

    @Test func anOperatorDecidesObjectionsAndRepairsByTheirDeadlines() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.repairablePenalty(db)
            let today = Day.todayInChina()
            try await w.app(db).test(.router) { client in
                // Not signed in: to the console's own sign-in page, remembering where it was going.
                let away = try await client.execute(uri: "/console/objections", method: .get)
                #expect(away.status == .seeOther && away.headers[.location] == "/console/login?next=/console/objections")
                // A bank's person does not sign in here (the one refusal for everything).
                let (banker, _) = try #require(try await People.make(client, key: w.bank))
                let (code, _) = People.code(banker.totpSecret, after: nil)
                let refused = try await People.postLogin(
                    client,
                    area: "/console",
                    login: banker.user.login,
                    password: banker.password,
                    code: code,
                    next: ""
                )
                #expect(refused.status == .unauthorized)
                let (cookie, csrf) = try await Self.operatorSession(client, w, role: .staff)

                // A business objects to a record and applies to repair a penalty; the console counts
                // both and lists them with their deadlines.
                let (objection, repair) = try await Self.raiseWork(client, w)
                let (_, overview) = try await Self.get(client, "/console", cookie)
                #expect(
                    overview.contains("1 件待答复") && overview.contains("1 件待决定") && overview.contains("统计更新"),
                    "\(overview.prefix(3000))"
                )
                let (status, list) = try await Self.get(client, "/console/objections", cookie)
                let due = today.addingDays(Objections.deadlineDays).description
                #expect(
                    status == .ok && list.contains("社会保险") && list.contains("这个月已缴清") && list.contains("\(due) 到期"),
                    "\(list.prefix(4000))"
                )
                #expect(list.contains("/console/objections/\(objection.uuidString.lowercased())/reject"))
                // Without a reason, a rejection goes back to the list saying why; nothing changes.
                let noReason = try await Self.post(
                    client,
                    "/console/objections/\(objection)/reject",
                    cookie,
                    [("reason", ""), ("csrf", csrf)]
                )
                let back = try #require(noReason.headers[.location])
                #expect(noReason.status == .seeOther && back.hasPrefix("/console/objections?error="))
                #expect(try await Self.get(client, back, cookie).1.contains("理由"))
                #expect(try await db.owner.scalar("SELECT state FROM objection WHERE id = '\(objection)'") == "open")
                // A form without the session's token is refused.
                #expect(
                    try await Self.post(client, "/console/objections/\(objection)/reject", cookie, [("reason", "x"), ("csrf", "x")]).status
                        == .forbidden
                )
                // Rejected with a reason: the API's action — its state, its audit row — made by the person.
                let rejected = try await Self.post(
                    client,
                    "/console/objections/\(objection)/reject",
                    cookie,
                    [("reason", "已与社保部门核实，记录无误"), ("csrf", csrf)]
                )
                #expect(rejected.headers[.location] == "/console/objections?done=objection_rejected")
                #expect(try await db.owner.scalar("SELECT state FROM objection WHERE id = '\(objection)'") == "rejected")
                let audited: Int = try await db.owner.scalar(
                    """
                    SELECT count(*)::int FROM audit_log WHERE action = 'objection.reject' AND subject_id = '\(objection.uuidString.lowercased())'
                      AND actor_user_id IS NOT NULL AND subject_uscc = '\(CreditWorld.uscc)'
                    """
                )
                #expect(audited == 1)
                // Decided once: a second decision is refused with the reason, on the page.
                let again = try await Self.post(client, "/console/objections/\(objection)/uphold", cookie, [("csrf", csrf)])
                #expect(again.headers[.location]?.hasPrefix("/console/objections?error=") == true)
                #expect(try await Self.get(client, "/console/objections?state=rejected", cookie).1.contains("已与社保部门核实，记录无误"))

                // A repair application: its corrections in words, the commitment signed, approved.
                let (_, repairs) = try await Self.get(client, "/console/repairs", cookie)
                #expect(repairs.contains("已缴清罚款") && repairs.contains("缴款凭证 0042") && repairs.contains("张三"), "\(repairs.prefix(4000))")
                #expect(!repairs.contains("fine_paid"))
                let approved = try await Self.post(client, "/console/repairs/\(repair)/approve", cookie, [("csrf", csrf)])
                #expect(approved.headers[.location] == "/console/repairs?done=repair_approved")
                #expect(try await db.owner.scalar("SELECT state FROM repair_application WHERE id = '\(repair)'") == "approved")
                #expect(
                    try await db.owner.scalar(
                        "SELECT count(*)::int FROM audit_log WHERE action = 'repair.approve' AND actor_user_id IS NOT NULL"
                    ) == 1
                )
                // An operator's staff sees organisations but may not change them (an admin's).
                let (orgStatus, orgs) = try await Self.get(client, "/console/orgs", cookie)
                #expect(orgStatus == .ok && orgs.contains("Test operator") && !orgs.contains("登记机构"), "\(orgs.prefix(3000))")
                let staffCreate = try await Self.post(client, "/console/orgs", cookie, [("kind", "bank"), ("name", "x"), ("csrf", csrf)])
                #expect(staffCreate.status == .forbidden)
                // A refusal on a page is audited as the API's is, with the person.
                let refusedRows: Int = try await db.owner.scalar(
                    """
                    SELECT count(*)::int FROM audit_log WHERE action = 'access.refused' AND detail->>'why' = 'rank_refused'
                      AND route = 'POST /console/orgs' AND actor_user_id IS NOT NULL
                    """
                )
                #expect(refusedRows == 1)
                // A person's browser gets a page, in its language, for a refusal or an unknown id.
                let asPage = try await client.execute(
                    uri: "/console/orgs/\(UUID())",
                    method: .get,
                    headers: [.cookie: cookie, .accept: "text/html"]
                )
                #expect(asPage.status == .notFound && asPage.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(String(buffer: asPage.body).contains("没有这个机构"))
            }
        }
    }

    @Test func anOperatorAdminRegistersABankWithItsFirstAdminAndIssuesAndRevokesAKey() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let (cookie, csrf) = try await Self.operatorSession(client, w, role: .admin)
                let (_, form) = try await Self.get(client, "/console/orgs", cookie)
                let once = try #require(form.range(of: "name=\"once\" value=\"")).upperBound
                let token = String(form[once...].prefix { $0 != "\"" })
                let made = try await Self.post(
                    client,
                    "/console/orgs",
                    cookie,
                    [("kind", "bank"), ("name", "测试农村商业银行"), ("uscc", ""), ("once", token), ("csrf", csrf)]
                )
                let location = try #require(made.headers[.location])
                #expect(location.hasSuffix("?done=org_created"))
                // The same form sent twice registers one bank.
                _ = try await Self.post(
                    client,
                    "/console/orgs",
                    cookie,
                    [("kind", "bank"), ("name", "测试农村商业银行"), ("once", token), ("csrf", csrf)]
                )
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM organisations WHERE name = '测试农村商业银行'") == 1)
                let orgPath = String(location.prefix { $0 != "?" })
                // A name taken, or one holding hidden characters: back to the form saying why, in words.
                for (name, words) in [("Test bank", "已有同名的同类机构"), ("银行\u{FFFD}", "名称须为"), ("银\u{202E}行", "名称须为")] {
                    let refused = try await Self.post(client, "/console/orgs", cookie, [("kind", "bank"), ("name", name), ("csrf", csrf)])
                    let back = try #require(refused.headers[.location], "\(name): \(refused.status)")
                    #expect(back.hasPrefix("/console/orgs?error="), "\(name)")
                    #expect(try await Self.get(client, back, cookie).1.contains(words), "\(name)")
                }
                let (_, page) = try await Self.get(client, location, cookie)
                #expect(page.contains("测试农村商业银行") && page.contains("机构已登记"))
                // Found by part of its name; a wildcard is taken literally.
                #expect(try await Self.get(client, "/console/orgs?q=" + PortalHtml.percent("农村商业"), cookie).1.contains(orgPath))
                #expect(!(try await Self.get(client, "/console/orgs?q=%25", cookie).1.contains(orgPath)))
                // Its first admin: the one-time password and the authenticator secret, shown once.
                let added = try await Self.post(
                    client,
                    orgPath + "/users",
                    cookie,
                    [("login", "rcb.admin"), ("name", "王行长"), ("role", "admin"), ("staff_number", ""), ("csrf", csrf)]
                )
                let shown = String(buffer: added.body)
                #expect(added.status == .created && shown.contains("一次性密码") && shown.contains("动态验证码密钥"), "\(shown.prefix(2000))")
                // The authenticator's link as a QR code to scan (drawn by the server, no script).
                #expect(shown.contains("用验证器应用扫描") && shown.contains("aria-label=\"验证器二维码\""))
                func between(_ text: String, _ start: String, _ end: String) throws -> String {
                    let from = try #require(text.range(of: start)).upperBound
                    return String(text[from...].prefix { !end.contains($0) })
                }
                let password = try between(shown, "一次性密码</dt><dd><code>", "<")
                let secret = try between(shown, "动态验证码密钥</dt><dd><code>", "<")
                let (code, _) = People.code(secret, after: nil)
                let first = try await People.postLogin(
                    client,
                    area: "/portal",
                    login: "rcb.admin",
                    password: password,
                    code: code,
                    next: ""
                )
                #expect(first.status == .seeOther && first.headers[.location]?.hasPrefix("/portal/password") == true)
                // A key for the bank's loan system, acting as an officer; then revoked.
                let keyForm = [
                    ("system_name", "信贷系统"), ("label", "核心系统"), ("role", "officer"), ("once", UUID().uuidString), ("csrf", csrf),
                ]
                let issued = try await Self.post(client, orgPath + "/keys", cookie, keyForm)
                let keyPage = String(buffer: issued.body)
                #expect(issued.status == .created && keyPage.contains("新密钥"))
                // The same form again (a reload) issues nothing and shows the key no more, as a page.
                let reloaded = try await client.execute(
                    uri: orgPath + "/keys",
                    method: .post,
                    headers: People.formHeaders.merging([.cookie: cookie, .accept: "text/html"]),
                    body: People.form(keyForm)
                )
                #expect(reloaded.status == .conflict && String(buffer: reloaded.body).contains("只在当时显示一次"))
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM api_keys WHERE system_name = '信贷系统'") == 1)
                // A system's name may not hide characters (a right-to-left override), nor be empty.
                for name in ["信贷\u{202E}系统", ""] {
                    let bad = try await Self.post(
                        client,
                        orgPath + "/keys",
                        cookie,
                        [("system_name", name), ("role", "officer"), ("csrf", csrf)]
                    )
                    #expect(bad.headers[.location]?.hasPrefix(orgPath + "?error=") == true, "\(name)")
                }
                let key = try between(keyPage, "<dt>密钥</dt><dd><code class=\"wrap\">", "<")
                let me = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(key))
                #expect(me.status == .ok && String(buffer: me.body).contains("\"role\":\"officer\""), "\(String(buffer: me.body))")
                let keyId: UUID = try await db.owner.scalar("SELECT id FROM api_keys WHERE system_name = '信贷系统'")
                let revoked = try await Self.post(client, "/console/keys/\(keyId)/revoke", cookie, [("csrf", csrf)])
                #expect(revoked.headers[.location] == orgPath + "?done=key_revoked")
                #expect(try await client.execute(uri: "/v1/me", method: .get, headers: bearer(key)).status == .unauthorized)
                // Each change is audited as the API's is, with the person who made it.
                for action in ["org.create", "user.create", "key.issue", "key.revoke"] {
                    let n: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM audit_log WHERE action = '\(action)' AND actor_user_id IS NOT NULL AND result = 'allowed'"
                    )
                    #expect(n == 1, "\(action)")
                }
                // A person of that bank is reset from the console (e.g. its only admin locked out).
                let userId: UUID = try await db.owner.scalar("SELECT id FROM org_user WHERE login = 'rcb.admin'")
                let resetForm = [("once", UUID().uuidString), ("csrf", csrf)]
                let reset = try await Self.post(client, orgPath + "/users/\(userId)/reset", cookie, resetForm)
                #expect(reset.status == .ok && String(buffer: reset.body).contains("一次性密码"))
                // Reloading that page makes no second password (the one shown stays the one that works).
                let hash: String = try await db.owner.scalar("SELECT password_hash FROM org_user WHERE id = '\(userId)'")
                let again = try await Self.post(client, orgPath + "/users/\(userId)/reset", cookie, resetForm)
                #expect(again.status == .conflict && !String(buffer: again.body).contains("一次性密码</dt>"))
                #expect(try await db.owner.scalar("SELECT password_hash FROM org_user WHERE id = '\(userId)'") == hash)
                // Over the API (an operator's admin key): a retry with the same Idempotency-Key is told it
                // was done — the one-time password is not kept to be shown again.
                func apiReset() async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/orgs\(orgPath.dropFirst("/console/orgs".count))/users/\(userId)/reset",
                        method: .post,
                        headers: bearer(w.keys.byKind[.operator]!).merging([HTTPField.Name("Idempotency-Key")!: "reset-once"])
                    )
                }
                let firstReset = try await apiReset()
                let firstAnswer = String(buffer: firstReset.body)
                #expect(firstReset.status == .ok && firstAnswer.contains("\"password\""), "\(firstAnswer)")
                let retried = try await apiReset()
                #expect(retried.status == .conflict && !String(buffer: retried.body).contains("\"password\""))
                let kept: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM idempotency_key WHERE convert_from(response, 'UTF8') LIKE '%\"password\":%'"
                )
                #expect(kept == 0)
                // The last admin stays: disabling them is refused with the reason.
                let disabled = try await Self.post(client, orgPath + "/users/\(userId)/disable", cookie, [("csrf", csrf)])
                #expect(disabled.headers[.location]?.hasPrefix(orgPath + "?error=") == true)
            }
        }
    }

    @Test func theFeedsScorecardsAndStatisticsSpeakWordsAndShowNoRawRecord() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await db.owner.execute(
                """
                INSERT INTO quarantine (dataset, batch_id, record_id, reason_code, reason, raw, raw_hash)
                VALUES ('tax_filing', 0, 'tf-q-1', 'invalid_money', 'amount_fen: not an amount in fen', '{"legal_rep":"李四的身份证"}', '\\x01')
                """
            )
            try await w.app(db).test(.router) { client in
                let (cookie, _) = try await Self.operatorSession(client, w, role: .staff)
                let (status, feeds) = try await Self.get(client, "/console/feeds?dataset=tax_filing", cookie)
                #expect(
                    status == .ok && feeds.contains("纳税申报") && feeds.contains("金额无效") && feeds.contains("tf-q-1"),
                    "\(feeds.prefix(3000))"
                )
                #expect(!feeds.contains("李四"))
                let (_, cards) = try await Self.get(client, "/console/scorecards", cookie)
                let active: String = try await db.owner.scalar("SELECT version FROM active_scorecard")
                #expect(cards.contains(active) && cards.contains("启用中"))
                let (_, english) = try await Self.get(client, "/console", cookie + "; xyd_lang=en")
                #expect(english.contains("Statistics rebuilds") && english.contains("Objections"))
            }
        }
    }
}
