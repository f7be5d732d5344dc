import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// Competing offers: several banks take up one demand and offer; the business compares them
/// (monthly payment, total interest) and accepts one; the others lapse and their banks are told;
/// a decline refers the demand to the other matching banks; first loans are checked.
@Suite struct OfferTests {
    struct Part: Decodable {
        let id: UUID
        let bank_org_id: UUID
        let state: String
        let amount_fen: Int64?
        let rate_bp: Int?
        let lapse_reason: String?
        let decline_reason: String?
        struct Plan: Decodable {
            let monthly_fen: Int64
            let last_fen: Int64
            let total_interest_fen: Int64
            let total_fen: Int64
        }
        let plan: Plan?
    }

    struct Seen: Decodable {
        struct D: Decodable {
            let state: String
            let taken_up_by: UUID?
            let granted_rate_bp: Int?
            let first_loan_verified: Bool?
        }
        let demand: D
        let offers: [Part]
    }

    /// A bank with a key and a product open to everyone, as the demand workflow's banks have.
    static func bank(_ db: TestDatabase, _ name: String) async throws -> (key: String, id: UUID) {
        try await db.app.withTransaction { c in
            let bank = try await Register.createOrganisation(on: c, logger: db.app.logger, kind: .bank, name: name, uscc: nil)
            let key = try await Register.issueKey(on: c, logger: db.app.logger, orgId: bank.id, label: "t", expiresAt: nil, issuedBy: nil)
            return (key.secret, bank.id)
        }
    }

    func post(_ client: some TestClientProtocol, _ key: String, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
        try await client.execute(uri: uri, method: .post, headers: bearer(key).merging(.json), body: body.map(jsonBody))
    }

    func seen(_ client: some TestClientProtocol, _ w: CreditWorld, _ id: UUID) async throws -> Seen {
        try decodeJSON(Seen.self, try await client.execute(uri: "/v1/me/demands/\(id)", method: .get, headers: bearer(w.business)))
    }

