import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// Banks' products over the real routes: validation per field, ownership, the state machine.
@Suite struct ProductTests {
    static let body = """
        {"name": "税易贷 (tax-based credit)", "kind": "credit", "amount_min_fen": 10000000, "amount_max_fen": 300000000,
         "term_min_months": 6, "term_max_months": 36, "rate_min_bp": 365, "rate_max_bp": 600,
         "rules": [{"rule": "min_grade", "value": "B"}, {"rule": "min_tax_credit_grade", "value": "B"},
                   {"rule": "no_current_blacklisting"}, {"rule": "industries_allowed", "value": ["C17", "A"]}]}
        """

    struct Shown: Decodable {
        let id: UUID
        let status: String
        let revision: Int
        let rules: [[String: RawValue]]
        enum RawValue: Decodable {
            case text(String)
            case list([String])
            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                if let s = try? c.decode(String.self) { self = .text(s) } else { self = .list(try c.decode([String].self)) }
            }
        }
    }

    @Test func productsAreCheckedOwnedAndMovedThroughTheirStates() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let other = try await db.app.withTransaction { c in
                let bank = try await Register.createOrganisation(on: c, logger: db.app.logger, kind: .bank, name: "Other bank", uscc: nil)
                return try await Register.issueKey(on: c, logger: db.app.logger, orgId: bank.id, label: "t", expiresAt: nil, issuedBy: nil)
                    .secret
            }
            let bank = keys.byKind[.bank]!
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let created = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(bank).merging(.json),
                    body: jsonBody(Self.body)
                )
                #expect(created.status == .created, "\(String(buffer: created.body))")
                let p = try decodeJSON(Shown.self, created)
                #expect(p.status == "draft" && p.revision == 1 && p.rules.count == 4)

                // Bad terms and rules: one entry per field.
                let bad = Self.body.replacingOccurrences(
                    of: "\"value\": \"B\"}, {\"rule\": \"min_tax",
                    with: "\"value\": \"Z\"}, {\"rule\": \"min_tax"
                )
                .replacingOccurrences(of: "\"rate_max_bp\": 600", with: "\"rate_max_bp\": 9000")
                let refused = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(bank).merging(.json),
                    body: jsonBody(bad)
                )
                #expect(refused.status == .unprocessableContent)
                let fields = try decodeProblem(refused).errors?.map(\.field) ?? []
                #expect(Set(fields) == ["rules[0].value", "rate_max_bp"], "\(fields)")
                let unknownKind = try await client.execute(
                    uri: "/v1/products",
                    method: .post,
                    headers: bearer(bank).merging(.json),
                    body: jsonBody(Self.body.replacingOccurrences(of: "\"kind\": \"credit\"", with: "\"kind\": \"loan\""))
                )
                #expect(unknownKind.status == .unprocessableContent)

                // Another bank neither sees nor moves it.
                #expect(try await client.execute(uri: "/v1/products/\(p.id)", method: .get, headers: bearer(other)).status == .notFound)
                #expect(
                    try await client.execute(uri: "/v1/products/\(p.id)/publish", method: .post, headers: bearer(other)).status == .notFound
                )
                struct Page: Decodable { let items: [Shown] }
                #expect(
                    try decodeJSON(Page.self, try await client.execute(uri: "/v1/products", method: .get, headers: bearer(other))).items
                        .isEmpty
                )
                #expect(
                    try decodeJSON(Page.self, try await client.execute(uri: "/v1/products", method: .get, headers: bearer(bank))).items
                        .count == 1
                )

                // The states: draft → published → paused → published → retired; everything else 409 naming the state.
                func move(_ verb: String) async throws -> (HTTPResponse.Status, String) {
                    let r = try await client.execute(uri: "/v1/products/\(p.id)/\(verb)", method: .post, headers: bearer(bank))
                    return (r.status, r.status == .ok ? try decodeJSON(Shown.self, r).status : (try decodeProblem(r).detail ?? ""))
                }
                #expect(try await move("pause") == (.conflict, "the product is draft: it cannot be paused"))
                #expect(try await move("publish") == (.ok, "published"))
                #expect(try await move("publish").0 == .conflict)
                #expect(try await move("pause") == (.ok, "paused"))
                #expect(try await move("pause").0 == .conflict)
                // Terms change while paused: a new revision.
                let changed = try await client.execute(
                    uri: "/v1/products/\(p.id)",
                    method: .put,
                    headers: bearer(bank).merging(.json),
                    body: jsonBody(Self.body.replacingOccurrences(of: "\"rate_min_bp\": 365", with: "\"rate_min_bp\": 380"))
                )
                #expect(changed.status == .ok)
                #expect(try decodeJSON(Shown.self, changed).revision == 2)
                #expect(try await move("publish") == (.ok, "published"))
                #expect(try await move("retire") == (.ok, "retired"))
                for verb in ["publish", "pause", "retire"] { #expect(try await move(verb).0 == .conflict) }
                let late = try await client.execute(
                    uri: "/v1/products/\(p.id)",
                    method: .put,
                    headers: bearer(bank).merging(.json),
                    body: jsonBody(Self.body)
                )
                #expect(late.status == .conflict)

                // Every change recorded with who and when, and audited.
                let events: [String] = try await db.owner.withConnection { c in
                    try await c.query("SELECT event FROM product_event WHERE product_id = \(p.id) ORDER BY id", logger: db.owner.logger)
                        .collect().map { try $0.decode(String.self) }
                }
                #expect(events == ["created", "published", "paused", "updated", "published", "retired"])
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action LIKE 'product.%' AND subject_id = '\(p.id.uuidString.lowercased())'"
                )
                #expect(audited == 6)
            }
        }
    }
}
