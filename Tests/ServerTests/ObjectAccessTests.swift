import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Server
import Store
import TestSupport
import Testing

/// Broken object-level authorisation, tried everywhere (issue 15): for every route with an id
/// in its path, an organisation of the same kind as the owner tries it with the owner's id —
/// over the API with its key, and on the portal with its session. Nothing succeeds, and the
/// owner's things are unchanged afterwards. A route whose id has no fixture here fails the test,
/// so a new route cannot slip past it.
@Suite struct ObjectAccessTests {
    struct Created: Decodable { let id: UUID }

    @Test func noOrganisationReachesAnotherOfItsKindsThingsByTheirIds() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let procurementB = try await db.app.withTransaction { c in
                let org = try await Register.createOrganisation(
                    on: c,
                    logger: db.app.logger,
                    kind: .procurement,
                    name: "Another tenderer",
                    uscc: nil
                )
                return try await Register.issueKey(on: c, logger: db.app.logger, orgId: org.id, label: "t", expiresAt: nil, issuedBy: nil)
                    .secret
            }
            try await w.app(db, ["XYD_WEBHOOK_ALLOW_LOOPBACK": "true", "XYD_WEBHOOK_LOOPBACK_PORTS": "9099"]).test(.router) { client in
                func post(_ key: String, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
                    try await client.execute(uri: uri, method: .post, headers: bearer(key).merging(.json), body: body.map(jsonBody))
                }
                // The owners' things: bank A's product, webhook, key and the demand it holds and
                // reports on; business A's demand, authorisation and report; procurement A's query.
                let product =
                    #"{"name": "A's own", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1, "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}"#
                let productId = try decodeJSON(Created.self, try await post(w.bank, "/v1/products", product)).id
                #expect(try await post(w.bank, "/v1/products/\(productId)/publish").status == .ok)
                struct Posted: Decodable { let demand: Created }
                let demandId = try decodeJSON(
                    Posted.self,
                    try await post(
                        w.business,
                        "/v1/me/demands",
                        #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#
                    )
                ).demand.id
                #expect(try await post(w.bank, "/v1/demands/\(demandId)/take-up").status == .ok)
                let offerId = try decodeJSON(
                    MadeOffer.self,
                    try await post(w.bank, "/v1/demands/\(demandId)/offer", DemandWorkflowTests.offerBody(amountFen: 1_000_000))
                ).offer.id
                struct Hook: Decodable { let endpoint: Created }
                let endpointId = try decodeJSON(
                    Hook.self,
                    try await post(w.bank, "/v1/webhooks", #"{"url": "http://127.0.0.1:9099/hook"}"#)
                ).endpoint.id
                let authorisationId = try await w.grant(client, bank: w.bankId, scopes: ["profile", "report", "records"])
                struct Report: Decodable {
                    struct R: Decodable { let number: String }
                    let report: R
                }
                let bankReport = try decodeJSON(
                    Report.self,
                    try await post(
                        w.bank,
                        "/v1/enterprises/\(CreditWorld.uscc)/reports",
                        #"{"purpose": "loan_application"}"#
                    )
                ).report.number
                let ownReport = try decodeJSON(Report.self, try await post(w.business, "/v1/me/reports", "{}")).report.number
                struct Query: Decodable { let report: Created }
                let queryId = try decodeJSON(
                    Query.self,
                    try await post(
                        w.keys.byKind[.procurement]!,
                        "/v1/silent-queries",
                        "{\"usccs\": [\"\(CreditWorld.uscc)\"]}"
                    )
                ).report.id
                struct Said: Decodable { let id: UUID }
                let statementId = try decodeJSON(
                    Said.self,
                    try await post(
                        w.business,
                        "/v1/me/statements",
                        #"{"dataset": "social_insurance", "record_id": "\#(ObjectionTests.record(1))", "text": "已补缴"}"#
                    )
                ).id
                struct Made: Decodable {
                    struct U: Decodable { let id: UUID }
                    let user: U
                }
                let userId = try decodeJSON(
                    Made.self,
                    try await post(w.bank, "/v1/users", #"{"login": "owner.officer", "name": "王敏", "role": "officer"}"#)
                ).user.id
                let bankKeyId: UUID = try await db.owner.scalar(
                    "SELECT id FROM api_keys WHERE org_id = '\(w.bankId)' AND revoked_at IS NULL AND label = 'test'"
                )

                // Each id the routes take, as its owner's; the intruder of each kind.
                let ids: [String: [String]] = [
                    "demandId": [demandId.uuidString], "productId": [productId.uuidString], "endpointId": [endpointId.uuidString],
                    "keyId": [bankKeyId.uuidString], "authorisationId": [authorisationId.uuidString], "number": [bankReport, ownReport],
                    "queryId": [queryId.uuidString], "uscc": [CreditWorld.uscc], "offerId": [offerId.uuidString],
                    "statementId": [statementId.uuidString], "userId": [userId.uuidString],
                ]
                let intruders: [OrgKind: String] = [.bank: w.otherBankKey, .enterprise: w.otherBusinessKey, .procurement: procurementB]
                let bodies: [String: String] = [
                    "offer": DemandWorkflowTests.offerBody(amountFen: 1_000_000), "decline": #"{"reason": "other"}"#,
                    "disburse": "{\"amount_fen\": 1, \"disbursed_on\": \"\(Day.todayInChina())\"}",
                    "outcomes": "{\"month\": \"\(MonthIndex(Day.todayInChina()))\", \"status\": \"defaulted\"}",
                    "replay": #"{"from_sequence": 1}"#, "reports": #"{"purpose": "loan_application"}"#, "pass": "{}",
                    ":productId": product,
                ]
                func concrete(_ path: String, _ value: (String) -> String) -> String {
                    path.split(separator: "/").map { $0.hasPrefix(":") ? value(String($0.dropFirst())) : String($0) }.reduce("") {
                        $0 + "/" + $1
                    }
                }
                var tried = 0
                // The API, with the intruder's key.
                for rule in AccessPolicy.rules where rule.path.contains(":") {
                    guard case .roles(let kinds) = rule.access else { continue }
                    let params = rule.path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
                    for kind in kinds.sorted(by: { $0.rawValue < $1.rawValue }) {
                        guard let intruder = intruders[kind] else { continue }  // operators and regulators see across by design
                        for p in params { #expect(ids[p] != nil, "no owner's id for :\(p) of \(rule.key)") }
                        for value in ids[params[0]] ?? [] {
                            let uri =
                                concrete(rule.path) { ids[$0]?.first == nil ? "x" : ($0 == params[0] ? value : ids[$0]![0]) }
                                + (rule.path.contains(":uscc") && rule.method == .get ? "?purpose=loan_application" : "")
                            let last = rule.path.split(separator: "/").last.map(String.init) ?? ""
                            let body = rule.method == .post || rule.method == .put ? (bodies[last] ?? "{}") : nil
                            let r = try await client.execute(
                                uri: uri,
                                method: rule.method,
                                headers: bearer(intruder).merging(.json),
                                body: body.map(jsonBody)
                            )
                            tried += 1
                            #expect(
                                !(200..<300).contains(Int(r.status.code)) && r.status.code < 500,
                                "\(kind) reached another's \(rule.key) as \(uri): \(r.status) \(String(buffer: r.body).prefix(200))"
                            )
                        }
                    }
                }
                // The portal, with the intruder's session.
                for (kind, page) in [(OrgKind.bank, "/portal/bank"), (.enterprise, "/portal")] {
                    let (cookie, csrf) = try await PortalTests.session(client, key: intruders[kind]!, page: page)
                    for rule in AccessPolicy.rules where rule.path.contains(":") {
                        guard case .session(let kinds) = rule.access, kinds.contains(kind) else { continue }
                        let params = rule.path.split(separator: "/").filter { $0.hasPrefix(":") }.map { String($0.dropFirst()) }
                        for p in params { #expect(ids[p] != nil, "no owner's id for :\(p) of \(rule.key)") }
                        for value in ids[params[0]] ?? [] {
                            let uri = concrete(rule.path) { _ in value }
                            var headers: HTTPFields = [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"]
                            headers[.accept] = "text/html"
                            let form =
                                "csrf=\(csrf)&amount_yuan=1&term_months=12&rate_percent=4.5&reason=other&month=\(MonthIndex(Day.todayInChina()))&status=defaulted&disbursed_on=\(Day.todayInChina())"
                            let r = try await client.execute(
                                uri: uri,
                                method: rule.method,
                                headers: headers,
                                body: rule.method == .post ? ByteBuffer(string: form) : nil
                            )
                            tried += 1
                            if rule.method == .get {
                                #expect(r.status == .notFound, "\(kind) opened another's \(rule.key) as \(uri): \(r.status)")
                            } else {
                                #expect(r.status.code < 500, "\(rule.key): \(r.status)")
                            }
                        }
                    }
                }
                #expect(tried > 40, "\(tried) attempts")

                // The owners' things are as they were.
                #expect(
                    try await db.owner.scalar(
                        "SELECT d.state || ':' || o.bank_org_id || ':' || o.state FROM demand d JOIN demand_offer o ON o.demand_id = d.id WHERE d.id = '\(demandId)'"
                    ) == "taken_up:\(w.bankId.uuidString.lowercased()):offered"
                )
                #expect(try await db.owner.scalar("SELECT status FROM product WHERE id = '\(productId)'") == "published")
                #expect(
                    try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_endpoint WHERE id = '\(endpointId)' AND disabled_at IS NULL"
                    ) == 1
                )
                #expect(try await db.owner.scalar("SELECT revoked_at IS NULL FROM api_keys WHERE id = '\(bankKeyId)'") == true)
                #expect(try await db.owner.scalar("SELECT revoked_at IS NULL FROM authorisation WHERE id = '\(authorisationId)'") == true)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM loan_outcome") == 0)
            }
        }
    }
}
