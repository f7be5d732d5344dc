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

/// Public disclosure and the silent query over HTTP, on records stored as ingestion stores them.
@Suite struct DisclosureTests {
    static let listed = CreditWorld.uscc  // 91320602MA1NTX016C
    static let clean = CreditWorld.otherUSCC

    static func store(_ db: TestDatabase, _ dataset: Dataset, _ rows: [StageRow]) async throws {
        let cursor = try await IngestStore.position(db.app, dataset: dataset)
        _ = try await IngestStore.storePage(
            db.app,
            dataset: dataset,
            cursorBefore: cursor,
            cursorAfter: UUID().uuidString,
            hasMore: true,
            rows: rows,
            quarantine: [],
            received: rows.count
        )
    }

    static func row(_ id: String, _ uscc: String, _ data: String) -> StageRow {
        StageRow(recordId: id, version: 1, op: .upsert, uscc: uscc, updatedAt: "2026-06-01T00:00:00+08:00", data: data)
    }

    static func registry(_ uscc: String, _ name: String) -> StageRow {
        row(
            uscc,
            uscc,
            #"{"name":"\#(name)","entity_type":"company","established_on":"2015-04-01","registered_capital_fen":100000000,"industry_code":"C17","district_code":"320602","size_class":"small","status":"active","legal_rep_name":"张三","legal_rep_id_masked":"320602********1234"}"#
        )
    }

    static func seed(_ db: TestDatabase) async throws {
        let today = Day.todayInChina()
        try await store(db, .enterpriseRegistry, [registry(listed, "南通示例纺织有限公司"), registry(clean, "南通清白商贸有限公司")])
        func penalty(_ id: String, decided: Day, ends: Day, authority: String, violation: String, severity: String = "general") -> StageRow
        {
            row(
                id,
                listed,
                #"{"decision_no":"通罚\#(id)","authority":"\#(authority)","decided_on":"\#(decided)","violation":"\#(violation)","severity":"\#(severity)","fine_amount_fen":500000,"publicity_ends_on":"\#(ends)"}"#
            )
        }
        try await store(
            db,
            .administrativePenalty,
            [
                // Ended long ago: not published.
                penalty(
                    "P-OLD",
                    decided: today.addingMonths(-40),
                    ends: today.addingMonths(-4),
                    authority: "南通市生态环境局",
                    violation: "超标排放污染物"
                ),
                // Within its window: published.
                penalty("P-NOW", decided: today.addingMonths(-2), ends: today.addingMonths(6), authority: "南通市生态环境局", violation: "超标排放污染物"),
                // Serious: the provider says 4 months, the rules (from 2026-04-01, by severity) say at
                // least a year — still published at 6 months.
                penalty(
                    "P-FIRE",
                    decided: today.addingMonths(-6),
                    ends: today.addingMonths(-2),
                    authority: "南通市消防救援支队",
                    violation: "消防设施未保持完好",
                    severity: "serious"
                ),
            ]
        )
        func listing(_ id: String, type: String, listed on: Day, removed: Day?) -> StageRow {
            row(
                id,
                listed,
                #"{"list_type":"\#(type)","case_no":"(2025)苏06执\#(id)号","authority":"南通市中级人民法院","listed_on":"\#(on)","removed_on":\#(removed.map { "\"\($0)\"" } ?? "null"),"amount_involved_fen":null}"#
            )
        }
        try await store(
            db,
            .dishonestyListing,
            [
                listing("L-NOW", type: "judgment_defaulter", listed: today.addingMonths(-3), removed: nil),
                listing("L-GONE", type: "wage_arrears", listed: today.addingMonths(-20), removed: today.addingMonths(-8)),
            ]
        )
    }

