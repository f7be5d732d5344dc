import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// A business posts a demand; it is matched against the published products with explanations
/// and near misses, and the banks whose products match may read its profile while it lives.
@Suite struct DemandTests {
    func product(_ name: String, rules: String, amount: (Int64, Int64) = (10_000_000, 300_000_000)) -> String {
        """
        {"name": "\(name)", "kind": "credit", "amount_min_fen": \(amount.0), "amount_max_fen": \(amount.1), "term_min_months": 6,
         "term_max_months": 36, "rate_min_bp": 365, "rate_max_bp": 600, "rules": [\(rules)]}
        """
    }

    struct Answer: Decodable {
        struct Demand: Decodable {
            let id: UUID
            let state: String
        }
        struct Offer: Decodable {
            let product_name: String
            let bank_name: String
            let checks: [CheckBody]
        }
        struct CheckBody: Decodable {
            let rule: String
            let passed: Bool
            let en: String
            let zh: String
        }
        struct Near: Decodable {
            let offer: Offer
            let failed: CheckBody
        }
        struct Transition: Decodable {
            let from_state: String?
            let to_state: String
            let actor_kind: String
        }
        let demand: Demand
        let matches: [Offer]
        let near_misses: [Near]
        let not_matched: Int
        let transitions: [Transition]
    }

