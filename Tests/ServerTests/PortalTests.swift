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

/// The portal: who may open what, CSRF on every form, and (in a real Chromium) a business's and
/// a bank officer's main tasks done from the pages alone.
@Suite struct PortalTests {
    /// A person of the key's organisation signs in to the portal (see `People.signIn`).
    static func signIn(_ client: some TestClientProtocol, key: String, next: String = "") async throws -> TestResponse {
        try await People.signIn(client, key: key, area: "/portal", next: next)
    }

    /// The session cookie of a sign-in, and the CSRF token its pages carry.
    static func session(_ client: some TestClientProtocol, key: String, page: String) async throws -> (cookie: String, csrf: String) {
        let r = try await signIn(client, key: key)
        #expect(r.status == .seeOther, "\(String(buffer: r.body))")
        let cookie = try #require(DashboardTests.cookie(r))
        let html = String(buffer: try await client.execute(uri: page, method: .get, headers: [.cookie: cookie]).body)
        let marker = "name=\"csrf\" value=\""
        let start = try #require(html.range(of: marker)).upperBound
        return (cookie, String(html[start...].prefix { $0 != "\"" }))
    }

    static func post(_ client: some TestClientProtocol, _ uri: String, cookie: String, _ form: String) async throws -> TestResponse {
        try await client.execute(
            uri: uri,
            method: .post,
            headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: form)
        )
    }

    func product(_ name: String, rules: String) -> String {
        """
        {"name": "\(name)", "kind": "credit", "amount_min_fen": 10000000, "amount_max_fen": 300000000, "term_min_months": 6,
         "term_max_months": 36, "rate_min_bp": 365, "rate_max_bp": 600, "rules": [\(rules)]}
        """
    }

    struct Created: Decodable { let id: UUID }

    func publish(_ client: some TestClientProtocol, _ w: CreditWorld) async throws {
        for (name, rules) in [
            ("Grade C and up", #"{"rule": "min_grade", "value": "C"}"#), ("Grade A only", #"{"rule": "min_grade", "value": "A"}"#),
        ] {
            let r = try await client.execute(
                uri: "/v1/products",
                method: .post,
                headers: bearer(w.bank).merging(.json),
                body: jsonBody(product(name, rules: rules))
            )
            let id = try decodeJSON(Created.self, r).id
            #expect(try await client.execute(uri: "/v1/products/\(id)/publish", method: .post, headers: bearer(w.bank)).status == .ok)
        }
    }

    @Test func eachRoleReachesOnlyItsOwnPagesAndEveryFormNeedsTheSessionsToken() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                try await publish(client, w)
                // No session: to the sign-in page, remembering where it was going.
                let away = try await client.execute(uri: "/portal/financing", method: .get)
                #expect(away.status == .seeOther && away.headers[.location] == "/portal/login?next=/portal/financing")
                // Regulators and operators have their own doors.
                for kind in [OrgKind.regulator, .operator, .procurement] {
                    #expect(try await Self.signIn(client, key: w.keys.byKind[kind]!).status == .unauthorized, "\(kind)")
                }
                #expect(try await Self.signIn(client, key: "xyd_nonsense").status == .unauthorized)

                let business = try await Self.session(client, key: w.business, page: "/portal/financing")
                let bank = try await Self.session(client, key: w.bank, page: "/portal/bank")
                // A business session: its own pages only.
                for page in ["/portal", "/portal/access", "/portal/financing", "/portal/governance", "/portal/reports"] {
                    let r = try await client.execute(uri: page, method: .get, headers: [.cookie: business.cookie])
                    #expect(r.status == .ok, "\(page)")
                    #expect(String(buffer: r.body).contains("Test enterprise"), "\(page) shows who is signed in")
                    #expect(
                        try await client.execute(uri: page, method: .get, headers: [.cookie: bank.cookie]).status == .forbidden,
                        "a bank on \(page)"
                    )
                }
                for page in ["/portal/bank", "/portal/bank/loans", "/portal/bank/lookup", "/portal/bank/events"] {
                    #expect(
                        try await client.execute(uri: page, method: .get, headers: [.cookie: business.cookie]).status == .forbidden,
                        "a business on \(page)"
                    )
                    #expect(try await client.execute(uri: page, method: .get, headers: [.cookie: bank.cookie]).status == .ok, "\(page)")
                }
                #expect(
                    try await Self.post(client, "/portal/bank/demands/\(UUID())/take-up", cookie: business.cookie, "csrf=\(business.csrf)")
                        .status == .forbidden
                )

                // Forms without the session's token are refused, and change nothing.
                let demand = "amount_yuan=500000&term_months=12&purpose=buying+yarn&confirm=1"
                #expect(try await Self.post(client, "/portal/demands", cookie: business.cookie, demand).status == .forbidden)
                #expect(
                    try await Self.post(client, "/portal/demands", cookie: business.cookie, demand + "&csrf=\(bank.csrf)").status
                        == .forbidden
                )
                #expect(try await Self.post(client, "/portal/demands", cookie: business.cookie, demand + "&csrf=").status == .forbidden)
                let none: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand")
                #expect(none == 0)
                // With it, the demand is posted through the API's own function (audited as demand.post).
                let posted = try await Self.post(client, "/portal/demands", cookie: business.cookie, demand + "&csrf=\(business.csrf)")
                #expect(posted.status == .seeOther)
                let location = try #require(posted.headers[.location])
                #expect(location.hasPrefix("/portal/demands/"))
                let page = String(buffer: try await client.execute(uri: location, method: .get, headers: [.cookie: business.cookie]).body)
                #expect(page.contains("Grade C and up") && page.contains("Grade A only") && page.contains("最低信用等级 A"))
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'demand.post' AND route = 'POST /portal/demands'"
                )
                #expect(audited == 1)
                // Bad input: the form again, saying what to fix, nothing stored.
                let bad = try await Self.post(
                    client,
                    "/portal/demands",
                    cookie: business.cookie,
                    "amount_yuan=abc&term_months=12&purpose=x&csrf=\(business.csrf)"
                )
                #expect(bad.status == .unprocessableContent && String(buffer: bad.body).contains("金额"))
                let tooLong = try await Self.post(
                    client,
                    "/portal/demands",
                    cookie: business.cookie,
                    "amount_yuan=5&term_months=999&purpose=x&csrf=\(business.csrf)"
                )
                #expect(tooLong.status == .unprocessableContent && String(buffer: tooLong.body).contains("期限"))
                let one: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand")
                #expect(one == 1)
                // "50万" is understood as ¥500,000.00 and shown before posting (nothing posted yet);
                // the confirmation's form, submitted twice, posts one demand.
                let understood = try await Self.post(
                    client,
                    "/portal/demands",
                    cookie: business.cookie,
                    "amount_yuan=50%E4%B8%87&term_months=12&purpose=x&csrf=\(business.csrf)"
                )
                let confirmPage = String(buffer: understood.body)
                #expect(understood.status == .ok && confirmPage.contains("¥500,000.00") && confirmPage.contains("谁能看到什么"))
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 1)
                let onceMarker = "name=\"once\" value=\""
                let onceStart = try #require(confirmPage.range(of: onceMarker)).upperBound
                let once = String(confirmPage[onceStart...].prefix { $0 != "\"" })
                let confirmed = "amount_yuan=500000.00&term_months=12&purpose=x&confirm=1&once=\(once)&csrf=\(business.csrf)"
                let first = try await Self.post(client, "/portal/demands", cookie: business.cookie, confirmed)
                let again = try await Self.post(client, "/portal/demands", cookie: business.cookie, confirmed)
                #expect(first.status == .seeOther && again.status == .seeOther && first.headers[.location] == again.headers[.location])
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand WHERE amount_fen = 50000000 AND purpose = 'x'") == 1)
                try await db.owner.execute("DELETE FROM demand_event WHERE demand_id IN (SELECT id FROM demand WHERE purpose = 'x')")
                try await db.owner.execute("DELETE FROM authorisation WHERE demand_id IN (SELECT id FROM demand WHERE purpose = 'x')")
                try await db.owner.execute("DELETE FROM demand WHERE purpose = 'x'")
                // Withdrawn from its page (the form needs the token too).
                #expect(try await Self.post(client, location + "/withdraw", cookie: business.cookie, "csrf=x").status == .forbidden)
                let withdrawn = try await Self.post(client, location + "/withdraw", cookie: business.cookie, "csrf=\(business.csrf)")
                #expect(withdrawn.status == .seeOther && withdrawn.headers[.location]?.hasSuffix("done=withdrawn") == true)
                let state: String = try await db.owner.scalar("SELECT state FROM demand")
                #expect(state == "withdrawn")
                // A bank officer passes on an open demand from the queue: it leaves the queue.
                let second = try await Self.post(client, "/portal/demands", cookie: business.cookie, demand + "&csrf=\(business.csrf)")
                let secondId = try #require(second.headers[.location]).replacingOccurrences(of: "/portal/demands/", with: "")
                let queued = String(
                    buffer: try await client.execute(uri: "/portal/bank", method: .get, headers: [.cookie: bank.cookie]).body
                )
                #expect(queued.contains("/portal/bank/demands/\(secondId)/pass"))
                // The card shows the business's grade and score — credit data, read under the demand's
                // authorisation — and each showing is an audit row of the officer's (the business sees it).
                let grade: String = try await db.owner.scalar("SELECT grade FROM profile WHERE uscc = '\(CreditWorld.uscc)'")
                let score: Int = try await db.owner.scalar("SELECT score FROM profile WHERE uscc = '\(CreditWorld.uscc)'")
                #expect(queued.contains("信用等级 \(grade)</span> \(score) 分"), "\(queued.prefix(3000))")
                let queueReads: Int = try await db.owner.scalar(
                    """
                    SELECT count(*)::int FROM audit_log WHERE action = 'profile.read' AND detail->>'view' = 'queue'
                      AND subject_uscc = '\(CreditWorld.uscc)' AND actor_org_id = '\(w.bankId)' AND actor_user_id IS NOT NULL
                      AND detail->>'authorisation_id' IS NOT NULL AND result = 'allowed'
                    """
                )
                #expect(queueReads == 1)
                // Filtered by grade: "B or better" keeps an A or B business only; the grade read to sift
                // is audited too, whether the card stays or goes.
                let sifted = String(
                    buffer: try await client.execute(uri: "/portal/bank?grade=B", method: .get, headers: [.cookie: bank.cookie]).body
                )
                #expect(sifted.contains("/portal/bank/demands/\(secondId)/pass") == (grade == "A" || grade == "B"), "grade \(grade)")
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE detail->>'view' = 'queue'") == 2)
                // The business sees the officer's reads in its access log.
                let accessPage = String(
                    buffer: try await client.execute(uri: "/portal/access", method: .get, headers: [.cookie: business.cookie]).body
                )
                #expect(accessPage.contains("在待办列表中看到信用等级与评分"), "\(accessPage.prefix(3000))")
                // Not a message each: the officer opens the queue many times a day.
                let inbox = String(
                    buffer: try await client.execute(uri: "/v1/me/messages", method: .get, headers: bearer(w.business)).body
                )
                #expect(!inbox.contains("bank.read"), "\(inbox.prefix(2000))")
                let passed = try await Self.post(
                    client,
                    "/portal/bank/demands/\(secondId)/pass",
                    cookie: bank.cookie,
                    "reason=not+our+sector&csrf=\(bank.csrf)"
                )
                #expect(passed.headers[.location] == "/portal/bank?done=passed")
                let after = String(
                    buffer: try await client.execute(uri: "/portal/bank?done=passed", method: .get, headers: [.cookie: bank.cookie]).body
                )
                #expect(after.contains("已放弃该需求") && !after.contains(secondId))
                // And takes up and grants another: amount in yuan, the yearly rate in percent, exactly.
                let third = try await Self.post(client, "/portal/demands", cookie: business.cookie, demand + "&csrf=\(business.csrf)")
                let thirdId = try #require(third.headers[.location]).replacingOccurrences(of: "/portal/demands/", with: "")
                #expect(
                    try await Self.post(client, "/portal/bank/demands/\(thirdId)/take-up", cookie: bank.cookie, "csrf=\(bank.csrf)")
                        .headers[.location]
                        == "/portal/bank?done=taken_up"
                )
                let badRate = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/offer",
                    cookie: bank.cookie,
                    "amount_yuan=450000.50&term_months=12&rate_percent=4.355&csrf=\(bank.csrf)"
                )
                let back = try #require(badRate.headers[.location])
                #expect(back.hasPrefix("/portal/bank?error="))
                #expect(
                    String(buffer: try await client.execute(uri: back, method: .get, headers: [.cookie: bank.cookie]).body).contains(
                        "请填写金额"
                    )
                )
                // A message only shows with this session's tag: a link from elsewhere cannot put words on the page.
                let forged = try await client.execute(
                    uri: "/portal/bank?error=Call+0513-0000+to+unlock&tag=abc",
                    method: .get,
                    headers: [.cookie: bank.cookie]
                )
                #expect(!String(buffer: forged.body).contains("unlock"))
                let otherTag = back.replacingOccurrences(of: "/portal/bank", with: "/portal")
                #expect(
                    !String(buffer: try await client.execute(uri: otherTag, method: .get, headers: [.cookie: business.cookie]).body)
                        .contains("请填写金额"),
                    "another session's tag does not check"
                )
                let offered = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/offer",
                    cookie: bank.cookie,
                    "amount_yuan=450000.50&term_months=12&rate_percent=4.35&repayment=equal_instalments"
                        + "&valid_until=\(Day.todayInChina().addingDays(7))&first_loan_attested=no&csrf=\(bank.csrf)"
                )
                #expect(offered.headers[.location] == "/portal/bank?done=offered")
                // The business sees the offer with its monthly payment and accepts it.
                let offerId: UUID = try await db.owner.scalar("SELECT id FROM demand_offer WHERE demand_id = '\(thirdId)'")
                let offerPage = String(
                    buffer: try await client.execute(uri: "/portal/demands/\(thirdId)", method: .get, headers: [.cookie: business.cookie])
                        .body
                )
                #expect(offerPage.contains("每月还款") && offerPage.contains("接受这份报价"))
                let accepted = try await Self.post(
                    client,
                    "/portal/demands/\(thirdId)/offers/\(offerId)/accept",
                    cookie: business.cookie,
                    "csrf=\(business.csrf)"
                )
                #expect(accepted.headers[.location] == "/portal/demands/\(thirdId)?done=accepted")
                let terms: String = try await db.owner.scalar(
                    "SELECT state || ' ' || granted_amount_fen || ' ' || granted_term_months || ' ' || granted_rate_bp FROM demand WHERE id = '\(thirdId)'"
                )
                #expect(terms == "granted 45000050 12 435")
                // The disbursement, from the same queue: not above the amount granted, not in the future.
                let today = Day.todayInChina()
                let tooMuch = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/disburse",
                    cookie: bank.cookie,
                    "amount_yuan=450000.51&disbursed_on=\(today)&csrf=\(bank.csrf)"
                )
                #expect(tooMuch.headers[.location]?.contains("error=") == true)
                let future = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/disburse",
                    cookie: bank.cookie,
                    "amount_yuan=450000.50&disbursed_on=\(today.addingDays(1))&csrf=\(bank.csrf)"
                )
                #expect(future.headers[.location]?.contains("error=") == true)
                let paid = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/disburse",
                    cookie: bank.cookie,
                    "amount_yuan=450000.50&disbursed_on=\(today)&csrf=\(bank.csrf)"
                )
                #expect(paid.headers[.location] == "/portal/bank?done=disbursed")
                let disbursed: String = try await db.owner.scalar(
                    "SELECT state || ' ' || disbursed_amount_fen || ' ' || disbursed_on FROM demand WHERE id = '\(thirdId)'"
                )
                #expect(disbursed == "disbursed 45000050 \(today)")

                // The loan's monthly outcomes, reported from the loans page (the API's own function).
                let loansPage = String(
                    buffer: try await client.execute(uri: "/portal/bank/loans", method: .get, headers: [.cookie: bank.cookie]).body
                )
                #expect(loansPage.contains("/portal/bank/demands/\(thirdId)/outcome") && loansPage.contains("450,000.50"))
                let month = String(today.description.prefix(7))
                let nextMonth = String(today.addingDays(32).description.prefix(7))
                let early = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/outcome",
                    cookie: bank.cookie,
                    "month=\(nextMonth)&status=current&csrf=\(bank.csrf)"
                )
                #expect(early.headers[.location]?.contains("error=") == true)  // a month not yet begun
                let wrong = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/outcome",
                    cookie: bank.cookie,
                    "month=\(month)&status=fine&csrf=\(bank.csrf)"
                )
                #expect(wrong.headers[.location]?.contains("error=") == true)
                let reported = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/outcome",
                    cookie: bank.cookie,
                    "month=\(month)&status=overdue_30&csrf=\(bank.csrf)"
                )
                #expect(reported.headers[.location] == "/portal/bank/loans?done=outcome")
                // Another bank may not report on this bank's loan.
                let otherBank = try await Self.session(client, key: w.otherBankKey, page: "/portal/bank")
                let foreign = try await Self.post(
                    client,
                    "/portal/bank/demands/\(thirdId)/outcome",
                    cookie: otherBank.cookie,
                    "month=\(month)&status=defaulted&csrf=\(otherBank.csrf)"
                )
                #expect(foreign.headers[.location]?.contains("error=") == true)
                let outcomes: String = try await db.owner.scalar(
                    "SELECT string_agg(month || ' ' || status, ',') FROM loan_outcome WHERE demand_id = '\(thirdId)'"
                )
                #expect(outcomes == "\(month) overdue_30")
                let api = try await client.execute(uri: "/v1/demands/\(thirdId)/outcomes", method: .get, headers: bearer(w.bank))
                #expect(String(buffer: api.body).contains("\"status\":\"overdue_30\""))
                let shown = String(
                    buffer: try await client.execute(uri: "/portal/bank/loans", method: .get, headers: [.cookie: bank.cookie]).body
                )
                #expect(shown.contains("逾期 30 天以上") || shown.contains("30+ days overdue"))

                // Another business cannot see this one's demand, nor its report.
                let other = try await Self.session(client, key: w.otherBusinessKey, page: "/portal/financing")
                #expect(try await client.execute(uri: location, method: .get, headers: [.cookie: other.cookie]).status == .notFound)
                let made = try await Self.post(client, "/portal/reports", cookie: business.cookie, "csrf=\(business.csrf)")
                let report = try #require(made.headers[.location])
                // The page's form carries a one-time token: submitted twice, it makes one report.
                let reportsPage = String(
                    buffer: try await client.execute(uri: "/portal/reports", method: .get, headers: [.cookie: business.cookie]).body
                )
                let tokenStart = try #require(reportsPage.range(of: "name=\"once\" value=\"")).upperBound
                let reportOnce = String(reportsPage[tokenStart...].prefix { $0 != "\"" })
                let before: Int = try await db.owner.scalar("SELECT count(*)::int FROM report")
                let twice = [
                    try await Self.post(client, "/portal/reports", cookie: business.cookie, "csrf=\(business.csrf)&once=\(reportOnce)"),
                    try await Self.post(client, "/portal/reports", cookie: business.cookie, "csrf=\(business.csrf)&once=\(reportOnce)"),
                ]
                #expect(twice[0].headers[.location] != nil && twice[0].headers[.location] == twice[1].headers[.location])
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM report") == before + 1)
                #expect(try await client.execute(uri: report, method: .get, headers: [.cookie: business.cookie]).status == .ok)
                #expect(try await client.execute(uri: report, method: .get, headers: [.cookie: other.cookie]).status == .notFound)
                #expect(
                    try await client.execute(uri: report + "/download", method: .get, headers: [.cookie: other.cookie]).status == .notFound
                )
                // Nor revoke the business's authorisations.
                let auth = try await w.grant(client, bank: w.bankId, scopes: ["profile"], purpose: "credit_line_review")
                let stolen = try await Self.post(
                    client,
                    "/portal/authorisations/\(auth)/revoke",
                    cookie: other.cookie,
                    "csrf=\(other.csrf)"
                )
                #expect(stolen.status == .seeOther && stolen.headers[.location]?.contains("error=") == true)
                let live: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM authorisation WHERE id = '\(auth)' AND revoked_at IS NULL"
                )
                #expect(live == 1)
                // Signing out needs the token too, and ends the session.
                #expect(try await Self.post(client, "/portal/logout", cookie: business.cookie, "csrf=nope").status == .forbidden)
                #expect(try await Self.post(client, "/portal/logout", cookie: business.cookie, "csrf=\(business.csrf)").status == .seeOther)
                #expect(try await client.execute(uri: "/portal", method: .get, headers: [.cookie: business.cookie]).status == .seeOther)
            }
        }
    }

    /// Every visible field has a label, and the page can be walked with the keyboard (nothing
    /// taken out of the tab order).
    static let labelled = """
        Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea')).every(el => el.labels && el.labels.length > 0)
          && document.querySelectorAll('[tabindex="-1"]').length === 0
        """

    /// Runs the steps in Chromium (ops/browser.py) against the live test server, screenshots to
    /// `XYD_SCREENSHOT_DIR` when set; what went wrong, or "" when every step passed.
    /// A step `["as": name]` (or `["sign_in_as": name]`, from the page already open) is the sign-in of
    /// `people[name]`.
    static func walk(
        _ client: some TestClientProtocol,
        _ steps: [[String: Any]],
        people: [String: People.Ready] = [:]
    ) async throws
        -> String
    {
        let steps = steps.flatMap { step -> [[String: Any]] in
            if let name = step["as"] as? String, let p = people[name] { return p.steps() }
            if let name = step["sign_in_as"] as? String, let p = people[name] { return p.steps(go: false) }
            return [step]
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("portal-steps-\(UUID()).json")
        try JSONSerialization.data(withJSONObject: steps).write(to: file)
        let shots = ProcessInfo.processInfo.environment["XYD_SCREENSHOT_DIR"]
        let child = try ChildProcess.launch(
            "python3",
            [
                repositoryRoot.appendingPathComponent("ops/browser.py").path, "--base", "http://127.0.0.1:\(client.port!)",
                "--steps", file.path,
            ] + (shots.map { ["--screenshots", $0] } ?? [])
        )
        let status = try await child.wait()
        guard status == 0 else { return "ops/browser.py exited \(status): \(child.errorOutput())" }
        let walk = try JSONDecoder().decode(BrowserWalk.self, from: Data(child.output().utf8))
        guard walk.ok, walk.steps.count == steps.count else {
            return "step \(walk.steps.count) of \(steps.count): \(walk.steps.last?.error ?? "") — \(steps[max(0, walk.steps.count - 1)])"
        }
        return ""
    }

    @Test func aBusinessAndABankOfficerDoTheirMainTasksInChromium() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.live) { client in
                try await publish(client, w)
                let people = [
                    "business": try await People.ready(client, key: w.business),
                    "officer": try await People.ready(client, key: w.bank, role: .officer),
                ]
                let steps: [[String: Any]] = [
                    // The business signs in and sees its check-up.
                    ["as": "business"],
                    ["expect_path": "/portal"], ["expect_text": "信用体检"], ["expect_text": "如何提升等级"], ["shot": "portal-checkup"],
                    ["eval": "document.querySelectorAll('svg[role=img] > title').length >= 1", "equals": true],
                    // The records behind a feature, one click away.
                    ["tap": "a.basis"], ["eval": "document.querySelector('details[id^=basis-]').open = true", "equals": true],
                    ["expect_text": "指标的依据"], ["expect_text": "参保人数"], ["shot": "portal-basis"],
                    // English, and back.
                    ["click": "a[href^='/portal/lang?to=en']"], ["expect_text": "Credit check-up"],
                    ["expect_text": "What would raise my grade"],
                    ["click": "a[href^='/portal/lang?to=zh']"], ["expect_text": "信用体检"],
                    // Who looked at me: authorise another bank from the page, then revoke it, confirming.
                    ["go": "/portal/access"], ["tap": "details.card summary"], ["eval": Self.labelled, "equals": true],
                    ["fill": "#bank", "value": w.otherBankId.uuidString.lowercased()],
                    ["fill": "#apurpose", "value": "credit_line_review"],
                    ["click": "form[action='/portal/authorisations'] button[type=submit]"], ["expect_text": "已授权"],
                    ["expect_text": "Other bank"],
                    ["click": "a.btn.danger"], ["expect_text": "确认撤销"],
                    ["click": "form[action$='/revoke'] button[type=submit]"], ["expect_path": "/portal/access"], ["expect_text": "授权已撤销"],
                    ["shot": "portal-access"],
                    // Financing: the browser checks the form as it is filled; the server again.
                    ["go": "/portal/financing"], ["eval": Self.labelled, "equals": true], ["fill": "#amount", "value": "-5"],
                    ["eval": "document.querySelector('#amount').validity.valid", "equals": false],
                    ["fill": "#amount", "value": "50万"], ["fill": "#term", "value": "12"], ["fill": "#purpose", "value": "采购棉纱"],
                    ["eval": "document.querySelector('form[action=\"/portal/demands\"]').checkValidity()", "equals": true],
                    ["shot": "portal-financing"],
                    // The amount as understood, and who will read what, before anything is posted.
                    ["click": "form[action='/portal/demands'] button[type=submit]"], ["expect_text": "¥500,000.00"],
                    ["expect_text": "谁能看到什么"], ["expect_text": "Test bank"], ["shot": "portal-demand-confirm"],
                    ["click": "form[action='/portal/demands'] button[type=submit]"], ["expect_path": "/portal/demands/"],
                    ["expect_text": "Grade C and up"], ["expect_text": "差一点匹配"], ["expect_text": "Grade A only"],
                    ["expect_text": "最低信用等级 A；您的等级 B"],
                    ["shot": "portal-demand"],
                    // Object to a record from its row; make a commitment; produce a signed report.
                    ["go": "/portal"], ["click": "a[href^='/portal/objections/new']"], ["eval": Self.labelled, "equals": true],
                    ["fill": "#reason", "value": "该月已足额缴纳"], ["click": "form[action='/portal/objections'] button[type=submit]"],
                    ["expect_path": "/portal/governance"], ["expect_text": "异议已提交"],
                    ["fill": "#kind", "value": "utilities_on_time"], ["fill": "#months", "value": "3"],
                    ["eval": Self.labelled, "equals": true],
                    ["click": "form[action='/portal/commitments'] button[type=submit]"], ["expect_text": "承诺已作出"], ["expect_text": "进行中"],
                    ["shot": "portal-governance"],
                    ["go": "/portal/reports"], ["click": "form[action='/portal/reports'] button[type=submit]"],
                    ["expect_path": "/portal/reports/XYD-"],
                    ["expect_text": "报告编号"], ["expect_text": "/verification"], ["shot": "portal-report"],
                    ["go": "/portal"], ["expect_text": "有争议"],
                    ["click": "header form button[type=submit]"], ["expect_path": "/portal/login"],
                    // The bank officer takes the demand up and declines it with a reason.
                    ["sign_in_as": "officer"], ["expect_path": "/portal/bank"],
                    ["expect_text": "剩 "], ["click": "form[action$='/take-up'] button[type=submit]"], ["expect_text": "已受理该需求"],
                    ["eval": Self.labelled, "equals": true],
                    ["fill": "select[name=reason]", "value": "high_existing_debt"], ["fill": "textarea[name=text]", "value": "负债率超过 70%"],
                    ["eval": "document.querySelectorAll('details').forEach(d => d.open = true) || true", "equals": true],
                    ["shot": "portal-bank"],
                    ["click": "form[action$='/decline'] button[type=submit]"], ["expect_text": "已拒绝"],
                    ["go": "/portal/bank/events"], ["expect_status": 200],
                    ["click": "header form button[type=submit]"],
                    // The business sees the reason.
                    ["sign_in_as": "business"], ["go": "/portal/financing"],
                    ["expect_text": "现有负债过高: 负债率超过 70%"],
                    // On a phone's width the pages still work.
                    ["width": 390], ["go": "/portal"], ["expect_text": "信用体检"], ["shot": "portal-phone"],
                    ["eval": "document.documentElement.scrollWidth <= 400", "equals": true],
                ]
                let failure = try await Self.walk(client, steps, people: people)
                #expect(failure.isEmpty, "\(failure)")
                // What the pages did, the database holds.
                let declined: String = try await db.owner.scalar("SELECT state || ' ' || decline_reason FROM demand")
                #expect(declined == "declined high_existing_debt")
                let objections: Int = try await db.owner.scalar("SELECT count(*)::int FROM objection WHERE state = 'open'")
                let commitments: Int = try await db.owner.scalar("SELECT count(*)::int FROM commitment WHERE kind = 'utilities_on_time'")
                let reports: Int = try await db.owner.scalar("SELECT count(*)::int FROM report")
                #expect(objections == 1 && commitments == 1 && reports == 1)
                let revoked: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM authorisation WHERE purpose = 'credit_line_review' AND revoked_at IS NOT NULL"
                )
                #expect(revoked == 1)
            }
        }
    }

    /// The bank sets ¥100,000 as the most an officer offers alone: the officer's form stops there
    /// and says so; the manager, signed in as themselves, offers the whole ¥200,000.
    @Test func aBankManagerOffersAboveTheOfficersLimitInChromium() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.live) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                let limit = try await client.execute(
                    uri: "/v1/bank/settings",
                    method: .put,
                    headers: bearer(w.bank).merging(.json),
                    body: jsonBody(#"{"officer_offer_limit_fen": 10000000}"#)
                )
                #expect(limit.status == .ok, "\(String(buffer: limit.body))")
                #expect(try await client.execute(uri: "/v1/demands/\(id)/take-up", method: .post, headers: bearer(w.bank)).status == .ok)
                let people = [
                    "officer": try await People.ready(client, key: w.bank, role: .officer),
                    "manager": try await People.ready(client, key: w.bank, role: .manager),
                ]
                let d = id.uuidString.lowercased()
                let openForms = "document.querySelectorAll('details').forEach(d => d.open = true) || true"
                let steps: [[String: Any]] = [
                    ["as": "officer"], ["expect_path": "/portal/bank"], ["expect_text": "信用等级"],
                    ["eval": openForms, "equals": true], ["expect_text": "超过 ¥100,000.00 须由审批经理报价"],
                    ["eval": "document.querySelector('#ga-\(d)').max", "equals": "100000.00"], ["shot": "portal-officer-limit"],
                    ["click": "header form button[type=submit]"],
                    ["sign_in_as": "manager"], ["expect_path": "/portal/bank"], ["eval": openForms, "equals": true],
                    ["eval": "document.querySelector('#ga-\(d)').max", "equals": "200000.00"],
                    ["fill": "#ga-\(d)", "value": "200000"], ["fill": "#gr-\(d)", "value": "4.35"],
                    ["check": "input[name=first_loan_attested][value=no]"], ["shot": "portal-manager-offer"],
                    ["click": "form[action$='/offer'] button[type=submit]"], ["expect_text": "报价已发送"],
                ]
                let failure = try await Self.walk(client, steps, people: people)
                #expect(failure.isEmpty, "\(failure)")
                let offered: Int64 = try await db.owner.scalar("SELECT amount_fen FROM demand_offer WHERE state = 'offered'")
                #expect(offered == 20_000_000)
                let by: String = try await db.owner.scalar(
                    "SELECT u.role FROM audit_log a JOIN org_user u ON u.id = a.actor_user_id WHERE a.action = 'demand.offer'"
                )
                #expect(by == "manager")
            }
        }
    }

    @Test func aBusinessComparesTwoOffersAndAcceptsOneInChromium() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.live) { client in
                // Two banks take the demand up and offer: ours at 4.35% (equal instalments), the
                // other at 4.80% (interest only).
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
                for (key, rate, repayment) in [(w.bank, 435, "equal_instalments"), (w.otherBankKey, 480, "interest_only")] {
                    let took = try await client.execute(uri: "/v1/demands/\(id)/take-up", method: .post, headers: bearer(key))
                    #expect(took.status == .ok)
                    let offered = try await client.execute(
                        uri: "/v1/demands/\(id)/offer",
                        method: .post,
                        headers: bearer(key).merging(.json),
                        body: jsonBody(
                            DemandWorkflowTests.offerBody(amountFen: 20_000_000, rateBp: rate)
                                .replacingOccurrences(of: "equal_instalments", with: repayment)
                                .replacingOccurrences(
                                    of: "\"first_loan_attested\"",
                                    with: "\"conditions\": \"按月报送财务报表\", \"first_loan_attested\""
                                )
                        )
                    )
                    #expect(offered.status == .ok, "\(String(buffer: offered.body))")
                }
                try await db.owner.execute("UPDATE organisations SET name = '南通示范银行' WHERE id = '\(w.bankId)'")
                try await db.owner.execute("UPDATE organisations SET name = '南通农商银行' WHERE id = '\(w.otherBankId)'")
                let mine: UUID = try await db.owner.scalar("SELECT id FROM demand_offer WHERE bank_org_id = '\(w.bankId)'")
                let page = "/portal/demands/\(id.uuidString.lowercased())"
                let cheap = Repayment.equalInstalments.plan(principalFen: 20_000_000, months: 12, rateBp: 435)
                let people = [
                    "business": try await People.ready(client, key: w.business),
                    "officer": try await People.ready(client, key: w.bank, role: .officer),
                ]
                let steps: [[String: Any]] = [
                    ["as": "business"],
                    ["go": page], ["expect_text": "银行报价 (2)"], ["expect_text": "南通示范银行"], ["expect_text": "南通农商银行"],
                    ["expect_text": "每月还款"], ["expect_text": PortalHtml.yuan(cheap.monthlyFen)], ["expect_text": "总利息最低"],
                    ["expect_text": "按月付息、到期还本"], ["eval": Self.labelled, "equals": true],
                    ["shot": "portal-offers"],
                    ["click": "form[action$='/offers/\(mine.uuidString.lowercased())/accept'] button[type=submit]"],
                    ["expect_path": page], ["expect_text": "已接受这份报价"], ["expect_text": "企业接受了其他银行的报价"],
                    ["shot": "portal-offer-accepted"],
                    ["eval": "document.querySelectorAll('form[action$=\"/accept\"]').length", "equals": 0],
                    // On a phone the offers stack, and nothing scrolls sideways.
                    ["width": 390], ["go": page], ["eval": "document.documentElement.scrollWidth <= 400", "equals": true],
                    ["width": 1280], ["click": "header form button[type=submit]"],
                    // The lender's officer records the disbursement from the queue.
                    ["sign_in_as": "officer"], ["expect_path": "/portal/bank"],
                    ["expect_text": "登记放款"],
                ]
                let walk = try await Self.walk(client, steps, people: people)
                #expect(walk.isEmpty, "\(walk)")
                // What the pages did, the database holds.
                let state: String = try await db.owner.scalar("SELECT state || ' ' || taken_up_by || ' ' || granted_rate_bp FROM demand")
                #expect(state == "granted \(w.bankId.uuidString.lowercased()) 435")
                let lapsed: String = try await db.owner.scalar(
                    "SELECT state || ' ' || lapse_reason FROM demand_offer WHERE bank_org_id = '\(w.otherBankId)'"
                )
                #expect(lapsed == "lapsed other_accepted")
            }
        }
    }

    @Test func aBusinessSeesAMarkedRecordAddsAStatementAndReadsItsMessagesInChromium() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.live) { client in
                // An objection the check could not confirm; a bank's offer on a demand.
                let raised = try await client.execute(
                    uri: "/v1/me/objections",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(#"{"dataset": "social_insurance", "record_id": "\#(ObjectionTests.record(2))", "reason": "人数有误"}"#)
                )
                struct Made: Decodable { let id: UUID }
                let objection = try decodeJSON(Made.self, raised).id
                #expect(
                    try await client.execute(
                        uri: "/v1/objections/\(objection)/unverifiable",
                        method: .post,
                        headers: bearer(w.keys.byKind[.operator]!).merging(.json),
                        body: jsonBody(#"{"reason": "社保中心无该月人员明细，无法确认"}"#)
                    ).status == .ok
                )
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                #expect(try await client.execute(uri: "/v1/demands/\(id)/take-up", method: .post, headers: bearer(w.bank)).status == .ok)
                #expect(
                    try await client.execute(
                        uri: "/v1/demands/\(id)/offer",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(DemandWorkflowTests.offerBody())
                    ).status == .ok
                )
                try await db.owner.execute("UPDATE organisations SET name = '南通示范银行' WHERE id = '\(w.bankId)'")
                // A penalty past its minimum publicity: repairable.
                let today = Day.todayInChina()
                try await DisclosureTests.store(
                    db,
                    .administrativePenalty,
                    [
                        DisclosureTests.row(
                            "P-WALK",
                            CreditWorld.uscc,
                            #"{"decision_no":"通罚P-WALK","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-5))","violation":"超标排放污染物","severity":"general","fine_amount_fen":500000,"publicity_ends_on":"\#(today.addingMonths(7))"}"#
                        )
                    ]
                )
                let people = [
                    "business": try await People.ready(client, key: w.business),
                    "officer": try await People.ready(client, key: w.bank, role: .officer),
                ]
                let steps: [[String: Any]] = [
                    ["as": "business"],
                    ["expect_path": "/portal"], ["expect_text": "异议经核查无法确认"],
                    // Repair: the proof, and the credit commitment signed.
                    ["click": "a[href^='/portal/repairs/new']"], ["expect_text": "信用承诺书"], ["expect_text": "本单位郑重承诺"],
                    ["eval": Self.labelled, "equals": true],
                    ["check": "#c_fine_paid"], ["fill": "#evidence", "value": "罚款缴款凭证 0042"], ["check": "#commitment"],
                    ["fill": "#signed_by", "value": "张三"], ["shot": "portal-repair"],
                    ["click": "form[action='/portal/repairs'] button[type=submit]"], ["expect_path": "/portal/governance"],
                    ["go": "/portal"],
                    ["eval": "document.querySelector('header a[href=\"/portal/messages\"] .badge') !== null", "equals": true],
                    ["click": "a[href^='/portal/statements/new?dataset=social_insurance']"], ["eval": Self.labelled, "equals": true],
                    ["fill": "#text", "value": "该月参保人数以社保中心年度核定为准，已提交补充材料"],
                    ["click": "form[action='/portal/statements'] button[type=submit]"], ["expect_path": "/portal/governance"],
                    ["expect_text": "说明已添加"], ["expect_text": "已提交补充材料"], ["expect_text": "经核查无法确认"],
                    ["shot": "portal-statement"],
                    ["go": "/portal/messages"], ["expect_text": "对您的融资需求报价"], ["expect_text": "异议已答复"],
                    ["shot": "portal-messages"],
                    ["click": "form[action='/portal/messages/seen'] button[type=submit]"], ["expect_text": "未读 0 条"],
                    ["width": 390], ["go": "/portal/messages"], ["eval": "document.documentElement.scrollWidth <= 400", "equals": true],
                ]
                let failure = try await Self.walk(client, steps, people: people)
                #expect(failure.isEmpty, "\(failure)")
                let statements: Int = try await db.owner.scalar("SELECT count(*)::int FROM record_statement WHERE withdrawn_at IS NULL")
                #expect(statements == 1)
                let signed: String = try await db.owner.scalar("SELECT commitment_id || ' ' || signed_by FROM repair_application")
                #expect(signed == "repair-2026-1 张三")
            }
        }
    }
}

