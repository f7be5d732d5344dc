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
    /// A bill of a running commitment close to its due day and unpaid: the business is warned
    /// once, on the day it comes within the week (the sweep) or when the record arrives; when the
    /// day passes unpaid, the commitment breaks and its profile is queued.
    @Test func aBusinessIsWarnedOfACommitmentAtRiskBeforeItBreaks() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let today = Day.todayInChina()
            try await w.app(db).test(.router) { client in
                let r = try await client.execute(
                    uri: "/v1/me/commitments",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(#"{"kind": "utilities_on_time", "months": 3}"#)
                )
                #expect(r.status == .created, "\(String(buffer: r.body))")
                func bill(_ id: String, due: Day, paid: Bool) -> StageRow {
                    DisclosureTests.row(
                        id,
                        CreditWorld.uscc,
                        #"{"utility":"water","account_no":"W-1","period":"\#(MonthIndex(today).description)","consumption":"12.0","amount_billed_fen":9000,"amount_paid_fen":\#(paid ? 9000 : 0),"due_on":"\#(due)","paid_on":\#(paid ? "\"\(today)\"" : "null")}"#
                    )
                }
                try await DisclosureTests.store(
                    db,
                    .utilityBill,
                    [
                        bill("W-SOON", due: today.addingDays(3), paid: false), bill("W-LATER", due: today.addingDays(10), paid: false),
                        bill("W-PAID", due: today.addingDays(2), paid: true),
                    ]
                )
                try await CreditWorld.drain(db.app)
                func warned() async throws -> [String] {
                    let list: String = try await db.owner.scalar(
                        """
                        SELECT coalesce(string_agg(data->>'record_id', ',' ORDER BY id), '') FROM message
                        WHERE uscc = '\(CreditWorld.uscc)' AND kind = 'commitment.at_risk'
                        """
                    )
                    return list.split(separator: ",").map(String.init)
                }
                // On arrival: only the unpaid bill due within the week.
                #expect(try await warned() == ["W-SOON"])
                // The sweep on the day the second comes within the week; again that day: nothing new.
                for _ in 0..<2 { try await CommitmentStore.sweep(db.app, today: today.addingDays(3)) }
                #expect(try await warned() == ["W-SOON", "W-LATER"])
                let state: String = try await db.owner.scalar("SELECT state FROM commitment WHERE uscc = '\(CreditWorld.uscc)'")
                #expect(state == "in_progress")
                // The first bill's day passes unpaid: broken by it, told, the profile queued.
                try await db.owner.execute("DELETE FROM profile_queue")
                try await CommitmentStore.sweep(db.app, today: today.addingDays(4))
                let after: String = try await db.owner.scalar(
                    "SELECT state || ':' || broken_by FROM commitment WHERE uscc = '\(CreditWorld.uscc)'"
                )
                #expect(after == "broken:W-SOON")
                let queued: Int = try await db.owner.scalar("SELECT count(*)::int FROM profile_queue WHERE uscc = '\(CreditWorld.uscc)'")
                #expect(queued == 1)
                let kinds: String = try await db.owner.scalar(
                    "SELECT string_agg(kind, ',' ORDER BY id) FROM message WHERE uscc = '\(CreditWorld.uscc)' AND kind LIKE 'commitment.%'"
                )
                #expect(kinds == "commitment.at_risk,commitment.at_risk,commitment.broken")
                // The message centre says it in words, without the record's code.
                let (cookie, _) = try await PortalTests.session(client, key: w.business, page: "/portal/messages")
                let html = String(buffer: try await client.execute(uri: "/portal/messages", method: .get, headers: [.cookie: cookie]).body)
                #expect(html.contains("有一项义务 \(today.addingDays(3)) 到期，尚未履行"))
                #expect(!html.contains("W-SOON"))
            }
        }
    }
}