    @Test func aPostedDemandIsMatchedExplainedAndAuthorisesTheMatchingBanks() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                // The business's grade is B (the test card, 24 months of social insurance, no arrears).
                for (name, rules) in [
                    ("Grade C and up", #"{"rule": "min_grade", "value": "C"}"#),
                    ("Grade A only", #"{"rule": "min_grade", "value": "A"}"#),
                    ("Textiles, grade A", #"{"rule": "min_grade", "value": "A"}, {"rule": "industries_allowed", "value": ["C17"]}"#),
                ] {
                    let r = try await client.execute(
                        uri: "/v1/products",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(product(name, rules: rules))
                    )
                    struct Created: Decodable { let id: UUID }
                    let id = try decodeJSON(Created.self, r).id
                    #expect(
                        try await client.execute(uri: "/v1/products/\(id)/publish", method: .post, headers: bearer(w.bank)).status == .ok
                    )
                }
                // A draft is not offered.
                _ = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(w.otherBankKey).merging(.json),
                    body: jsonBody(product("Draft", rules: ""))
                )

                let before = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                #expect(before.status == .forbidden)

                let demand =
                    #"{"amount_fen": 50000000, "term_months": 12, "purpose": "采购棉纱 (buying cotton yarn)", "collateral_offered": false, "first_loan": true}"#
                let posted = try await client.execute(
                    uri: "/v1/me/demands",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(demand)
                )
                #expect(posted.status == .created, "\(String(buffer: posted.body))")
                let answer = try decodeJSON(Answer.self, posted)
                #expect(answer.demand.state == "open")
                #expect(answer.matches.map(\.product_name) == ["Grade C and up"])
                #expect(answer.matches[0].checks.allSatisfy { $0.passed })
                #expect(answer.near_misses.map(\.offer.product_name) == ["Grade A only"])
                #expect(answer.near_misses[0].failed.rule == "min_grade")
                #expect(answer.near_misses[0].failed.en == "minimum grade A; yours is B")
                #expect(answer.near_misses[0].failed.zh == "最低信用等级 A；您的等级 B")
                #expect(answer.not_matched == 1)
                #expect(answer.transitions.map(\.to_state) == ["open"])

                // The matching bank may now read the profile for the loan application; another bank may not.
                let read = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                #expect(read.status == .ok)
                let other = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.otherBankKey)
                )
                #expect(other.status == .forbidden)
                // The business sees that authorisation among its own.
                struct Auths: Decodable { let items: [Authorisation] }
                let auths = try decodeJSON(
                    Auths.self,
                    try await client.execute(uri: "/v1/me/authorisations", method: .get, headers: bearer(w.business))
                )
                #expect(auths.items.contains { $0.source == "demand" && $0.bankOrgId == w.bankId && $0.status == "live" })

                // Re-matched when products change (in the background, within a second): the other
                // bank publishes a product that fits and may now read; when the first bank pauses its
                // product, it may not.
                // A closure, not a local function: Swift 6.3 wrongly warns of a local function here that
                // its `try` and `await` cover nothing.
                let reads: (String) async throws -> HTTPResponse.Status = { key in
                    try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                        method: .get,
                        headers: bearer(key)
                    ).status
                }
                let otherProduct = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(w.otherBankKey).merging(.json),
                    body: jsonBody(product("Open to B and C", rules: #"{"rule": "min_grade", "value": "C"}"#))
                )
                struct Created: Decodable { let id: UUID }
                let otherId = try decodeJSON(Created.self, otherProduct).id
                #expect(
                    try await client.execute(uri: "/v1/products/\(otherId)/publish", method: .post, headers: bearer(w.otherBankKey)).status
                        == .ok
                )
                try await eventually("the other bank authorised by matching again") { try await reads(w.otherBankKey) == .ok }
                struct Page0: Decodable { let items: [Created] }
                let mine = try decodeJSON(
                    Page0.self,
                    try await client.execute(uri: "/v1/products?status=published", method: .get, headers: bearer(w.bank))
                )
                for p in mine.items {
                    _ = try await client.execute(uri: "/v1/products/\(p.id)/pause", method: .post, headers: bearer(w.bank))
                }
                try await eventually("the first bank's authorisation ended by matching again") { try await reads(w.bank) == .forbidden }
                for p in mine.items {
                    _ = try await client.execute(uri: "/v1/products/\(p.id)/publish", method: .post, headers: bearer(w.bank))
                }
                try await eventually("the first bank authorised again") { try await reads(w.bank) == .ok }

                // Only its own demands.
                struct Page: Decodable { let items: [Answer.Demand] }
                #expect(
                    try decodeJSON(Page.self, try await client.execute(uri: "/v1/me/demands", method: .get, headers: bearer(w.business)))
                        .items.count == 1
                )
                #expect(
                    try decodeJSON(
                        Page.self,
                        try await client.execute(uri: "/v1/me/demands", method: .get, headers: bearer(w.otherBusinessKey))
                    ).items.isEmpty
                )
                #expect(
                    try await client.execute(uri: "/v1/me/demands/\(answer.demand.id)", method: .get, headers: bearer(w.otherBusinessKey))
                        .status == .notFound
                )
                let again = try decodeJSON(
                    Answer.self,
                    try await client.execute(uri: "/v1/me/demands/\(answer.demand.id)", method: .get, headers: bearer(w.business))
                )
                #expect(again.matches.map(\.product_name) == ["Grade C and up", "Open to B and C"])

                // Withdrawn: the authorisation it granted ends; a second withdrawal is refused with the state.
                let withdrawn = try await client.execute(
                    uri: "/v1/me/demands/\(answer.demand.id)/withdraw",
                    method: .post,
                    headers: bearer(w.business)
                )
                #expect(withdrawn.status == .ok)
                #expect(try decodeJSON(Answer.self, withdrawn).transitions.map(\.to_state) == ["open", "withdrawn"])
                let after = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                #expect(after.status == .forbidden)
                let twice = try await client.execute(
                    uri: "/v1/me/demands/\(answer.demand.id)/withdraw",
                    method: .post,
                    headers: bearer(w.business)
                )
                #expect(twice.status == .conflict)
                #expect(try decodeProblem(twice).detail == "the demand is withdrawn: it cannot be withdrawn")

                // Bad terms: one entry per field.
                let bad = try await client.execute(
                    uri: "/v1/me/demands",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(
                        #"{"amount_fen": 0, "term_months": 999, "purpose": " ", "collateral_offered": false, "first_loan": false}"#
                    )
                )
                #expect(bad.status == .unprocessableContent)
                #expect(Set(try decodeProblem(bad).errors?.map(\.field) ?? []) == ["amount_fen", "term_months", "purpose"])
            }
        }
    }
}
