import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// Five-year retention in reports: a listing whose behaviour ended more than five years ago is no
/// longer provided in a fresh report, but an as-of report of a moment when it was within five
/// years still shows it (reports keep their moment).
@Suite struct RetentionReportTests {
    @Test func aListingPastFiveYearsIsGoneFromAFreshReportButNotFromAnAsOfReportOfItsTime() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let today = Day.todayInChina()
            // Removed five years and three days ago: provided until three days ago.
            let removed = today.addingMonths(-60).addingDays(-3)
            try await DisclosureTests.store(
                db,
                .dishonestyListing,
                [
                    DisclosureTests.row(
                        "L-RET",
                        CreditWorld.uscc,
                        #"{"list_type":"judgment_defaulter","case_no":"RET-CASE-1","authority":"南通市中级人民法院","listed_on":"\#(removed.addingMonths(-24))","removed_on":"\#(removed)","amount_involved_fen":null}"#
                    )
                ]
            )
            // Known to the service, and its scorecard active, since a month ago (a report as of a
            // week ago reads both).
            try await db.owner.execute("UPDATE record_version SET received_at = now() - interval '30 days'")
            try await db.owner.execute("UPDATE scorecard_activation SET activated_at = activated_at - interval '60 days'")
            try await w.app(db).test(.router) { client in
                func content(_ body: String) async throws -> String {
                    let r = try await client.execute(
                        uri: "/v1/me/reports",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .created, "\(String(buffer: r.body))")
                    return try JSONParser.parse(String(buffer: r.body))["report"]?["content"]?.jsonText ?? ""
                }
                let fresh = try await content("{}")
                #expect(!fresh.contains("RET-CASE-1"))
                let weekAgo = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-7 * 86_400))
                let then = try await content(#"{"as_of": "\#(weekAgo)"}"#)
                #expect(then.contains("RET-CASE-1"))
            }
        }
    }

    @Test func aBanksRecordReadLeavesOutWhatTheRulesNoLongerProvideExactlyAsReportsDo() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let today = Day.todayInChina()
            let out = today.addingMonths(-60).addingDays(-1)  // five years and a day ago: aged out
            let edge = today.addingMonths(-60)  // exactly five years ago: still provided
            let u = CreditWorld.uscc
            func row(_ id: String, _ json: String) -> StageRow { DisclosureTests.row(id, u, json) }
            try await DisclosureTests.store(
                db,
                .administrativePenalty,
                [
                    row(
                        "R-P-OUT",
                        #"{"decision_no":"R1","authority":"a","decided_on":"\#(out)","violation":"v","severity":"general","fine_amount_fen":1,"publicity_ends_on":"\#(out.addingMonths(3))"}"#
                    ),
                    row(
                        "R-P-EDGE",
                        #"{"decision_no":"R2","authority":"a","decided_on":"\#(edge)","violation":"v","severity":"general","fine_amount_fen":1,"publicity_ends_on":"\#(edge.addingMonths(3))"}"#
                    ),
                ]
            )
            try await DisclosureTests.store(
                db,
                .dishonestyListing,
                [
                    row(
                        "R-L-OUT",
                        #"{"list_type":"judgment_defaulter","case_no":"c1","authority":"a","listed_on":"\#(out.addingMonths(-12))","removed_on":"\#(out)","amount_involved_fen":null}"#
                    ),
                    row(
                        "R-L-ON",
                        #"{"list_type":"judgment_defaulter","case_no":"c2","authority":"a","listed_on":"\#(out.addingMonths(-12))","removed_on":null,"amount_involved_fen":null}"#
                    ),
                ]
            )
            try await DisclosureTests.store(
                db,
                .contractPerformance,
                [
                    row(
                        "R-C-OUT",
                        #"{"contract_no":"k1","role":"supplier","counterparty_uscc":null,"signed_on":"\#(out.addingMonths(-6))","amount_fen":100,"due_on":"\#(out)","status":"breached","settled_on":null}"#
                    ),
                    row(
                        "R-C-FINE",
                        #"{"contract_no":"k2","role":"supplier","counterparty_uscc":null,"signed_on":"\#(out.addingMonths(-6))","amount_fen":100,"due_on":"\#(out)","status":"fulfilled","settled_on":"\#(out)"}"#
                    ),
                ]
            )
            try await w.app(db).test(.router) { client in
                _ = try await w.grant(client, bank: w.bankId, scopes: ["records"])
                struct Page: Decodable {
                    struct R: Decodable { let record_id: String }
                    let items: [R]
                }
                let bank = try decodeJSON(
                    Page.self,
                    try await client.execute(
                        uri: "/v1/enterprises/\(u)/records?purpose=loan_application&limit=500",
                        method: .get,
                        headers: bearer(w.bank)
                    )
                ).items.map(\.record_id).filter { $0.hasPrefix("R-") }
                #expect(Set(bank) == ["R-P-EDGE", "R-L-ON", "R-C-FINE"], "\(bank)")
                // The business sees all its own.
                let own = try decodeJSON(
                    Page.self,
                    try await client.execute(uri: "/v1/me/records?limit=500", method: .get, headers: bearer(w.business))
                ).items.map(\.record_id).filter { $0.hasPrefix("R-") }
                #expect(own.count == 6)
                // The SQL reads the rule as reports do (History.retained).
                let history = try await db.app.withConnection { c in
                    try await ProfileStore.histories(c, usccs: [u], upTo: nil, logger: db.app.logger)[u]!
                }.retained(on: today)
                let kept = (history.penalties.map(\.id) + history.listings.map(\.id) + history.contracts.map(\.id)).filter {
                    $0.hasPrefix("R-")
                }
                #expect(Set(kept) == Set(bank))
            }
        }
    }
}
