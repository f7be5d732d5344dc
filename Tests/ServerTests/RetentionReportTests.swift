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
}
