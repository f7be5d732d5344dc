import CreditCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// Indicative amounts on matching products, and the public catalogue of products in words.
@Suite struct CatalogueTests {
    struct Created: Decodable { let id: UUID }
    struct Answer: Decodable {
        struct M: Decodable {
            let product_id: UUID
            let indicative_fen: Int64?
        }
        let matches: [M]
    }

    static let product = """
        {"name": "人均贷", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1,
         "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": [{"rule": "min_grade", "value": "D"}],
         "quota": {"basis": "per_insured_employee", "fen_per_employee": 5000000, "cap_by_grade": {"A": 200000000}}}
        """

    @Test func aMatchingProductShowsItsIndicativeAmountForThisBusiness() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                func post(_ key: String, _ uri: String, _ body: String? = nil) async throws -> TestResponse {
                    try await client.execute(uri: uri, method: .post, headers: bearer(key).merging(.json), body: body.map(jsonBody))
                }
                // A quota the vocabulary does not have is refused, naming the part.
                let bad = try await post(
                    w.bank,
                    "/v1/products",
                    Self.product.replacingOccurrences(of: "per_insured_employee", with: "revenue")
                )
                #expect(bad.status == .unprocessableContent)
                #expect(try decodeProblem(bad).errors?.map(\.field) == ["quota.basis"])
                let id = try decodeJSON(Created.self, try await post(w.bank, "/v1/products", Self.product)).id
                #expect(try await post(w.bank, "/v1/products/\(id)/publish").status == .ok)
                let answer = try decodeJSON(
                    Answer.self,
                    try await post(
                        w.business,
                        "/v1/me/demands",
                        #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#
                    )
                )
                // What the business's own facts give: its insured headcount × ¥50,000, capped, to ¥1,000.
                let facts = try await db.app.withConnection { c in
                    try await Demands.facts(c, logger: db.app.logger, uscc: CreditWorld.uscc, today: Day.todayInChina())
                }
                let headcount = try #require(facts.insuredHeadcount)
                var expected = min(Int64(headcount) * 5_000_000, 300_000_000)
                if facts.grade == "A" { expected = min(expected, 200_000_000) }
                expected = expected / 100_000 * 100_000
                #expect(answer.matches.first { $0.product_id == id }?.indicative_fen == expected)
            }
        }
    }

    @Test func anyoneBrowsesThePublishedProductsWithTheirRulesInWords() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let draft = try decodeJSON(
                    Created.self,
                    try await client.execute(
                        uri: "/v1/products",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(Self.product.replacingOccurrences(of: "人均贷", with: "草稿产品"))
                    )
                ).id
                _ = draft
                let id = try decodeJSON(
                    Created.self,
                    try await client.execute(
                        uri: "/v1/products",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(Self.product)
                    )
                ).id
                #expect(try await client.execute(uri: "/v1/products/\(id)/publish", method: .post, headers: bearer(w.bank)).status == .ok)
                // No key needed; drafts are not listed.
                struct Catalogue: Decodable {
                    struct I: Decodable {
                        struct T: Decodable {
                            let zh: String
                            let en: String
                        }
                        let id: UUID
                        let name: String
                        let rules: [T]
                        let quota: T?
                    }
                    let items: [I]
                }
                let r = try await client.execute(uri: "/v1/public/products", method: .get)
                #expect(r.status == .ok)
                let c = try decodeJSON(Catalogue.self, r)
                #expect(c.items.map(\.name) == ["人均贷"])
                #expect(c.items[0].rules.map(\.zh) == ["信用等级不低于 D"])
                #expect(c.items[0].quota?.zh == "每名参保职工 ¥50,000.00；A 级最高 ¥2,000,000.00")
                #expect(c.items[0].quota?.en == "¥50,000.00 per insured employee; grade A at most ¥2,000,000.00")
                // The page, without signing in, in Chinese and in English.
                for (lang, words) in [
                    ("zh", ["融资产品目录", "人均贷", "参考额度", "仅供参考", "信用等级不低于 D"]),
                    ("en", ["Product catalogue", "Indicative amount", "credit grade D or better"]),
                ] {
                    let page = try await client.execute(
                        uri: "/portal/catalogue",
                        method: .get,
                        headers: [.cookie: "xyd_lang=\(lang)", .accept: "text/html"]
                    )
                    #expect(page.status == .ok)
                    let html = String(buffer: page.body)
                    for word in words { #expect(html.contains(word), "\(lang): \(word)") }
                    #expect(!html.contains("草稿产品"))
                }
            }
        }
    }
    /// The active card is public, with its penalty policy in words and the publicity rules it reads.
    @Test func theActiveScorecardIsPublishedWithItsPenaltyPolicyInWords() async throws {
        try await TestDatabase.with { db in
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let none = try await client.execute(uri: "/v1/public/scorecard", method: .get)
                #expect(none.status == .notFound && none.headers[.contentType] == "application/problem+json")
                let file = try Data(contentsOf: repositoryRoot.appendingPathComponent("contracts/scorecards/xyd-2026.3.json"))
                _ = try await Scorecards.publish(db.app, card: try Scorecard.decode(file), file: file, activate: true)
                let r = try await client.execute(uri: "/v1/public/scorecard", method: .get)
                #expect(r.status == .ok)
                let v = try JSONParser.parse(Array(String(buffer: r.body).utf8))
                #expect(v["version"]?.stringValue == "xyd-2026.3" && v["card"]?["version"]?.stringValue == "xyd-2026.3")
                #expect(v["penalty_policy"]?["zh"]?.stringValue?.hasPrefix("经信用修复的行政处罚自修复之日起不再计入评分") == true)
                #expect(v["penalty_policy"]?["en"]?.stringValue?.contains("publication period is over still counts") == true)
                guard case .array(let rules)? = v["publicity_rules"] else {
                    Issue.record("no rules")
                    return
                }
                #expect(rules.map { $0["id"]?.stringValue } == ["trial-2023", "measures-2026"])
                #expect(rules.last?["effective_from"]?.stringValue == "2026-04-01")
                let sha = SHA256.hash(data: file).map { String(format: "%02x", $0) }.joined()
                #expect(v["sha256"]?.stringValue == sha)
            }
        }
    }
}
