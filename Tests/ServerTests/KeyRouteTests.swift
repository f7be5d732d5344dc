import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import TestSupport
import Testing

@testable import Server
@testable import Store

@Suite struct KeyRouteTests {
    struct Issued: Decodable {
        struct Info: Decodable {
            let id: UUID
            let org_id: UUID
            let prefix: String
            let revoked_at: Date?
        }
        let info: Info
        let secret: String
    }

    @Test func anOperatorCreatesAnOrganisationAndIssuesItAKeyWhichWorksUntilRevoked() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let op = bearer(keys.byKind[.operator]!)
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let created = try await client.execute(
                    uri: "/v1/orgs",
                    method: .post,
                    headers: op.merging(.json),
                    body: jsonBody(#"{"kind":"bank","name":"南通农商银行","uscc":null}"#)
                )
                #expect(created.status == .created)
                let org = try decodeJSON(Organisation.self, created)
                #expect(org.kind == .bank && org.name == "南通农商银行")

                let issuedResponse = try await client.execute(
                    uri: "/v1/orgs/\(org.id)/keys",
                    method: .post,
                    headers: op.merging(.json),
                    body: jsonBody(#"{"label":"core banking"}"#)
                )
                #expect(issuedResponse.status == .created)
                let issued = try decodeJSON(Issued.self, issuedResponse)
                #expect(issued.info.org_id == org.id)
                #expect(issued.secret.hasPrefix(issued.info.prefix))

                let me = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(issued.secret))
                #expect(me.status == .ok)
                #expect(String(buffer: me.body).contains(org.id.uuidString))

                // Listing never shows a secret.
                let list = try await client.execute(uri: "/v1/keys", method: .get, headers: bearer(issued.secret))
                #expect(!String(buffer: list.body).contains(issued.secret))

                // The bank revokes its own key; it stops working at once.
                let revoke = try await client.execute(
                    uri: "/v1/keys/\(issued.info.id)",
                    method: .delete,
                    headers: bearer(issued.secret)
                )
                #expect(revoke.status == .ok)
                let after = try await client.execute(uri: "/v1/me", method: .get, headers: bearer(issued.secret))
                #expect(after.status == .unauthorized)
            }
            // Each change left an audit row, in its own transaction, and the chain verifies.
            let actions: [String] = try await db.owner.withConnection { c in
                try await c.query("SELECT action FROM audit_log ORDER BY id", logger: db.owner.logger).collect()
                    .map { try $0.decode(String.self) }
            }
            // …and the revoked key's refused call is audited too (issue 15, finding 13).
            #expect(actions == ["org.create", "key.issue", "key.revoke", "access.refused"])
            _ = try await Audit.sealAll(db.app)
            #expect(try await Audit.verify(db.app).ok)
        }
    }

    @Test func validationErrorsNameTheField() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let op = bearer(keys.byKind[.operator]!).merging(.json)
            let app = try buildApplication(try testConfig(db))
            try await app.test(.router) { client in
                let cases: [(String, String)] = [
                    (#"{"kind":"enterprise","name":"A","uscc":"91350100M000100Y44"}"#, "uscc"),
                    (#"{"kind":"enterprise","name":"A"}"#, "uscc"),
                    (#"{"kind":"bank","name":""}"#, "name"),
                    (#"{"kind":"church","name":"A"}"#, "kind"),
                    (#"{"name":"A"}"#, "kind"),
                    (#"{"kind":"bank","name":7}"#, "name"),
                ]
                for (body, field) in cases {
                    let r = try await client.execute(uri: "/v1/orgs", method: .post, headers: op, body: jsonBody(body))
                    #expect(r.status == .unprocessableContent, "\(body)")
                    let p = try decodeProblem(r)
                    #expect(p.type == Problem.Kind.validationFailed.uri)
                    #expect(p.errors?.first?.field == field, "\(body)")
                }
                let dup = try await client.execute(
                    uri: "/v1/orgs",
                    method: .post,
                    headers: op,
                    body: jsonBody(#"{"kind":"bank","name":"Test bank"}"#)
                )
                #expect(dup.status == .conflict)
                let badLimit = try await client.execute(uri: "/v1/orgs?limit=100000", method: .get, headers: op)
                #expect(try decodeProblem(badLimit).errors?.first?.field == "limit")
            }
        }
    }

    @Test func organisationsPageByCreation() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            let op = bearer(keys.byKind[.operator]!)
            let app = try buildApplication(try testConfig(db))
            struct Page: Decodable {
                let items: [Organisation]
                let next: String?
            }
            try await app.test(.router) { client in
                var seen: [UUID] = []
                var uri = "/v1/orgs?limit=2"
                while true {
                    let page = try decodeJSON(Page.self, try await client.execute(uri: uri, method: .get, headers: op))
                    seen += page.items.map(\.id)
                    guard let next = page.next else { break }
                    uri = "/v1/orgs?limit=2&after=\(next)"
                }
                #expect(Set(seen) == Set(keys.orgIds.values))
                #expect(seen.count == OrgKind.allCases.count)
                let banks = try decodeJSON(Page.self, try await client.execute(uri: "/v1/orgs?kind=bank", method: .get, headers: op))
                #expect(banks.items.map(\.kind) == [.bank])
            }
        }
    }
}