    @Test func threeBanksOfferTheBusinessAcceptsOneAndTheOthersLapseAndAreTold() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let third = try await Self.bank(db, "Third bank")
            try await w.app(db).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey, third.key])
                let banks = [(w.bank, w.bankId), (w.otherBankKey, w.otherBankId), third]
                // Each takes it up and offers ¥200,000 for 12 months at its own rate.
                for (i, (key, _)) in banks.enumerated() {
                    #expect(try await post(client, key, "/v1/demands/\(id)/take-up").status == .ok)
                    let r = try await post(
                        client,
                        key,
                        "/v1/demands/\(id)/offer",
                        DemandWorkflowTests.offerBody(amountFen: 20_000_000, rateBp: [500, 435, 600][i])
                    )
                    #expect(r.status == .ok, "\(String(buffer: r.body))")
                }
                // Side by side, each with its repayment plan computed exactly in fen.
                let before = try await seen(client, w, id)
                #expect(before.demand.state == "taken_up")
                #expect(before.offers.map(\.state) == ["offered", "offered", "offered"])
                for o in before.offers {
                    let plan = Repayment.equalInstalments.plan(principalFen: 20_000_000, months: 12, rateBp: o.rate_bp!)
                    #expect(o.plan?.monthly_fen == plan.monthlyFen && o.plan?.total_interest_fen == plan.totalInterestFen)
                    #expect(o.plan!.monthly_fen * 11 + o.plan!.last_fen == o.plan!.total_fen)
                }
                // The business accepts the cheapest (4.35%).
                let cheapest = before.offers.first { $0.rate_bp == 435 }!
                let accepted = try await post(client, w.business, "/v1/me/demands/\(id)/offers/\(cheapest.id)/accept")
                #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
                let after = try await seen(client, w, id)
                #expect(after.demand.state == "granted" && after.demand.taken_up_by == w.otherBankId && after.demand.granted_rate_bp == 435)
                #expect(after.offers.map(\.state) == ["lapsed", "accepted", "lapsed"])
                #expect(after.offers.compactMap(\.lapse_reason) == ["other_accepted", "other_accepted"])
                // The others were told (a signed notice each), lost their reading, and see nothing more.
                for (key, bankId) in [banks[0], banks[2]] {
                    let told: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_event WHERE type = 'demand.offer_lapsed' AND bank_org_id = '\(bankId)' AND payload->>'reason' = 'other_accepted'"
                    )
                    #expect(told == 1)
                    let live: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM authorisation WHERE demand_id = '\(id)' AND bank_org_id = '\(bankId)' AND revoked_at IS NULL"
                    )
                    #expect(live == 0)
                    #expect(
                        try await post(
                            client,
                            key,
                            "/v1/demands/\(id)/disburse",
                            "{\"amount_fen\": 1, \"disbursed_on\": \"\(Day.todayInChina())\"}"
                        ).status == .notFound
                    )
                }
                // A second acceptance, of any offer, is a conflict.
                #expect(try await post(client, w.business, "/v1/me/demands/\(id)/offers/\(before.offers[0].id)/accept").status == .conflict)
                // The lender disburses.
                #expect(
                    try await post(
                        client,
                        w.otherBankKey,
                        "/v1/demands/\(id)/disburse",
                        "{\"amount_fen\": 20000000, \"disbursed_on\": \"\(Day.todayInChina())\"}"
                    ).status == .ok
                )
                // The statistics agree: one demand, granted and disbursed at the accepted rate, three offers.
                try await Stats.refresh(db.app)
                let row: String = try await db.owner.scalar(
                    "SELECT granted || ' ' || disbursed || ' ' || offers || ' ' || rate_bp || ' ' || bank_name FROM stat_demand WHERE demand_id = '\(id)'"
                )
                #expect(row == "true true 3 435 Other bank")
                #expect(
                    try await db.owner.scalar(
                        "SELECT count(*)::int FROM stat_bank_demand WHERE demand_id = '\(id)' AND took_up AND decided"
                    ) == 3
                )
            }
        }
    }

    @Test func ofTwoAcceptancesAtOnceExactlyOneWins() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
                for key in [w.bank, w.otherBankKey] {
                    #expect(try await post(client, key, "/v1/demands/\(id)/take-up").status == .ok)
                    #expect(try await post(client, key, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody()).status == .ok)
                }
                let offers = try await seen(client, w, id).offers.map(\.id)
                let business = w.business
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for _ in 0..<3 {
                        for offer in offers {
                            group.addTask {
                                try await client.execute(
                                    uri: "/v1/me/demands/\(id)/offers/\(offer)/accept",
                                    method: .post,
                                    headers: bearer(business)
                                ).status
                            }
                        }
                    }
                    var all: [HTTPResponse.Status] = []
                    for try await s in group { all.append(s) }
                    return all
                }
                #expect(statuses.filter { $0 == .ok }.count == 1, "\(statuses)")
                #expect(statuses.filter { $0 == .conflict }.count == 5, "\(statuses)")
                let accepted: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand_offer WHERE state = 'accepted'")
                let lapsed: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand_offer WHERE state = 'lapsed'")
                #expect(accepted == 1 && lapsed == 1)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand_event WHERE to_state = 'granted'") == 1)
            }
        }
    }

    @Test func aDeclineRefersTheDemandToTheNextBankUnlessTheBusinessOptedOut() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            // One place per demand: a take-up ends the other bank's reading.
            try await w.app(db, ["XYD_MAX_BANKS_PER_DEMAND": "1"]).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .ok)
                #expect(try await post(client, w.otherBankKey, "/v1/demands/\(id)/take-up").status == .notFound)
                #expect(
                    try await post(client, w.bank, "/v1/demands/\(id)/decline", #"{"reason": "high_existing_debt"}"#).status == .ok
                )
                // Back in the pool, for the other bank only.
                let open = try await seen(client, w, id)
                #expect(open.demand.state == "open")
                #expect(open.offers.map(\.state) == ["declined"] && open.offers[0].decline_reason == "high_existing_debt")
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .notFound)
                #expect(try await post(client, w.otherBankKey, "/v1/demands/\(id)/take-up").status == .ok)
                try await w.lend(client, demand: id, bankKey: w.otherBankKey)
                // The business still sees the first bank's decline beside the accepted offer.
                #expect(try await seen(client, w, id).offers.map(\.state) == ["declined", "accepted"])

                // Opted out: the first decline ends it.
                let optedOut = try await post(
                    client,
                    w.business,
                    "/v1/me/demands",
                    #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false, "refer_after_decline": false}"#
                )
                let second = try decodeJSON(DemandWorkflowTests.Posted.self, optedOut).demand.id
                #expect(try await post(client, w.bank, "/v1/demands/\(second)/take-up").status == .ok)
                #expect(try await post(client, w.bank, "/v1/demands/\(second)/decline", #"{"reason": "other"}"#).status == .ok)
                #expect(try await seen(client, w, second).demand.state == "declined")
                #expect(try await post(client, w.otherBankKey, "/v1/demands/\(second)/take-up").status == .notFound)

                // Declined by both: the statistics count the first as declined then served, the
                // third as declined twice.
                let third = try await post(
                    client,
                    w.business,
                    "/v1/me/demands",
                    #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#
                )
                let thirdId = try decodeJSON(DemandWorkflowTests.Posted.self, third).demand.id
                for key in [w.bank, w.otherBankKey] {
                    #expect(try await post(client, key, "/v1/demands/\(thirdId)/take-up").status == .ok)
                    #expect(try await post(client, key, "/v1/demands/\(thirdId)/decline", #"{"reason": "other"}"#).status == .ok)
                }
                #expect(try await seen(client, w, thirdId).demand.state == "declined")
                try await Stats.refresh(db.app)
                let rows: [String] = try await db.owner.withConnection { c in
                    try await c.query(
                        "SELECT declines || ' ' || granted || ' ' || declined FROM stat_demand ORDER BY month, demand_id",
                        logger: db.owner.logger
                    ).collect().map { try $0.decode(String.self) }
                }
                #expect(rows.sorted() == ["1 false true", "1 true false", "2 false true"])
            }
        }
    }

    @Test func aFirstLoanIsVerifiedByTheLendersAttestationAndNoEarlierLoanHere() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                func demand() async throws -> UUID {
                    let r = try await post(
                        client,
                        w.business,
                        "/v1/me/demands",
                        #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": true}"#
                    )
                    return try decodeJSON(DemandWorkflowTests.Posted.self, r).demand.id
                }
                let attested = DemandWorkflowTests.offerBody(amountFen: 20_000_000).replacingOccurrences(
                    of: "\"first_loan_attested\": false",
                    with: "\"first_loan_attested\": true"
                )
                // Claimed, attested, nothing lent here before: verified.
                let first = try await demand()
                #expect(try await post(client, w.bank, "/v1/demands/\(first)/take-up").status == .ok)
                try await w.lend(client, demand: first, body: attested)
                #expect(try await seen(client, w, first).demand.first_loan_verified == true)
                // Claimed, not attested: not verified.
                let second = try await demand()
                #expect(try await post(client, w.bank, "/v1/demands/\(second)/take-up").status == .ok)
                try await w.lend(client, demand: second)
                #expect(try await seen(client, w, second).demand.first_loan_verified == false)
                // After a loan disbursed here, a new claim is not verified even when attested.
                #expect(
                    try await post(
                        client,
                        w.bank,
                        "/v1/demands/\(first)/disburse",
                        "{\"amount_fen\": 20000000, \"disbursed_on\": \"\(Day.todayInChina())\"}"
                    ).status == .ok
                )
                let third = try await demand()
                #expect(try await post(client, w.bank, "/v1/demands/\(third)/take-up").status == .ok)
                try await w.lend(client, demand: third, body: attested)
                #expect(try await seen(client, w, third).demand.first_loan_verified == false)
                try await Stats.refresh(db.app)
                let claimed: Int = try await db.owner.scalar("SELECT count(*)::int FROM stat_demand WHERE first_loan AND granted")
                let verified: Int = try await db.owner.scalar("SELECT count(*)::int FROM stat_demand WHERE first_loan_verified")
                #expect(claimed == 3 && verified == 1)
            }
        }
    }

    @Test func ratesBySegmentCarryTheirCountsAndHideSmallCells() async throws {
        try await TestDatabase.with { db in
            // Grade A: 12 businesses at 4.00%…5.10%, the first 10 disbursed, 6 of those credit loans;
            // B: 3 (hidden); C: 6; D: 7 (shown, but too few loans for a mean).
            var rows: [String] = []
            func add(_ grade: String, _ n: Int, disbursed: Int, credit: Int) {
                for i in 0..<n {
                    let kind = i < credit ? "credit" : "secured"
                    let state = i < disbursed ? "disbursed" : "granted"
                    rows.append(
                        "(gen_random_uuid(), '\(grade)-\(i)', '2026-10', '320602', 'C', 'small', 'company', false, false, '\(kind)', '\(state)', 100, true, true, false, \(i < disbursed), 100, \(i < disbursed ? 100 : 0), false, false, '\(grade)', \(400 + 10 * i))"
                    )
                }
            }
            add("A", 12, disbursed: 10, credit: 6)
            add("B", 3, disbursed: 0, credit: 0)
            add("C", 6, disbursed: 0, credit: 0)
            add("D", 7, disbursed: 0, credit: 0)
            try await db.owner.execute(
                """
                INSERT INTO stat_demand (demand_id, enterprise, month, district, industry, size, entity_type, farmer, first_loan, product_kind,
                                         state, amount_fen, taken_up, granted, declined, disbursed, granted_fen, disbursed_fen,
                                         take_up_overdue, decision_overdue, grade, rate_bp)
                VALUES \(rows.joined(separator: ", "))
                """
            )
            let t = try await db.app.withConnection { c in
                try await Stats.rates(c, logger: db.app.logger, by: .grade, filter: StatFilter())
            }
            func row(_ key: String) -> [StatTable.Value] { t.rows.first { $0.key == key }?.values ?? [] }
            #expect(
                row("A") == [
                    .int(10), .decimal("0.0455"), .decimal("0.0455"), .int(10), .decimal("0.0445"), .decimal("0.0445"), .int(5),
                    .decimal("0.5000"),
                ]
            )
            #expect(t.rows.first { $0.key == "B" }?.suppressed == true)
            #expect(row("D") == [.int(5), .null, .null, .int(0), .null, .null, .int(0), .null])
            #expect(t.columns.map(\.name).contains("credit_share"))
        }
    }

    @Test func theSimulatedHistorysOtherBanksPartsAreStoredAsTheLiveMarketWouldStoreThem() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
            }
            let (_, banks) = try await db.app.withConnection { c in try await MarketHistoryStore.gradesAndBanks(c, logger: db.app.logger) }
            #expect(banks.count == 2)
            let posted = Date().addingTimeInterval(-20 * 86_400)
            func h(_ hours: Double) -> Date { posted.addingTimeInterval(hours * 3600) }
            func demand(state: String, granted: Bool?, others: [HistoricalDemand.OtherPart]) -> HistoricalDemand {
                var d = HistoricalDemand(
                    uscc: CreditWorld.uscc,
                    postedAt: posted,
                    amountFen: 20_000_000,
                    termMonths: 12,
                    firstLoan: false,
                    collateral: false,
                    purpose: "采购原材料",
                    matched: [0, 1],
                    passed: [],
                    bank: 0,
                    takenUpAt: h(30),
                    granted: granted,
                    decidedAt: h(40),
                    declineReason: granted == false ? "other" : nil,
                    rateBp: granted == true ? 450 : nil,
                    disbursedOn: nil,
                    state: state,
                    closedAt: nil,
                    outcomes: []
                )
                d.others = others
                return d
            }
            // Declined by bank 1, then granted by bank 0 (a referral); granted by bank 0 over bank 1's
            // dearer offer; declined by both.
            let part = [
                demand(
                    state: "granted",
                    granted: true,
                    others: [.init(bank: 1, takenUpAt: h(2), decidedAt: h(10), declineReason: "other", rateBp: nil)]
                ),
                demand(
                    state: "granted",
                    granted: true,
                    others: [.init(bank: 1, takenUpAt: h(32), decidedAt: h(38), declineReason: nil, rateBp: 520)]
                ),
                demand(
                    state: "declined",
                    granted: false,
                    others: [.init(bank: 1, takenUpAt: h(2), decidedAt: h(10), declineReason: "other", rateBp: nil)]
                ),
            ]
            do {
                try await db.app.withTransaction { c in try await MarketHistoryStore.write(c, logger: db.app.logger, part, banks: banks) }
                try await Stats.refresh(db.app)
            } catch {
                Issue.record("\(String(reflecting: error))")
                return
            }
            let rows: [String] = try await db.owner.withConnection { c in
                try await c.query(
                    "SELECT declines || ' ' || offers || ' ' || granted || ' ' || declined FROM stat_demand WHERE state <> 'open' ORDER BY 1",
                    logger: db.owner.logger
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(rows == ["0 2 true false", "1 1 true false", "2 0 false true"])
            let parts: [String] = try await db.owner.withConnection { c in
                try await c.query(
                    "SELECT state || ':' || coalesce(lapse_reason, decline_reason, '-') FROM demand_offer ORDER BY 1",
                    logger: db.owner.logger
                ).collect().map { try $0.decode(String.self) }
            }
            #expect(parts == ["accepted:-", "accepted:-", "declined:other", "declined:other", "declined:other", "lapsed:other_accepted"])
            // The referral shows in the demand's steps: taken up and given back before the lender took it.
            let steps: Int = try await db.owner.scalar(
                "SELECT count(*)::int FROM demand_event WHERE actor_kind = 'bank' AND from_state = 'taken_up' AND to_state = 'open'"
            )
            #expect(steps == 2)
        }
    }

    @Test func aRefusedOfferSaysWhichFieldAsTheClientWroteItAndWhatIsWrongWithTheBanksPart() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/take-up").status == .ok)
                // Fields are named as the JSON writes them, and a bad id says it is not an id.
                let wrongType = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody().replacingOccurrences(
                        of: "\"first_loan_attested\": false",
                        with: "\"first_loan_attested\": \"no\""
                    )
                )
                #expect(try decodeProblem(wrongType).errors?.map(\.field) == ["first_loan_attested"])
                let badId = try await post(
                    client,
                    w.bank,
                    "/v1/demands/\(id)/offer",
                    DemandWorkflowTests.offerBody().replacingOccurrences(
                        of: "\"first_loan_attested\"",
                        with: "\"product_id\": \"nope\", \"first_loan_attested\""
                    )
                )
                #expect(try decodeProblem(badId).errors?.map(\.field) == ["product_id"])
                #expect(try decodeProblem(badId).errors?.first?.reason == "expected an id (a UUID)")
                // A matched bank that has not taken the demand up, and a bank offering twice, are told
                // about their own part (the demand's state allows offers).
                let notTaken = try await post(client, w.otherBankKey, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody())
                #expect(notTaken.status == .conflict)
                #expect(try decodeProblem(notTaken).detail == "this bank has not taken the demand up: it cannot have offered on it")
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody()).status == .ok)
                let twice = try await post(client, w.bank, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody())
                #expect(
                    try decodeProblem(twice).detail == "this bank has already made its offer on the demand: it cannot have offered on it"
                )
                let declineAfter = try await post(client, w.bank, "/v1/demands/\(id)/decline", #"{"reason": "other"}"#)
                #expect(
                    try decodeProblem(declineAfter).detail
                        == "this bank has already made its offer on the demand: it cannot have declined it"
                )
                // The portal's form refuses an attestation that is neither yes nor no.
                #expect(try await post(client, w.otherBankKey, "/v1/demands/\(id)/take-up").status == .ok)
                let (cookie, csrf) = try await PortalTests.session(client, key: w.otherBankKey, page: "/portal/bank")
                let maybe = try await PortalTests.post(
                    client,
                    "/portal/bank/demands/\(id)/offer",
                    cookie: cookie,
                    "amount_yuan=100000&term_months=12&rate_percent=4.50&repayment=equal_instalments"
                        + "&valid_until=\(Day.todayInChina().addingDays(7))&first_loan_attested=maybe&csrf=\(csrf)"
                )
                #expect(maybe.headers[.location]?.hasPrefix("/portal/bank?error=") == true)
                let part: String = try await db.owner.scalar(
                    "SELECT state FROM demand_offer WHERE demand_id = '\(id)' AND bank_org_id = '\(w.otherBankId)'"
                )
                #expect(part == "taken_up")
            }
        }
    }

    @Test func revokingAHoldingBanksReadingEndsItsPartAndNoOneElsesRevocationDoes() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank, w.otherBankKey])
                for key in [w.bank, w.otherBankKey] {
                    #expect(try await post(client, key, "/v1/demands/\(id)/take-up").status == .ok)
                }
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/offer", DemandWorkflowTests.offerBody()).status == .ok)
                let auth: UUID = try await db.owner.scalar(
                    "SELECT id FROM authorisation WHERE demand_id = '\(id)' AND bank_org_id = '\(w.bankId)' AND revoked_at IS NULL"
                )
                // Another business cannot revoke it, and nothing of the demand moves.
                #expect(
                    try await client.execute(uri: "/v1/me/authorisations/\(auth)", method: .delete, headers: bearer(w.otherBusinessKey))
                        .status
                        == .notFound
                )
                #expect(try await seen(client, w, id).offers.map(\.state) == ["offered", "taken_up"])
                // The business revokes the bank's reading: its offer lapses (it is told); the other bank goes on.
                #expect(
                    try await client.execute(uri: "/v1/me/authorisations/\(auth)", method: .delete, headers: bearer(w.business)).status
                        == .ok
                )
                let after = try await seen(client, w, id)
                #expect(after.demand.state == "taken_up")
                #expect(after.offers.map(\.state) == ["lapsed", "taken_up"] && after.offers[0].lapse_reason == "business_revoked")
                let told: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM webhook_event WHERE type = 'demand.offer_lapsed' AND payload->>'reason' = 'business_revoked'"
                )
                #expect(told == 1)
                let disburse = "{\"amount_fen\": 1, \"disbursed_on\": \"\(Day.todayInChina())\"}"
                #expect(try await post(client, w.bank, "/v1/demands/\(id)/disburse", disburse).status == .notFound)
            }
        }
    }
}
