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

/// Objections over HTTP: raised by the business, shown as disputed, upheld (suppressed,
/// recomputed, banks told) or rejected with a reason; overdue past 20 days.
@Suite struct ObjectionTests {
    struct Shown: Decodable {
        let id: UUID
        let state: String
        let due_on: String
        let overdue: Bool
        let resolution: String?
    }
    struct Records: Decodable {
        struct R: Decodable {
            let record_id: String
            let status: String
            let version: Int64
        }
        let items: [R]
    }

    static func period(_ monthsAgo: Int) -> String { MonthIndex(Day.todayInChina()).adding(-monthsAgo).description }
    static func record(_ monthsAgo: Int) -> String { "si-\(CreditWorld.uscc)-\(period(monthsAgo))" }

    @Test func raisedDisputedUpheldRecomputedAndTheBanksThatLookedAreTold() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                func raise(_ key: String, _ recordId: String, dataset: String = "social_insurance") async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/me/objections",
                        method: .post,
                        headers: bearer(key).merging(.json),
                        body: jsonBody(
                            #"{"dataset": "\#(dataset)", "record_id": "\#(recordId)", "reason": "这个月已缴清 paid in full", "evidence": "receipt 2026-001"}"#
                        )
                    )
                }
                func status(_ recordId: String) async throws -> String? {
                    let r = try await client.execute(
                        uri: "/v1/me/records?dataset=social_insurance&limit=100",
                        method: .get,
                        headers: bearer(w.business)
                    )
                    return try decodeJSON(Records.self, r).items.first { $0.record_id == recordId }?.status
                }
                // The bank looked at the profile last month (a live authorisation and a read), and listens.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                #expect(
                    try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                        method: .get,
                        headers: bearer(w.bank)
                    ).status == .ok
                )
                try await db.owner.execute(
                    "INSERT INTO webhook_endpoint (bank_org_id, url, secret) VALUES ('\(w.bankId)', 'http://127.0.0.1:9/x', 's')"
                )

                let target = Self.record(3)
                let raised = try await raise(w.business, target)
                #expect(raised.status == .created, "\(String(buffer: raised.body))")
                let objection = try decodeJSON(Shown.self, raised)
                #expect(
                    objection.state == "open" && objection.due_on == Day.todayInChina().addingDays(20).description && !objection.overdue
                )
                let disputed = try await status(target)
                let untouched = try await status(Self.record(4))
                #expect(disputed == "disputed" && untouched == "current")
                // One open objection per record; only one's own records; the fields checked.
                #expect(try await raise(w.business, target).status == .conflict)
                #expect(try await raise(w.otherBusinessKey, target).status == .notFound)
                #expect(try await raise(w.business, target, dataset: "nonsense").status == .unprocessableContent)
                #expect(try await raise(w.bank, target).status == .forbidden)

                // A signed report made now names the record as disputed.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["report"])
                let report = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/reports",
                    method: .post,
                    headers: bearer(w.bank).merging(.json),
                    body: jsonBody(#"{"purpose": "loan_application"}"#)
                )
                let reportText = String(buffer: report.body)
                #expect(
                    report.status == .created && reportText.contains("\"disputed_records\":[{\"dataset\":\"social_insurance\""),
                    "\(reportText.prefix(300))"
                )
                let scoreBefore: Int = try await db.owner.scalar("SELECT records FROM profile WHERE uscc = '\(CreditWorld.uscc)'")
                // The operator upholds it.
                let operatorKey = w.keys.byKind[.operator]!
                let upheld = try await client.execute(
                    uri: "/v1/objections/\(objection.id)/uphold",
                    method: .post,
                    headers: bearer(operatorKey).merging(.json),
                    body: jsonBody(#"{"resolution": "the bureau confirms payment"}"#)
                )
                let upheldState = try decodeJSON(Shown.self, upheld).state
                #expect(upheld.status == .ok && upheldState == "upheld")
                #expect(
                    try await client.execute(uri: "/v1/objections/\(objection.id)/uphold", method: .post, headers: bearer(operatorKey))
                        .status == .conflict
                )
                #expect(try await status(target) == "suppressed")
                // Recomputed without it; the bank that looked hears of it.
                try await CreditWorld.drain(db.app)
                #expect(try await db.owner.scalar("SELECT records FROM profile WHERE uscc = '\(CreditWorld.uscc)'") == scoreBefore - 1)
                let events: [String] = try await db.owner.withConnection { c in
                    try await c.query(
                        "SELECT type || '@' || bank_org_id::text FROM webhook_event WHERE type = 'record.corrected'",
                        logger: db.owner.logger
                    )
                    .collect().map { try $0.decode(String.self) }
                }
                #expect(events == ["record.corrected@\(w.bankId.uuidString.lowercased())"])
                // Regulators see it in data quality: one upheld among the records held, nothing open.
                try await Stats.refresh(db.app)
                let quality = try RegulatorTests.decodeTable(
                    try await client.execute(
                        uri: "/v1/regulator/quality",
                        method: .get,
                        headers: bearer(w.keys.byKind[.regulator]!)
                    )
                )
                let si = try #require(quality.rows.first { $0.key == "social_insurance" })
                let held: Int64 = try await db.owner.scalar("SELECT live FROM feed_state WHERE dataset = 'social_insurance'")
                let scaled = (100_000 * 200 / held + 1) / 2
                #expect(
                    si.int("under_objection") == 0
                        && si.values["valid_objections_per_100k"]?.numberText == "\(scaled / 100).\(String(scaled % 100).leftPadded(2))"
                )
                // The provider's own correction (a new version) is not suppressed.
                var corrected = CreditWorld.insurance(CreditWorld.uscc, months: 4, version: 2)
                corrected = corrected.filter { $0.recordId == target }
                try await CreditWorld.store(db.app, corrected)
                #expect(try await status(target) == "current")
            }
        }
    }

    @Test func rejectedWithAReasonTheBusinessSeesAndOverduePastTwentyDays() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let operatorKey = w.keys.byKind[.operator]!
                let raised = try await client.execute(
                    uri: "/v1/me/objections",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(
                        #"{"dataset": "social_insurance", "record_id": "\#(Self.record(2))", "reason": "wrong headcount"}"#
                    )
                )
                let id = try decodeJSON(Shown.self, raised).id
                // Overdue once its 20 days pass unanswered.
                try await db.owner.execute("UPDATE objection SET due_on = current_date - 1 WHERE id = '\(id)'")
                struct List: Decodable { let items: [Shown] }
                let open = try decodeJSON(
                    List.self,
                    try await client.execute(uri: "/v1/objections?state=open", method: .get, headers: bearer(operatorKey))
                )
                #expect(open.items.map(\.id) == [id] && open.items[0].overdue)
                // Routed to the provider that sent the record: the social-insurance bureau's list has it, the tax bureau's not.
                for (provider, count) in [("hrss", 1), ("tax", 0)] {
                    let handed = try decodeJSON(
                        List.self,
                        try await client.execute(
                            uri: "/v1/objections?state=open&provider=\(provider)",
                            method: .get,
                            headers: bearer(operatorKey)
                        )
                    )
                    #expect(handed.items.count == count, "\(provider)")
                }
                #expect(
                    try await client.execute(uri: "/v1/objections?provider=nobody", method: .get, headers: bearer(operatorKey)).status
                        == .unprocessableContent
                )
                let raw = String(
                    buffer: try await client.execute(uri: "/v1/objections?state=open", method: .get, headers: bearer(operatorKey)).body
                )
                #expect(raw.contains("\"provider\":\"hrss\"") && raw.contains("\"record_id\""))
                #expect(try await client.execute(uri: "/v1/objections", method: .get, headers: bearer(w.business)).status == .forbidden)
                // A rejection needs a reason.
                #expect(
                    try await client.execute(
                        uri: "/v1/objections/\(id)/reject",
                        method: .post,
                        headers: bearer(operatorKey).merging(.json),
                        body: jsonBody("{}")
                    ).status == .unprocessableContent
                )
                let rejected = try await client.execute(
                    uri: "/v1/objections/\(id)/reject",
                    method: .post,
                    headers: bearer(operatorKey).merging(.json),
                    body: jsonBody(#"{"reason": "the bureau's record matches the filing"}"#)
                )
                #expect(rejected.status == .ok)
                let mine = try decodeJSON(
                    List.self,
                    try await client.execute(uri: "/v1/me/objections", method: .get, headers: bearer(w.business))
                )
                #expect(mine.items.first?.state == "rejected" && mine.items.first?.resolution == "the bureau's record matches the filing")
                #expect(!(mine.items.first?.overdue ?? true))
                #expect(
                    try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action IN ('objection.raise', 'objection.reject')")
                        == 2
                )
                // Regulators count them, but one business's objection is a cell too small to show.
                let governance = try RegulatorTests.decodeTable(
                    try await client.execute(
                        uri: "/v1/regulator/governance",
                        method: .get,
                        headers: bearer(w.keys.byKind[.regulator]!)
                    )
                )
                #expect(governance.rows.map(\.key) == ["objections", "repairs"])
                #expect(governance.rows[0].suppressed && !governance.rows[1].suppressed && governance.rows[1].int("open") == 0)
            }
        }
    }

    @Test func couldNotBeVerifiedKeepsTheRecordMarkedWhereverItIsShown() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let operatorKey = w.keys.byKind[.operator]!
                let record = Self.record(3)
                let raised = try await client.execute(
                    uri: "/v1/me/objections",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(#"{"dataset": "social_insurance", "record_id": "\#(record)", "reason": "wrong headcount"}"#)
                )
                let id = try decodeJSON(Shown.self, raised).id
                // The account of the check is required: it is shown with the record.
                let bare = try await client.execute(
                    uri: "/v1/objections/\(id)/unverifiable",
                    method: .post,
                    headers: bearer(operatorKey).merging(.json),
                    body: jsonBody("{}")
                )
                #expect(bare.status == .unprocessableContent)
                #expect(
                    try await client.execute(
                        uri: "/v1/objections/\(id)/unverifiable",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(#"{"reason": "x"}"#)
                    ).status == .forbidden
                )
                let marked = try await client.execute(
                    uri: "/v1/objections/\(id)/unverifiable",
                    method: .post,
                    headers: bearer(operatorKey).merging(.json),
                    body: jsonBody(#"{"reason": "the bureau holds no payroll for that month; the filing cannot be confirmed either way"}"#)
                )
                #expect(marked.status == .ok)
                #expect(try decodeJSON(Shown.self, marked).state == "unverifiable")
                // Decided once: a second answer is a conflict.
                #expect(
                    try await client.execute(
                        uri: "/v1/objections/\(id)/reject",
                        method: .post,
                        headers: bearer(operatorKey).merging(.json),
                        body: jsonBody(#"{"reason": "x"}"#)
                    ).status == .conflict
                )
                // The record stays (not suppressed), marked for the business and for an authorised bank.
                struct Records: Decodable {
                    struct R: Decodable {
                        let record_id: String
                        let status: String
                    }
                    let items: [R]
                }
                let own = try decodeJSON(
                    Records.self,
                    try await client.execute(uri: "/v1/me/records?dataset=social_insurance", method: .get, headers: bearer(w.business))
                )
                #expect(own.items.first { $0.record_id == record }?.status == "unverified")
                #expect(own.items.filter { $0.status == "unverified" }.count == 1)
                _ = try await w.grant(client, bank: w.bankId, scopes: ["records"])
                let banks = try decodeJSON(
                    Records.self,
                    try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/records?dataset=social_insurance&purpose=loan_application",
                        method: .get,
                        headers: bearer(w.bank)
                    )
                )
                #expect(banks.items.first { $0.record_id == record }?.status == "unverified")
                let suppressed: Int = try await db.owner.scalar("SELECT count(*)::int FROM record_version WHERE suppressed")
                #expect(suppressed == 0)
                // The check-up says so in words.
                let (cookie, _) = try await PortalTests.session(client, key: w.business, page: "/portal")
                let page = String(buffer: try await client.execute(uri: "/portal", method: .get, headers: [.cookie: cookie]).body)
                #expect(page.contains("异议经核查无法确认"))
            }
        }
    }

    @Test func aStatementIsShownWithItsRecordInReportsAndToBanksUntilWithdrawn() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            // A listing of the business, in force.
            try await DisclosureTests.store(
                db,
                .dishonestyListing,
                [
                    DisclosureTests.row(
                        "L-ST",
                        CreditWorld.uscc,
                        #"{"list_type":"judgment_defaulter","case_no":"ST-CASE-1","authority":"南通市中级人民法院","listed_on":"2026-01-05","removed_on":null,"amount_involved_fen":null}"#
                    )
                ]
            )
            try await w.app(db).test(.router) { client in
                func post(_ uri: String, _ body: String? = nil) async throws -> TestResponse {
                    try await client.execute(uri: uri, method: .post, headers: bearer(w.business).merging(.json), body: body.map(jsonBody))
                }
                // Bounded, on the business's own records only.
                let long = try await post(
                    "/v1/me/statements",
                    #"{"dataset": "dishonesty_listing", "record_id": "L-ST", "text": "\#(String(repeating: "说", count: 501))"}"#
                )
                #expect(try decodeProblem(long).errors?.map(\.field) == ["text"])
                // Text that reorders or hides itself, or drives a terminal, is refused with the field named.
                for bad in ["\\u0007bell", "\\u001b[31mred", "a\\u0085b", "a\\u2028b", "\\ufeffbom", "abc\\u202edcba", "x\\u2067y"] {
                    let r = try await post(
                        "/v1/me/statements",
                        #"{"dataset": "dishonesty_listing", "record_id": "L-ST", "text": "\#(bad)"}"#
                    )
                    let fields = try decodeProblem(r).errors?.map(\.field)
                    #expect(r.status == .unprocessableContent && fields == ["text"], "\(bad)")
                }
                #expect(
                    try await post("/v1/me/statements", #"{"dataset": "dishonesty_listing", "record_id": "L-NONE", "text": "x"}"#).status
                        == .notFound
                )
                struct Made: Decodable { let id: UUID }
                let made = try await post(
                    "/v1/me/statements",
                    #"{"dataset": "dishonesty_listing", "record_id": "L-ST", "text": "执行款已于2026年3月全部履行，正在申请移出"}"#
                )
                #expect(made.status == .created)
                let id = try decodeJSON(Made.self, made).id
                // One live statement per record.
                #expect(
                    try await post("/v1/me/statements", #"{"dataset": "dishonesty_listing", "record_id": "L-ST", "text": "again"}"#).status
                        == .conflict
                )
                // Shown to an authorised bank with the record, and in the business's report.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["records", "report"])
                let bankView = String(
                    buffer: try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/records?dataset=dishonesty_listing&purpose=loan_application",
                        method: .get,
                        headers: bearer(w.bank)
                    ).body
                )
                #expect(bankView.contains("执行款已于2026年3月全部履行"))
                func report(_ body: String) async throws -> String {
                    let r = try await post("/v1/me/reports", body)
                    #expect(r.status == .created, "\(String(buffer: r.body))")
                    return try JSONParser.parse(String(buffer: r.body))["report"]?["content"]?.jsonText ?? ""
                }
                let with = try await report("{}")
                #expect(with.contains("执行款已于2026年3月全部履行"))
                try await Task.sleep(for: .milliseconds(1_100))
                let beforeWithdrawal = ISO8601DateFormatter().string(from: Date())
                try await Task.sleep(for: .milliseconds(1_100))
                let asOfBefore = try await report(#"{"as_of": "\#(beforeWithdrawal)"}"#)
                // Withdrawn: gone from fresh views; an as-of report of a moment before keeps it, unchanged.
                #expect(try await post("/v1/me/statements/\(id)/withdraw").status == .ok)
                #expect(try await post("/v1/me/statements/\(id)/withdraw").status == .notFound)
                #expect(!(try await report("{}")).contains("执行款已于2026年3月全部履行"))
                #expect(try await report(#"{"as_of": "\#(beforeWithdrawal)"}"#) == asOfBefore)
                // Another business cannot withdraw it (absent to it).
                #expect(
                    try await client.execute(uri: "/v1/me/statements/\(id)/withdraw", method: .post, headers: bearer(w.otherBusinessKey))
                        .status == .notFound
                )
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action IN ('statement.add', 'statement.withdraw') AND result = 'allowed'"
                )
                #expect(audited == 2)
            }
        }
    }
}