    @Test func aSilentQueryAnswersOnlyTheListsSignedAndInvalidCodesAsInvalid() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.seed(db)
            try await w.app(db).test(.router) { client in
                let procurement = w.keys.byKind[.procurement]!
                let body = #"{"usccs": ["\#(Self.listed)", "\#(Self.clean)", "91320602MA1NTX016X", "nonsense"], "tender": "NTZB-2026-001"}"#
                let r = try await client.execute(
                    uri: "/v1/silent-queries",
                    method: .post,
                    headers: bearer(procurement).merging(.json),
                    body: jsonBody(body)
                )
                #expect(r.status == .created, "\(String(buffer: r.body))")
                let text = String(buffer: r.body)
                let doc = try JSONParser.parse(text)
                guard case .array(let results)? = doc["report"]?["results"] else {
                    Issue.record("no results: \(text)")
                    return
                }
                #expect(results.count == 4)
                // Listed: one current listing (the removed one is not), with type, date and authority only.
                #expect(results[0]["listed"] == .bool(true))
                guard case .array(let lists)? = results[0]["listings"] else {
                    Issue.record("no listings")
                    return
                }
                #expect(lists.count == 1 && lists[0]["list_type"]?.stringValue == "judgment_defaulter")
                if case .object(let o) = lists[0] { #expect(Set(o.pairs.map(\.key)) == ["list_type", "listed_on", "authority"]) }
                // Clean, and invalid codes as invalid (a wrong check character, and nonsense) — never "clean".
                #expect(results[1]["listed"] == .bool(false) && results[1]["valid"] == .bool(true))
                #expect(
                    results[2]["valid"] == .bool(false) && results[2]["listed"] == nil
                        && results[2]["invalid_reason"]?.stringValue == "uscc_check"
                )
                #expect(results[3]["valid"] == .bool(false))
                // Nothing else about the enterprise.
                for word in ["南通示例纺织", "张三", "1234", "score", "grade", "通罚"] { #expect(!text.contains(word), "\(word)") }
                // Signed: checks with the service's public key; a changed byte does not.
                struct Key: Decodable { let public_key: String }
                let key = try decodeJSON(Key.self, try await client.execute(uri: "/v1/signing-key", method: .get)).public_key
                #expect(ReportSigner.verifyDocument(Array(text.utf8), publicKeyBase64: key).valid)
                #expect(
                    !ReportSigner.verifyDocument(
                        Array(text.replacingOccurrences(of: "NTZB-2026-001", with: "NTZB-2026-002").utf8),
                        publicKeyBase64: key
                    ).valid
                )
                // Kept: the same document again by id, for its organisation only.
                let location = try #require(r.headers[.location])
                #expect(String(buffer: try await client.execute(uri: location, method: .get, headers: bearer(procurement)).body) == text)
                #expect(try await client.execute(uri: location, method: .get, headers: bearer(w.bank)).status == .forbidden)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'silent_query'") == 1)
                // Bounds.
                let many = "[" + Array(repeating: "\"\(Self.clean)\"", count: 1001).joined(separator: ",") + "]"
                #expect(
                    try await client.execute(
                        uri: "/v1/silent-queries",
                        method: .post,
                        headers: bearer(procurement).merging(.json),
                        body: jsonBody("{\"usccs\": \(many)}")
                    ).status == .unprocessableContent
                )
                #expect(
                    try await client.execute(
                        uri: "/v1/silent-queries",
                        method: .post,
                        headers: bearer(procurement).merging(.json),
                        body: jsonBody("{\"usccs\": []}")
                    ).status == .unprocessableContent
                )
            }
        }
    }

    @Test func publicDisclosureShowsOnlyWhatIsPublishedAndNothingPersonal() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.seed(db)
            // One request a minute after a burst of eight: the limit is reached whatever the machine's speed.
            try await buildApplication(
                try testConfig(
                    db,
                    [
                        "XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_PUBLIC_RATE_PER_MINUTE": "1",
                        "XYD_PUBLIC_RATE_BURST": "8",
                    ]
                )
            ).test(.router) { client in
                let r = try await client.execute(uri: "/v1/public/enterprises/\(Self.listed)", method: .get)
                #expect(r.status == .ok)
                let text = String(buffer: r.body)
                let v = try JSONParser.parse(text)
                #expect(v["name"]?.stringValue == "南通示例纺织有限公司")
                guard case .array(let penalties)? = v["penalties"], case .array(let listings)? = v["listings"] else {
                    Issue.record("\(text)")
                    return
                }
                #expect(Set(penalties.compactMap { $0["decision_no"]?.stringValue }) == ["通罚P-NOW", "通罚P-FIRE"])
                let fire = penalties.first { $0["decision_no"]?.stringValue == "通罚P-FIRE" }
                #expect(fire?["published_until"]?.stringValue == Day.todayInChina().addingMonths(-6).addingMonths(12).description)
                #expect(listings.count == 1)
                for word in ["张三", "320602********1234", "legal_rep", "score", "grade", "P-OLD", "wage_arrears"] {
                    #expect(!text.contains(word), "\(word)")
                }
                // By exact name; unknown and bad codes.
                let byName = try await client.execute(
                    uri: "/v1/public/enterprises?name=" + "南通示例纺织有限公司".addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                    method: .get
                )
                #expect(String(buffer: byName.body).contains(Self.listed))
                #expect(try await client.execute(uri: "/v1/public/enterprises/91350100M000100Y43", method: .get).status == .ok)
                #expect(
                    try await client.execute(uri: "/v1/public/enterprises/91320602MA1NTX016X", method: .get).status == .unprocessableContent
                )
                #expect(try await client.execute(uri: "/v1/public/enterprises?name=", method: .get).status == .unprocessableContent)
                // Rate-limited per address: a burst, then 429 with Retry-After.
                var limited: TestResponse?
                for _ in 0..<8 {
                    let r = try await client.execute(uri: "/v1/public/enterprises/\(Self.clean)", method: .get)
                    if r.status == .tooManyRequests {
                        limited = r
                        break
                    }
                }
                let refused = try #require(limited)
                let problem = try decodeProblem(refused)
                #expect(refused.headers[.retryAfter] != nil && problem.type == Problem.Kind.tooManyRequests.uri)
            }
        }
    }

    @Test func aRepairEndsPublicationAtOnceButNotBeforeTheMinimum() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.seed(db)
            let today = Day.todayInChina()
            try await Self.store(
                db,
                .administrativePenalty,
                [
                    Self.row(
                        "P-FIXED",
                        Self.listed,
                        #"{"decision_no":"通罚P-FIXED","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-5))","violation":"超标排放污染物","severity":"general","fine_amount_fen":500000,"publicity_ends_on":"\#(today.addingMonths(7))"}"#
                    )
                ]
            )
            try await w.app(db).test(.router) { client in
                func apply(_ key: String, _ record: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/v1/me/repairs",
                        method: .post,
                        headers: bearer(key).merging(.json),
                        body: jsonBody(
                            #"{"record_id": "\#(record)", "corrections": ["fine_paid", "training_done"], "evidence": "缴款凭证 receipt 0042", "commitment_id": "repair-2026-1", "signed_by": "张三"}"#
                        )
                    )
                }
                func published() async throws -> Set<String> {
                    let v = try JSONParser.parse(
                        String(buffer: try await client.execute(uri: "/v1/public/enterprises/\(Self.listed)", method: .get).body)
                    )
                    guard case .array(let p)? = v["penalties"] else { return [] }
                    return Set(p.compactMap { $0["decision_no"]?.stringValue })
                }
                // A bank read the business this month: it will hear of the repair.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                _ = try await client.execute(
                    uri: "/v1/enterprises/\(Self.listed)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                try await db.owner.execute(
                    "INSERT INTO webhook_endpoint (bank_org_id, url, secret) VALUES ('\(w.bankId)', 'http://127.0.0.1:9/x', 's')"
                )

                // Not before the minimum (3 months; a year for fire), not once unpublished, only one's own.
                let early = try await apply(w.business, "P-NOW")
                let earlyDetail = try decodeProblem(early).detail ?? ""
                #expect(
                    early.status == .conflict && earlyDetail.contains(today.addingMonths(-2).addingMonths(3).description),
                    "\(earlyDetail)"
                )
                #expect(try await apply(w.business, "P-FIRE").status == .conflict)
                #expect(try await apply(w.business, "P-OLD").status == .conflict)
                #expect(try await apply(w.otherBusinessKey, "P-FIXED").status == .notFound)
                #expect(try await published() == ["通罚P-NOW", "通罚P-FIRE", "通罚P-FIXED"])
                // The check-up offers repair by the same rule (`Repairs.refusal`): only P-FIXED, and not
                // once an application for it is open.
                func refusals() async throws -> [String: String] {
                    try await db.app.withConnection { c in
                        let history = try await ProfileStore.histories(c, usccs: [Self.listed], upTo: nil, logger: c.logger)[Self.listed]
                        let pending = try await Repairs.pending(c, logger: c.logger, uscc: Self.listed)
                        var out: [String: String] = [:]
                        for p in history?.penalties ?? [] {
                            out[p.id] = Repairs.refusal(p, today: today, pending: pending.contains(p.id))?.description ?? "repairable"
                        }
                        return out
                    }
                }
                let before = try await refusals()
                #expect(before["P-FIXED"] == "repairable" && before.values.filter { $0 == "repairable" }.count == 1, "\(before)")
                // Without the signed credit commitment (信用承诺书) and the signer's name: refused, naming both.
                let unsigned = try await client.execute(
                    uri: "/v1/me/repairs",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(
                        #"{"record_id": "P-FIXED", "corrections": ["fine_paid"], "evidence": "receipt", "commitment_id": "", "signed_by": ""}"#
                    )
                )
                #expect(Set(try decodeProblem(unsigned).errors?.map(\.field) ?? []) == ["commitment_id", "signed_by"])
                let texts = try await client.execute(uri: "/v1/me/repairs/commitments", method: .get, headers: bearer(w.business))
                #expect(texts.status == .ok && String(buffer: texts.body).contains("repair-2026-1"))
                let applied = try await apply(w.business, "P-FIXED")
                // The text signed is stored with the application, exactly, with who signed and when.
                let signed = try JSONParser.parse(String(buffer: applied.body))
                #expect(signed["commitment_id"]?.stringValue == "repair-2026-1" && signed["signed_by"]?.stringValue == "张三")
                #expect(signed["commitment_text"]?.stringValue == RepairCommitment.catalogue[0].zh && signed["signed_at"] != nil)
                #expect(applied.status == .created, "\(String(buffer: applied.body))")
                #expect(try await refusals()["P-FIXED"] == Repairs.Failure.alreadyOpen.description)
                struct App: Decodable {
                    let id: UUID
                    let state: String
                    let due_on: String
                    let repaired_on: String?
                }
                let app = try decodeJSON(App.self, applied)
                #expect(app.state == "open" && app.due_on == today.addingWorkingDays(3).description)
                #expect(try await apply(w.business, "P-FIXED").status == .conflict)
                // A report as of a moment before the approval (a whole second after the penalty arrived).
                try await Task.sleep(for: .milliseconds(1_100))
                let beforeApproval = ISO8601DateFormatter().string(from: Date())
                try await Task.sleep(for: .milliseconds(1_100))
                func reportContent(_ body: String) async throws -> String {
                    let r = try await client.execute(
                        uri: "/v1/me/reports",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .created, "\(String(buffer: r.body))")
                    return try JSONParser.parse(String(buffer: r.body))["report"]?["content"]?.jsonText ?? ""
                }
                let asOfBefore = try await reportContent(#"{"as_of": "\#(beforeApproval)"}"#)
                #expect(asOfBefore.contains("通罚P-FIXED"))
                // Approved: unpublished at once, everywhere; the bank that looked is told.
                let approved = try await client.execute(
                    uri: "/v1/repairs/\(app.id)/approve",
                    method: .post,
                    headers: bearer(w.keys.byKind[.operator]!)
                )
                let repairedOn = try decodeJSON(App.self, approved).repaired_on
                #expect(approved.status == .ok && repairedOn == today.description)
                #expect(try await published() == ["通罚P-NOW", "通罚P-FIRE"])
                // The signed commitment is public now: its text and day, not the signer nor the penalty.
                let record = String(buffer: try await client.execute(uri: "/v1/public/enterprises/\(Self.listed)", method: .get).body)
                guard case .array(let publicCommitments)? = try JSONParser.parse(Array(record.utf8))["repair_commitments"] else {
                    Issue.record("no repair_commitments: \(record)")
                    return
                }
                #expect(publicCommitments.first?["commitment_id"]?.stringValue == "repair-2026-1", "\(record)")
                #expect(publicCommitments.first?["signed_on"]?.stringValue == today.description)
                #expect(!record.contains("张三") && !record.contains("P-FIXED"))
                // The report of now leaves it out; the report as of before the approval is unchanged.
                #expect(!(try await reportContent("{}")).contains("通罚P-FIXED"))
                #expect(try await reportContent(#"{"as_of": "\#(beforeApproval)"}"#) == asOfBefore)
                #expect(
                    try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_event WHERE type = 'record.repaired' AND bank_org_id = '\(w.bankId)'"
                    ) == 1
                )
                #expect(
                    try await client.execute(
                        uri: "/v1/repairs/\(app.id)/reject",
                        method: .post,
                        headers: bearer(w.keys.byKind[.operator]!).merging(.json),
                        body: jsonBody(#"{"reason": "late"}"#)
                    ).status == .conflict
                )
                #expect(try await client.execute(uri: "/v1/repairs", method: .get, headers: bearer(w.business)).status == .forbidden)
            }
        }
    }

    @Test func aRemovedListingIsToldToTheBanksThatLooked() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await Self.seed(db)
            try await CreditWorld.drain(db.app)
            #expect(try await db.owner.scalar("SELECT (features->>'blacklisted_now')::int FROM profile WHERE uscc = '\(Self.listed)'") == 1)
            try await w.app(db).test(.router) { client in
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                _ = try await client.execute(
                    uri: "/v1/enterprises/\(Self.listed)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                try await db.owner.execute(
                    "INSERT INTO webhook_endpoint (bank_org_id, url, secret) VALUES ('\(w.bankId)', 'http://127.0.0.1:9/x', 's')"
                )
                // The court lifts the listing yesterday.
                let today = Day.todayInChina()
                try await Self.store(
                    db,
                    .dishonestyListing,
                    [
                        StageRow(
                            recordId: "L-NOW",
                            version: 2,
                            op: .upsert,
                            uscc: Self.listed,
                            updatedAt: "2026-06-01T00:00:00+08:00",
                            data:
                                #"{"list_type":"judgment_defaulter","case_no":"(2025)苏06执L-NOW号","authority":"南通市中级人民法院","listed_on":"\#(today.addingMonths(-3))","removed_on":"\#(today.addingDays(-1))","amount_involved_fen":null}"#
                        )
                    ]
                )
                try await CreditWorld.drain(db.app)
                #expect(
                    try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_event WHERE type = 'record.listing_removed' AND bank_org_id = '\(w.bankId)'"
                    ) == 1
                )
                let v = try JSONParser.parse(
                    String(buffer: try await client.execute(uri: "/v1/public/enterprises/\(Self.listed)", method: .get).body)
                )
                #expect(v["listings"] == .array([]))
            }
        }
    }

    @Test func theBucketRefillsWithTime() {
        let limiter = RateLimiter(perMinute: 60, burst: 2)
        #expect(limiter.take("a", now: 0) == nil && limiter.take("a", now: 0) == nil)
        #expect(limiter.take("a", now: 0) == 1)
        #expect(limiter.take("b", now: 0) == nil)
        #expect(limiter.take("a", now: 1.0) == nil)
    }
}