extension PortalTests {
    /// `/` sends each kind of person to their place: the doors for anyone, home for a person
    /// signed in.
    @Test func theHomePageSendsEachPersonToTheirPlace() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let anyone = try await client.execute(uri: "/", method: .get)
                let html = String(buffer: anyone.body)
                #expect(anyone.status == .ok)
                for door in [
                    "/portal/login", "/portal/login?next=/portal/bank", "/dashboard/login", "/portal/catalogue", "企业", "银行信贷人员", "监管部门",
                ] {
                    #expect(html.contains(door), "\(door)")
                }
                let english = String(buffer: try await client.execute(uri: "/", method: .get, headers: [.cookie: "\(Lang.cookie)=en"]).body)
                #expect(english.contains("Bank credit officers") && english.contains("lang?to=zh&amp;next=/\""))
                for (key, area, home) in [(w.business, "/portal", "/portal"), (w.bank, "/portal", "/portal/bank")] {
                    let cookie = try #require(DashboardTests.cookie(try await People.signIn(client, key: key, area: area)))
                    let r = try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie])
                    #expect(r.status == .seeOther && r.headers[.location] == home)
                }
                let regulator = try #require(
                    DashboardTests.cookie(try await DashboardTests.signIn(client, key: w.keys.byKind[.regulator]!))
                )
                #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: regulator]).headers[.location] == "/dashboard")
                let back = try await client.execute(uri: "/portal/lang?to=zh&next=/", method: .get)
                #expect(back.headers[.location] == "/")
            }
        }
    }

    /// At a phone's width (390 px) no portal page of a business or a bank officer scrolls
    /// sideways: tables become stacked cards, the header folds into a menu.
    @Test func noPortalPageScrollsSidewaysOnAPhone() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.live) { client in
                try await publish(client, w)
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile", "records"])
                let demand = try await client.execute(
                    uri: "/v1/me/demands",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(
                        #"{"amount_fen": 50000000, "term_months": 12, "purpose": "采购原料", "collateral_offered": false, "first_loan": false}"#
                    )
                )
                #expect(demand.status == .created, "\(String(buffer: demand.body))")
                let people = [
                    "business": try await People.ready(client, key: w.business),
                    "officer": try await People.ready(client, key: w.bank, role: .officer),
                ]
                // Neither the page nor any box in it (a table's scroller) scrolls sideways.
                let fits = """
                    document.documentElement.scrollWidth <= window.innerWidth && Array.from(document.querySelectorAll('body *')).every(e => {
                      const o = getComputedStyle(e).overflowX; return (o !== 'auto' && o !== 'scroll') || e.scrollWidth <= e.clientWidth + 1 })
                    """
                func visit(_ pages: [String]) -> [[String: Any]] {
                    pages.flatMap { page -> [[String: Any]] in
                        [["go": page], ["expect_status": 200], ["eval": fits, "equals": true]]
                    }
                }
                var steps: [[String: Any]] = [["width": 390], ["go": "/portal/login"], ["eval": fits, "equals": true], ["as": "business"]]
                steps += visit([
                    "/portal", "/portal/access", "/portal/financing", "/portal/governance", "/portal/reports", "/portal/messages",
                    "/portal/catalogue",
                ])
                struct Posted: Decodable {
                    struct D: Decodable { let id: UUID }
                    let demand: D
                }
                let demandId = try decodeJSON(Posted.self, demand).demand.id
                steps += visit(["/portal/demands/\(demandId)"])
                // Focus is visible: a 3 px amber outline on whatever has it.
                let focused = """
                    ['main a', 'main summary', 'header summary', 'header button'].map(s => { const e = document.querySelector(s); e.focus();
                      const c = getComputedStyle(e); return c.outlineStyle + ' ' + c.outlineWidth }).join(',')
                    """
                steps += [
                    ["go": "/portal"], ["eval": focused, "equals": "solid 3px,solid 3px,solid 3px,solid 3px"],
                    ["shot": "phone-business-checkup"],
                ]
                steps += [["go": "/portal"], ["tap": "header details.menu summary"], ["expect_text": "谁查看了我"], ["shot": "phone-menu"]]
                steps += [["click": "header form button[type=submit]"], ["sign_in_as": "officer"], ["expect_path": "/portal/bank"]]
                steps += visit([
                    "/portal/bank", "/portal/bank/loans", "/portal/bank/events", "/portal/bank/lookup",
                    "/portal/bank/lookup?uscc=\(CreditWorld.uscc)&purpose=loan_application",
                ])
                steps += [["shot": "phone-officer-lookup"]]
                let failure = try await Self.walk(client, steps, people: people)
                #expect(failure.isEmpty, "\(failure)")
            }
        }
    }
}

/// What ops/browser.py reports: each step done, and whether all were.
struct BrowserWalk: Decodable {
    struct Step: Decodable {
        let ok: Bool
        let error: String?
    }
    let steps: [Step]
    let ok: Bool
}
