import CreditCore
import Curl
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// The findings of the outside security probe (issue 15), each reproduced as the attack it was.
@Suite struct SecurityTests {
    struct Created: Decodable { let id: UUID }
    struct Outcomes: Decodable {
        struct O: Decodable {
            let month: String
            let status: String
        }
        let items: [O]
    }

    /// A demand matched to the bank and the other bank (both publish an open product).
    func matchedToTwoBanks(_ client: some TestClientProtocol, _ w: CreditWorld) async throws -> UUID {
        try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
    }

    func post(_ client: some TestClientProtocol, _ key: String, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: bearer(key).merging(.json), body: body.map(jsonBody))
    }

    // MARK: 1, 6, 11 — a competitor and another bank's loan

    @Test func aCompetitorNeitherReadsAnotherBanksLoanOutcomesNorLearnsTheDemandsState() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            // One place per demand: the first take-up fills it.
            try await w.app(db, ["XYD_MAX_BANKS_PER_DEMAND": "1"]).test(.router) { client in
                let id = try await matchedToTwoBanks(client, w)
                let today = Day.todayInChina()
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .ok)
                // The other bank's demand authorisation ended when the places filled (6): its profile read is denied.
                let read = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.otherBankKey)
                )
                #expect(read.status == .forbidden, "\(String(buffer: read.body))")
                try await w.lend(client, demand: id)
                #expect(
                    try await post(
                        client,
                        w.bank,
                        "/v1/demands/\(id)/disburse",
                        "{\"amount_fen\": 20000000, \"disbursed_on\": \"\(today)\"}"
                    ).status == .ok
                )
                #expect(
                    try await post(
                        client,
                        w.bank,
                        "/v1/demands/\(id)/outcomes",
                        "{\"month\": \"\(MonthIndex(today))\", \"status\": \"overdue_30\"}"
                    ).status == .ok
                )

                // The competitor: the outcomes are absent (1), and so is the demand — no state told (11).
                let theirs = try await client.execute(uri: "/v1/demands/\(id)/outcomes", method: .get, headers: bearer(w.otherBankKey))
                #expect(theirs.status == .notFound, "\(String(buffer: theirs.body))")
                #expect(!String(buffer: theirs.body).contains("overdue"))
                let bodies = [
                    "decline": #"{"reason": "other"}"#, "disburse": "{\"amount_fen\": 1, \"disbursed_on\": \"\(today)\"}",
                    "offer": DemandWorkflowTests.offerBody(amountFen: 1),
                ]
                for verb in ["take-up", "pass", "offer", "decline", "disburse"] {
                    let r = try await post(client, w.otherBankKey, "/v1/demands/\(id)/\(verb)", bodies[verb])
                    #expect(r.status == .notFound, "\(verb): \(String(buffer: r.body))")
                    #expect(!String(buffer: r.body).contains("disbursed"), "\(verb)")
                }
                // The lender reads them, and the read is audited against the business.
                let mine = try decodeJSON(
                    Outcomes.self,
                    try await client.execute(uri: "/v1/demands/\(id)/outcomes", method: .get, headers: bearer(w.bank))
                )
                #expect(mine.items.map(\.status) == ["overdue_30"])
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'loan.outcomes_read' AND subject_uscc = '\(CreditWorld.uscc)' AND actor_org_id = '\(w.bankId)'"
                )
                #expect(audited == 1)
                // Every authorisation of the demand has ended, and the business is told why.
                struct List: Decodable {
                    struct A: Decodable {
                        let bank_org_id: UUID
                        let status: String
                        let revoked_by: String?
                    }
                    let items: [A]
                }
                let auths = try decodeJSON(
                    List.self,
                    try await client.execute(uri: "/v1/me/authorisations", method: .get, headers: bearer(w.business))
                )
                #expect(auths.items.first { $0.bank_org_id == w.otherBankId }?.revoked_by == "demand_taken_up")
                #expect(auths.items.first { $0.bank_org_id == w.bankId }?.revoked_by == "demand_closed")
                #expect(auths.items.allSatisfy { $0.status == "revoked" })
                // The competitor heard the demand leave the pool, and nothing of the loan after
                // (a demand is matched after its posting's event, so the pool's moves start at take-up).
                let heard: [String] = try await db.owner.withConnection { c in
                    try await c.query(
                        "SELECT payload->>'to_state' FROM webhook_event WHERE bank_org_id = \(w.otherBankId) AND type = 'demand.state_changed' ORDER BY id",
                        logger: db.owner.logger
                    ).collect().map { try $0.decode(String.self) }
                }
                #expect(heard == ["taken_up"])
            }
        }
    }

    @Test func aLapsedTakeUpGivesTheOtherBanksTheirAccessBack() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let id = try await matchedToTwoBanks(client, w)
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .ok)
                try await db.owner.execute("UPDATE demand SET decision_due_on = current_date - 1 WHERE id = '\(id)'")
                _ = try await Demands.sweep(db.app)
                // Matching again — this call's, or the app's own market service's, which may hold the
                // demand at this moment (rows are matched FOR UPDATE SKIP LOCKED) — gives it back.
                try await eventually("the other bank authorised again") {
                    _ = try await Demands.rematch(db.app)
                    let live: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM authorisation WHERE demand_id = '\(id)' AND bank_org_id = '\(w.otherBankId)' AND revoked_at IS NULL"
                    )
                    return live == 1
                }
                #expect(try await post(client, w.otherBankKey, "/v1/demands/\(id)/take-up").status == .ok)
            }
        }
    }

    // MARK: 2 — the statistics over every order of events

    @Test func theStatisticsRebuildOverEveryStateTheWorkflowReaches() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let today = Day.todayInChina()
            try await w.app(db).test(.router) { client in
                // Each path through the workflow, on its own demand.
                let paths: [[String]] = [
                    ["withdraw"], ["take-up", "withdraw"], ["take-up", "accept", "disburse"], ["take-up", "decline"],
                    ["take-up", "accept"],
                    ["take-up", "offer"], ["take-up", "offer", "withdraw"], ["take-up", "offer", "offer-lapse"],
                    ["pass"], ["expire"], ["take-up", "lapse"], ["take-up", "late", "withdraw"], ["take-up", "late", "decline"], [],
                ]
                var ids: [UUID] = []
                for steps in paths {
                    let id = try await DemandWorkflowTests().setUp(client, w, banks: ids.isEmpty ? [w.bank] : [])
                    ids.append(id)
                    for step in steps {
                        switch step {
                        case "withdraw": #expect(try await post(client, w.business, "/v1/me/demands/\(id)/withdraw").status == .ok)
                        case "offer":
                            #expect(
                                try await post(client, w.bank, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody()).status == .ok
                            )
                        case "accept": try await w.lend(client, demand: id)
                        case "disburse":
                            #expect(
                                try await post(
                                    client,
                                    w.bank,
                                    "/v1/demands/\(id)/disburse",
                                    "{\"amount_fen\": 1, \"disbursed_on\": \"\(today)\"}"
                                ).status == .ok
                            )
                        case "decline":
                            #expect(try await post(client, w.bank, "/v1/demands/\(id)/decline", #"{"reason": "other"}"#).status == .ok)
                        case "expire":
                            try await db.owner.execute("UPDATE demand SET expires_at = now() - interval '1 second' WHERE id = '\(id)'")
                            _ = try await Demands.sweep(db.app)
                        case "lapse":
                            try await db.owner.execute(
                                "UPDATE demand_offer SET decision_due_on = current_date - 1 WHERE demand_id = '\(id)'"
                            )
                            _ = try await Demands.sweep(db.app)
                        case "offer-lapse":  // the business let the offer's validity pass
                            try await db.owner.execute("UPDATE demand_offer SET valid_until = current_date - 1 WHERE demand_id = '\(id)'")
                            _ = try await Demands.sweep(db.app)
                        case "late":  // the bank let its decision deadline pass
                            try await db.owner.execute(
                                "UPDATE demand_offer SET decision_due_on = current_date - 1 WHERE demand_id = '\(id)'"
                            )
                        default: #expect(try await post(client, w.bank, "/v1/demands/\(id)/\(step)").status == .ok, "\(step)")
                        }
                    }
                }
                do {
                    try await Stats.refresh(db.app)
                } catch {
                    Issue.record("the rebuild failed: \(String(reflecting: error))")
                }
                let nulls: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM stat_demand WHERE take_up_overdue IS NULL OR decision_overdue IS NULL"
                )
                #expect(nulls == 0)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM stat_demand") == paths.count)
                // Withdrawal stops the decision clock: late only if the bank was late by then.
                #expect(try await db.owner.scalar("SELECT decision_overdue FROM stat_demand WHERE demand_id = '\(ids[1])'") == false)
                #expect(try await db.owner.scalar("SELECT decision_overdue FROM stat_demand WHERE demand_id = '\(ids[11])'") == true)
                #expect(try await db.owner.scalar("SELECT decision_overdue FROM stat_demand WHERE demand_id = '\(ids[12])'") == true)
                // Every state a path reaches, and the tables agree with the rows behind them: an
                // offer made counts once, a lapsed offer is no grant, and every bank's part is in
                // the banks' table.
                let states: [String] = try await db.owner.withConnection { c in
                    try await c.query("SELECT state FROM demand ORDER BY created_at", logger: db.owner.logger).collect().map {
                        try $0.decode(String.self)
                    }
                }
                #expect(
                    states == [
                        "withdrawn", "withdrawn", "disbursed", "declined", "granted", "taken_up", "withdrawn", "open", "open", "expired",
                        "open", "withdrawn", "declined", "open",
                    ]
                )
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM stat_demand WHERE granted") == 2)
                #expect(try await db.owner.scalar("SELECT sum(offers)::int FROM stat_demand") == 5)
                let parts: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand_offer")
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM stat_bank_demand WHERE took_up") == parts)
            }
        }
    }

    @Test func aFailedRebuildIsVisibleAndDoesNotStopTheOtherTables() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                try await Stats.refresh(db.app)
                // The demands table's rebuild now fails (as a NULL did in the probe).
                do {
                    try await db.owner.execute(
                        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$"
                    )
                    try await db.owner.execute("CREATE TRIGGER refuse BEFORE INSERT ON stat_demand FOR EACH ROW EXECUTE FUNCTION refuse()")
                } catch {
                    Issue.record("\(String(reflecting: error))")
                    return
                }
                var failed: [String] = []
                do { try await Stats.refresh(db.app) } catch let e as Stats.RefreshFailed { failed = e.failures.map(\.table) }
                #expect(failed.contains("demands"))
                #expect(!failed.contains("quality") && !failed.contains("model"))
                let regulator = w.keys.byKind[.regulator]!
                struct Table: Decodable {
                    let rebuild_failed_at: String?
                    let refreshed_at: String?
                    let notes: [String]
                }
                let funnel = try decodeJSON(
                    Table.self,
                    try await client.execute(uri: "/v1/regulator/funnel", method: .get, headers: bearer(regulator))
                )
                #expect(funnel.rebuild_failed_at != nil && funnel.refreshed_at != nil)
                #expect(funnel.notes.contains { $0.hasPrefix("stale") })
                let quality = try decodeJSON(
                    Table.self,
                    try await client.execute(uri: "/v1/regulator/quality", method: .get, headers: bearer(regulator))
                )
                #expect(quality.rebuild_failed_at == nil)
                // Never stale in silence: every dashboard page says so above its figures, with the
                // time of the last good rebuild; /readyz and /metrics say it to operators.
                let cookie = try #require(DashboardTests.cookie(try await DashboardTests.signIn(client, key: regulator)))
                for page in ["/dashboard", "/dashboard/inclusion", "/dashboard/banks", "/dashboard/quality", "/dashboard/model"] {
                    let r = try await client.execute(uri: page, method: .get, headers: [.cookie: cookie])
                    let html = String(buffer: r.body)
                    #expect(r.status == .ok && html.contains("banner stale") && html.contains("数据不是最新的"), "\(page)")
                    #expect(html.contains("<table"), "\(page) still shows the previous figures")
                }
                struct Ready: Decodable {
                    struct Statistics: Decodable {
                        let last_good: String?
                        let failing: [String]
                        let late: Bool
                    }
                    let statistics: Statistics?
                }
                let ready = try decodeJSON(Ready.self, try await client.execute(uri: "/readyz", method: .get))
                #expect(ready.statistics?.failing.contains("demands") == true && ready.statistics?.late == false)
                #expect(ready.statistics?.last_good != nil)
                let metrics = String(buffer: try await client.execute(uri: "/metrics", method: .get).body)
                #expect(metrics.contains("xyd_statistics_stale 1") && !metrics.contains("xyd_statistics_failing_tables 0"), "\(metrics)")
                // Mended, the next rebuild clears the mark.
                try await db.owner.execute("DROP TRIGGER refuse ON stat_demand")
                try await Stats.refresh(db.app)
                let again = try decodeJSON(
                    Table.self,
                    try await client.execute(uri: "/v1/regulator/funnel", method: .get, headers: bearer(regulator))
                )
                #expect(again.rebuild_failed_at == nil)
                let mended = String(buffer: try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: cookie]).body)
                #expect(!mended.contains("banner stale"))
                #expect(try decodeJSON(Ready.self, try await client.execute(uri: "/readyz", method: .get)).statistics == nil)
                #expect(String(buffer: try await client.execute(uri: "/metrics", method: .get).body).contains("xyd_statistics_stale 0"))
                // A rebuild that has not succeeded for a day (the service stopped rebuilding) is late.
                try await db.owner.execute("UPDATE stat_refresh SET refreshed_at = now() - interval '1 day', failed_at = NULL")
                let late = try decodeJSON(Ready.self, try await client.execute(uri: "/readyz", method: .get))
                #expect(late.statistics?.late == true && late.statistics?.failing.isEmpty == true)
                let lateHTML = String(
                    buffer: try await client.execute(uri: "/dashboard/banks", method: .get, headers: [.cookie: cookie]).body
                )
                #expect(lateHTML.contains("banner stale") && lateHTML.contains("个更新周期未能更新"))
            }
        }
    }

    // MARK: 5 — loan terms within the demand and the product

    @Test func offersDisbursementsAndOutcomesOutsideTheirBoundsAreRefused() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                // Asks ¥200,000; product 400–600 bp, 1–60 months.
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                let product: UUID = try await db.owner.scalar("SELECT id FROM product WHERE bank_org_id = '\(w.bankId)'")
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .ok)
                func fields(_ r: TestResponse) throws -> [String] { (try decodeProblem(r).errors ?? []).map(\.field) }
                let tenTimes = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 200_000_000)
                )
                #expect(tenTimes.status == .unprocessableContent)
                #expect(try fields(tenTimes) == ["amount_fen"])
                // No product named: the terms must still fit the bank's product that matched
                // (a 0.00% rate on a 4.00–6.00% product was let through before).
                let free = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 20_000_000, rateBp: 0)
                )
                #expect(free.status == .unprocessableContent)
                #expect(try fields(free) == ["rate_bp"])
                #expect(try decodeProblem(free).errors?.first?.reason.contains("400 to 600") == true)
                let offRange = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 20_000_000, termMonths: 120, rateBp: 2400, product: product)
                )
                #expect(offRange.status == .unprocessableContent)
                #expect(Set(try fields(offRange)) == ["term_months", "rate_bp"])
                // Validity: from today, at most 30 days; a repayment method from the list.
                let staleOffer = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 20_000_000, product: product)
                        .replacingOccurrences(
                            of: Day.todayInChina().addingDays(7).description,
                            with: Day.todayInChina().addingDays(31).description
                        )
                        .replacingOccurrences(of: "equal_instalments", with: "balloon")
                )
                #expect(staleOffer.status == .unprocessableContent)
                #expect(Set(try fields(staleOffer)) == ["repayment"])
                let longOffer = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 20_000_000, product: product)
                        .replacingOccurrences(
                            of: Day.todayInChina().addingDays(7).description,
                            with: Day.todayInChina().addingDays(31).description
                        )
                )
                #expect(try fields(longOffer) == ["valid_until"])
                let longConditions = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody(amountFen: 20_000_000, product: product)
                        .replacingOccurrences(
                            of: "\"first_loan_attested\"",
                            with: "\"conditions\": \"\(String(repeating: "条", count: 501))\", \"first_loan_attested\""
                        )
                )
                #expect(try fields(longConditions) == ["conditions"])
                try await w.lend(client, demand: id, body: DemandWorkflowTests.offerBody(amountFen: 20_000_000, product: product))
                let old = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/disburse",
                    #"{"amount_fen": 20000000, "disbursed_on": "1999-01-01"}"#
                )
                #expect(old.status == .unprocessableContent)
                #expect(try fields(old) == ["disbursed_on"])
                #expect(
                    try await post(
                        client,
                        w.bank,
                        "/v1/demands/\(id)/disburse",
                        "{\"amount_fen\": 20000000, \"disbursed_on\": \"\(Day.todayInChina())\"}"
                    ).status == .ok
                )
                let ancient = try await post(client, w.bank, "/v1/demands/\(id)/outcomes", #"{"month": "1999-02", "status": "defaulted"}"#)
                #expect(ancient.status == .unprocessableContent)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM loan_outcome") == 0)
            }
        }
    }

    // MARK: 3, 4 — keys and secrets

    @Test func keysMintedOverTheAPIExpireAreBoundedAndDieWithTheirParent() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                struct Issued: Decodable {
                    struct Info: Decodable {
                        let id: UUID
                        let expires_at: Date?
                    }
                    let info: Info
                    let secret: String
                }
                let child = try decodeJSON(Issued.self, try await post(client, w.bank, "/v1/keys", #"{"label": "child"}"#))
                let days = (child.info.expires_at?.timeIntervalSinceNow ?? 0) / 86_400
                #expect(days > 364 && days <= 365, "a key from the API expires within the default validity")
                let grandchild = try decodeJSON(Issued.self, try await post(client, child.secret, "/v1/keys", #"{"label": "grandchild"}"#))
                // Revoking the bank's key (the parent) ends both keys it led to.
                let parent: UUID = try await db.owner.scalar("SELECT issued_by_key_id FROM api_keys WHERE id = '\(child.info.id)'")
                #expect(
                    try await client.execute(uri: "/v1/keys/\(parent)", method: .delete, headers: bearer(w.otherBankKey)).status
                        == .notFound
                )
                let operatorKey = w.keys.byKind[.operator]!
                #expect(try await client.execute(uri: "/v1/keys/\(parent)", method: .delete, headers: bearer(operatorKey)).status == .ok)
                for secret in [w.bank, child.secret, grandchild.secret] {
                    #expect(try await client.execute(uri: "/v1/keys", method: .get, headers: bearer(secret)).status == .unauthorized)
                }
                // At most the bounded number of live keys per organisation.
                let limit = OrganisationLimits.maxLiveKeysPerOrganisation
                let live: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM api_keys WHERE org_id = '\(w.otherBankId)' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
                )
                for i in live..<limit {
                    #expect(try await post(client, w.otherBankKey, "/v1/keys", "{\"label\": \"k\(i)\"}").status == .created)
                }
                let over = try await post(client, w.otherBankKey, "/v1/keys", #"{"label": "one too many"}"#)
                #expect(over.status == .conflict, "\(String(buffer: over.body))")
            }
        }
    }

    @Test func noSecretIsKeptForAnIdempotentRetry() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db, ["XYD_WEBHOOK_ALLOW_LOOPBACK": "true", "XYD_WEBHOOK_LOOPBACK_PORTS": "9099"]).test(.router) { client in
                var headers = bearer(w.bank).merging(.json)
                headers[HTTPField.Name("Idempotency-Key")!] = "rotate-2026-11-30"
                let first = try await client.execute(
                    uri: "/v1/keys",
                    method: .post,
                    headers: headers,
                    body: jsonBody(#"{"label": "rotation"}"#)
                )
                #expect(first.status == .created)
                struct Issued: Decodable { let secret: String }
                let secret = try decodeJSON(Issued.self, first).secret
                let retry = try await client.execute(
                    uri: "/v1/keys",
                    method: .post,
                    headers: headers,
                    body: jsonBody(#"{"label": "rotation"}"#)
                )
                #expect(retry.status == .conflict)
                #expect(!String(buffer: retry.body).contains(secret))
                headers[HTTPField.Name("Idempotency-Key")!] = "hook-2026-11-30"
                let hook = try await client.execute(
                    uri: "/v1/webhooks",
                    method: .post,
                    headers: headers,
                    body: jsonBody(#"{"url": "http://127.0.0.1:9099/hook"}"#)
                )
                #expect(hook.status == .created, "\(String(buffer: hook.body))")
                let hookSecret = try decodeJSON(Issued.self, hook).secret
                #expect(
                    try await client.execute(
                        uri: "/v1/webhooks",
                        method: .post,
                        headers: headers,
                        body: jsonBody(#"{"url": "http://127.0.0.1:9099/hook"}"#)
                    ).status == .conflict
                )
                // Nothing kept at rest holds either secret.
                let kept: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM idempotency_key WHERE position(convert_to('\(secret)', 'UTF8') IN response) > 0 OR position(convert_to('\(hookSecret)', 'UTF8') IN response) > 0"
                )
                #expect(kept == 0)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM idempotency_key") == 2)
            }
        }
    }

    // MARK: 10 — inputs that became 500s

    @Test func nulBytesOversizedBodiesAndLongTextAreClientErrors() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db, ["XYD_MAX_BODY_BYTES": "2048"]).test(.router) { client in
                let nul =
                    #"{"amount_fen": 20000000, "term_months": 12, "purpose": "cash\u0000", "collateral_offered": false, "first_loan": false}"#
                #expect(try await post(client, w.business, "/v1/me/demands", nul).status == .badRequest)
                // An escaped backslash before `u0000` is text, not NUL.
                let text =
                    #"{"amount_fen": 20000000, "term_months": 12, "purpose": "a\\u0000b", "collateral_offered": false, "first_loan": false}"#
                #expect(try await post(client, w.business, "/v1/me/demands", text).status == .created)
                // A key given twice (the outside probe): the decoder would keep one silently.
                let twice =
                    #"{"amount_fen": 20000000, "amount_fen": -1, "term_months": 12, "purpose": "x", "collateral_offered": false, "first_loan": false}"#
                #expect(try await post(client, w.business, "/v1/me/demands", twice).status == .badRequest)
                #expect(try await client.execute(uri: "/v1/public/enterprises?name=a%00b", method: .get).status == .badRequest)
                #expect(try await client.execute(uri: "/v1/public/enterprises/%00", method: .get).status == .badRequest)
                // A body over the limit without a Content-Length (as chunked ones come): 413.
                let big = "{\"purpose\": \"" + String(repeating: "x", count: 4_000) + "\"}"
                var chunked = bearer(w.business)
                chunked[.contentType] = "application/json"
                let r = try await client.execute(uri: "/v1/me/demands", method: .post, headers: chunked, body: jsonBody(big))
                #expect(r.status == .contentTooLarge, "\(String(buffer: r.body))")
                // 400 letters each with a combining mark: 400 characters to Swift, 800 to PostgreSQL.
                let marked = String(repeating: "e\u{301}", count: 400)
                let long =
                    "{\"amount_fen\": 20000000, \"term_months\": 12, \"purpose\": \"\(marked)\", \"collateral_offered\": false, \"first_loan\": false}"
                let refused = try await post(client, w.business, "/v1/me/demands", long)
                #expect(refused.status == .unprocessableContent, "\(String(buffer: refused.body))")
            }
        }
    }

    // MARK: 12 — headers

    @Test func creditDataIsNeverCachedNorSniffed() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                for (uri, key) in [
                    ("/v1/me/profile", w.business), ("/v1/regulator/funnel?format=csv", w.keys.byKind[.regulator]!),
                    ("/v1/nowhere", w.bank),
                ] {
                    let r = try await client.execute(uri: uri, method: .get, headers: bearer(key))
                    #expect(r.headers[.cacheControl] == "no-store", "\(uri)")
                    #expect(r.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "\(uri)")
                    #expect(r.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(uri)")
                }
                let page = try await client.execute(uri: "/portal/login", method: .get)
                #expect(page.headers[HTTPField.Name("Content-Security-Policy")!]?.contains("script-src 'none'") == true)
            }
        }
    }

    // MARK: 15 — reports after revocation; verification rate

    @Test func aBankCannotFetchAReportAgainOnceTheAuthorisationEnded() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let auth = try await w.grant(client, bank: w.bankId, scopes: ["report"])
                let made = try await post(
                    client,
                    w.bank,
                    "/v1/enterprises/\(CreditWorld.uscc)/reports",
                    #"{"purpose": "loan_application"}"#
                )
                #expect(made.status == .created, "\(String(buffer: made.body))")
                struct Made: Decodable {
                    struct R: Decodable { let number: String }
                    let report: R
                }
                let number = try decodeJSON(Made.self, made).report.number
                #expect(try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.bank)).status == .ok)
                #expect(
                    try await client.execute(uri: "/v1/me/authorisations/\(auth)", method: .delete, headers: bearer(w.business)).status
                        == .ok
                )
                let again = try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.bank))
                #expect(again.status == .forbidden)
                #expect(try decodeProblem(again).type.hasSuffix("authorisation-required"))
                // The business still has its report, and sees the refused attempt.
                #expect(try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.business)).status == .ok)
                let denied: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'report.read' AND result = 'denied'"
                )
                #expect(denied == 1)
            }
        }
    }

    @Test func reportVerificationIsRateLimitedAndSaysItsOwnRate() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db, ["XYD_PUBLIC_RATE_PER_MINUTE": "7", "XYD_PUBLIC_RATE_BURST": "3"]).test(.router) { client in
                var statuses: [HTTPResponse.Status] = []
                var last: TestResponse?
                for i in 0..<5 {
                    let r = try await client.execute(
                        uri: "/v1/reports/XYD-20261130-\(String(format: "%06d", i))/verification",
                        method: .get
                    )
                    statuses.append(r.status)
                    last = r
                }
                #expect(statuses.prefix(3).allSatisfy { $0 == .notFound }, "\(statuses)")
                #expect(statuses.suffix(2).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")
                #expect(last?.headers[.retryAfter] != nil)
                #expect(try decodeProblem(last!).detail?.contains("7 requests a minute") == true)
            }
        }
    }

    // MARK: 16 — CSV cells are never formulas

    @Test func csvCellsThatLookLikeFormulasAreNeutralised() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            for name in ["=1+2", "@SUM(A1)", "+cmd", "-2"] {
                _ = try await db.app.withConnection { c in
                    try await Register.createOrganisation(on: c, logger: db.app.logger, kind: .bank, name: name, uscc: nil)
                }
            }
            try await Stats.refresh(db.app)
            try await w.app(db).test(.router) { client in
                let csv = String(
                    buffer: try await client.execute(
                        uri: "/v1/regulator/banks?format=csv",
                        method: .get,
                        headers: bearer(w.keys.byKind[.regulator]!)
                    ).body
                )
                let firsts = csv.split(separator: "\r\n").map { $0.first.map(String.init) ?? "" }
                #expect(!firsts.contains { ["=", "+", "-", "@"].contains($0) }, "\(csv)")
                for name in ["=1+2", "@SUM(A1)", "+cmd", "-2"] {
                    #expect(csv.contains("\r\n'\(name),"), "\(name) in \(csv)")
                }
            }
        }
    }

    // MARK: 13, 14 — refusals audited, sign-in throttled and forged sign-ins refused

    @Test func refusedKeysAreAuditedAndThrottledAndSignInsTellNothing() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db, ["XYD_AUTH_FAILURE_BURST": "3", "XYD_AUTH_FAILURES_PER_MINUTE": "1"]).test(.router) { client in
                // A wrong role is refused and audited with who tried.
                #expect(try await client.execute(uri: "/v1/orgs", method: .get, headers: bearer(w.bank)).status == .forbidden)
                let role: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'access.refused' AND actor_org_id = '\(w.bankId)' AND detail->>'why' = 'role_refused'"
                )
                #expect(role == 1)
                // Unknown keys: audited (prefix only, never the key), then 429 with Retry-After.
                let guess = "xyd_guessing" + String(repeating: "A", count: 35)
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<5 { statuses.append(try await client.execute(uri: "/v1/me", method: .get, headers: bearer(guess)).status) }
                #expect(statuses == [.unauthorized, .unauthorized, .unauthorized, .tooManyRequests, .tooManyRequests], "\(statuses)")
                let refused: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'access.refused' AND detail->>'why' = 'key_refused'"
                )
                #expect(refused == 3)
                let leaked: Int = try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE detail::text LIKE '%\(guess)%'")
                #expect(leaked == 0)
            }
            try await w.app(db, ["XYD_AUTH_FAILURE_BURST": "2", "XYD_AUTH_FAILURES_PER_MINUTE": "1"]).test(.router) { client in
                // A sign-in form posted without the page's token (from another site): 403.
                let forged = try await client.execute(
                    uri: "/portal/login",
                    method: .post,
                    headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: jsonBody("key=\(w.business)")
                )
                #expect(forged.status == .forbidden)
                // An unknown login and a regulator's person with the right password (not for the
                // portal) get the same words.
                func message(_ r: TestResponse) -> String? {
                    let html = String(buffer: r.body)
                    guard let start = html.range(of: "role=\"alert\">")?.upperBound else { return nil }
                    return String(html[start...].prefix { $0 != "<" })
                }
                let (regulatorPerson, _) = try #require(try await People.make(client, key: w.keys.byKind[.regulator]!))
                let (businessPerson, _) = try #require(try await People.make(client, key: w.business))
                let unknown = try await People.postLogin(
                    client,
                    area: "/portal",
                    login: "nobody.here",
                    password: "some-password-1",
                    code: "",
                    next: ""
                )
                let regulator = try await People.postLogin(
                    client,
                    area: "/portal",
                    login: regulatorPerson.user.login,
                    password: regulatorPerson.password,
                    code: "",
                    next: ""
                )
                #expect(unknown.status == .unauthorized && regulator.status == .unauthorized)
                #expect(message(unknown) != nil && message(unknown) == message(regulator))
                // The budget of two failures is spent: even the right password waits now.
                let right = try await People.postLogin(
                    client,
                    area: "/portal",
                    login: businessPerson.user.login,
                    password: businessPerson.password,
                    code: "",
                    next: ""
                )
                #expect(right.status == .tooManyRequests)
                let denied: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'session.sign_in' AND result = 'denied'"
                )
                #expect(denied == 2)
            }
        }
    }

    @Test func theAuditLogFilesARequestUnderTheServicesIdNotTheCallers() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                var headers = bearer(w.business)
                headers[HTTPField.Name("X-Request-Id")!] = "forged-id-1"
                let r = try await client.execute(uri: "/v1/me/profile", method: .get, headers: headers)
                #expect(r.status == .ok)
                let own = try #require(r.headers[HTTPField.Name("X-Xyd-Request-Id")!])
                #expect(own != "forged-id-1")
                let row: String = try await db.owner.scalar(
                    "SELECT request_id || ' ' || coalesce(detail->>'client_request_id', '-') FROM audit_log WHERE route = 'GET /v1/me/profile' ORDER BY id DESC LIMIT 1"
                )
                #expect(row == "\(own) forged-id-1")
            }
        }
    }

    // MARK: 7 — webhooks reach only what the policy allows, as libcurl reads and resolves it

    @Test func webhooksReachOnlyAllowedAddressesAsLibcurlSeesThem() async throws {
        let policy = WebhookPolicy(hosts: ["hooks.bank.example"], allowLoopback: true, loopbackPorts: [9099])
        // Registration: the URL as libcurl reads it.
        #expect(policy.check("http://127.0.0.1:9099/hook") == nil)
        for bad in [
            "http://127.0.0.1:5432/", "http://localhost:22/", "http://[::1]:6379/", "http://0.0.0.0:9099/",
            "http://169.254.169.254/latest/meta-data",
            "http://127.0.0.1:9099@169.254.169.254/", "http://user:pw@hooks.bank.example/", "gopher://hooks.bank.example/",
            "http://10.0.0.5/",
            "http://hooks.bank.example.evil.example/",
        ] {
            #expect(policy.check(bad) != nil, "\(bad)")
        }
        // Delivery: the allow-listed name resolved now, every address checked, then pinned.
        func pins(_ url: String, _ addresses: [String]) -> Result<[String], WebhookPolicy.Refused> {
            Result { try policy.pins(for: url) { _ in addresses } }.mapError { $0 as! WebhookPolicy.Refused }
        }
        #expect(try pins("https://hooks.bank.example/x", ["10.1.2.3"]).get() == ["hooks.bank.example:443:10.1.2.3"])
        for addresses in [["127.0.0.1"], ["10.1.2.3", "169.254.169.254"], ["::ffff:127.0.0.1"], ["fe80::1"], ["0.0.0.0"], []] {
            if case .success = pins("https://hooks.bank.example/x", addresses) { Issue.record("delivered to \(addresses)") }
        }
        // A real resolution: localhost, the allowed port only, pinned to what it resolved to.
        let local = try policy.pins(for: "http://localhost:9099/hook")
        #expect(!local.isEmpty && local.allSatisfy { $0.hasPrefix("localhost:9099:") })
        // What a bank's delivery log may say of a failure: a class, never the upstream's words.
        #expect(Webhooks.errorClass(WebhookPolicy.Refused(description: "x")) == "refused_address")
        #expect(
            Webhooks.errorClass(CurlError.transport(code: 7, message: "Failed to connect to 127.0.0.1 port 5432")) == "connection_failed"
        )
    }

    @Test func loopbackWebhooksNeedTheirPortsNamed() throws {
        #expect(throws: ConfigError.self) {
            _ = try AppConfig.load(environment: ["XYD_DATABASE_URL": "postgres://u:p@127.0.0.1/x", "XYD_WEBHOOK_ALLOW_LOOPBACK": "true"])
        }
        let config = try AppConfig.load(environment: [
            "XYD_DATABASE_URL": "postgres://u:p@127.0.0.1/x", "XYD_WEBHOOK_ALLOW_LOOPBACK": "true",
            "XYD_WEBHOOK_LOOPBACK_PORTS": "9099, 9100",
        ])
        #expect(config.webhookPolicy.loopbackPorts == [9099, 9100])
    }

    // MARK: 8 — load amplification bounded

    @Test func openDemandsAndProductChangesAreBounded() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let demand =
                    #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#
                var ids: [UUID] = []
                for _ in 0..<Demands.maxOpenPerBusiness {
                    let r = try await post(client, w.business, "/v1/me/demands", demand)
                    #expect(r.status == .created)
                    struct Posted: Decodable {
                        struct D: Decodable { let id: UUID }
                        let demand: D
                    }
                    ids.append(try decodeJSON(Posted.self, r).demand.id)
                }
                let over = try await post(client, w.business, "/v1/me/demands", demand)
                #expect(over.status == .conflict, "\(String(buffer: over.body))")
                #expect(try await post(client, w.business, "/v1/me/demands/\(ids[0])/withdraw").status == .ok)
                #expect(try await post(client, w.business, "/v1/me/demands", demand).status == .created)
                // A bank's product changes: at most the hourly bound, then 429 with Retry-After.
                let product =
                    #"{"name": "Busy", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1, "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}"#
                let id = try decodeJSON(Created.self, try await post(client, w.bank, "/v1/products", product)).id
                var made = 1
                while made < Products.maxChangesPerHour {
                    let verb = made % 2 == 1 ? "publish" : "pause"
                    #expect(try await post(client, w.bank, "/v1/products/\(id)/\(verb)").status == .ok, "change \(made)")
                    made += 1
                }
                let refused = try await post(client, w.bank, "/v1/products/\(id)/pause")
                #expect(refused.status == .tooManyRequests, "\(String(buffer: refused.body))")
                #expect(refused.headers[.retryAfter] != nil)
                // Another bank is not held back by this one.
                #expect(try await post(client, w.otherBankKey, "/v1/products", product).status == .created)
            }
        }
    }
}
