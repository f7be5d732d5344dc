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

/// A commitment made over HTTP, broken by records as they arrive, public, counted for regulators.
@Suite struct CommitmentRouteTests {
    struct Made: Decodable {
        let id: UUID
        let kind: String
        let state: String
        let starts_on: String
        let ends_on: String
        let broken_by: String?
    }

    @Test func madePublicAndBrokenWhenArrearsArrive() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await DisclosureTests.store(db, .enterpriseRegistry, [DisclosureTests.registry(CreditWorld.uscc, "南通示例纺织有限公司")])
            try await w.app(db).test(.router) { client in
                let catalogue = try JSONParser.parse(
                    String(buffer: try await client.execute(uri: "/v1/commitments/catalogue", method: .get).body)
                )
                guard case .array(let kinds)? = catalogue["items"] else {
                    Issue.record("no catalogue")
                    return
                }
                #expect(kinds.count == 5)
                func make(_ body: String, _ key: String? = nil) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/me/commitments",
                        method: .post,
                        headers: bearer(key ?? w.business).merging(.json),
                        body: jsonBody(body)
                    )
                }
                #expect(try await make(#"{"kind": "no_social_insurance_arrears", "months": 5}"#).status == .unprocessableContent)
                #expect(try await make(#"{"kind": "be_good", "months": 3}"#).status == .unprocessableContent)
                #expect(try await make(#"{"kind": "no_social_insurance_arrears", "months": 3}"#, w.bank).status == .forbidden)
                let r = try await make(#"{"kind": "no_social_insurance_arrears", "months": 3}"#)
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let made = try decodeJSON(Made.self, r)
                let today = Day.todayInChina()
                #expect(
                    made.state == "in_progress" && made.starts_on == today.description
                        && made.ends_on == today.addingMonths(3).addingDays(-1).description
                )
                #expect(try await make(#"{"kind": "no_social_insurance_arrears", "months": 6}"#).status == .conflict)
                // Public once made.
                let record = String(buffer: try await client.execute(uri: "/v1/public/enterprises/\(CreditWorld.uscc)", method: .get).body)
                #expect(record.contains("no_social_insurance_arrears") && record.contains("in_progress"))
                // This month's insurance arrives in arrears: broken by that record, in the profile's transaction.
                let month = MonthIndex(today).description
                try await CreditWorld.store(
                    db.app,
                    [
                        StageRow(
                            recordId: "si-\(CreditWorld.uscc)-\(month)",
                            version: 1,
                            op: .upsert,
                            uscc: CreditWorld.uscc,
                            updatedAt: "2026-06-01T00:00:00+08:00",
                            data:
                                "{\"period\":\"\(month)\",\"insured_headcount\":12,\"contribution_due_fen\":100,\"contribution_paid_fen\":0,\"in_arrears\":true}"
                        )
                    ]
                )
                try await CreditWorld.drain(db.app)
                struct List: Decodable { let items: [Made] }
                let mine = try decodeJSON(
                    List.self,
                    try await client.execute(uri: "/v1/me/commitments", method: .get, headers: bearer(w.business))
                )
                #expect(mine.items.first?.state == "broken" && mine.items.first?.broken_by == "si-\(CreditWorld.uscc)-\(month)")
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'commitment.make'") == 1)
                // The business is told, once, however often the commitment is evaluated again.
                try await db.app.withTransaction { c in
                    try await CommitmentStore.evaluate(c, logger: db.app.logger, usccs: [CreditWorld.uscc], today: Day.todayInChina())
                }
                let told: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM message WHERE uscc = '\(CreditWorld.uscc)' AND kind = 'commitment.broken'"
                )
                #expect(told == 1)
            }
        }
    }
}
