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

/// Pages speak to people: every portal and dashboard page, rendered from a business with a
/// record in every dataset, in Chinese and in English, shows no developer's text — no
/// snake_case identifiers, no `_fen`, no dotted codes (`profile.read`), no district or industry
/// codes — and a Chinese page no English words (beyond a short list of terms of the trade).
@Suite struct LanguageTests {
    /// What a person reads on a page: the text between tags and the attributes people see.
    static func visibleText(_ html: String) -> [String] {
        var s = html
        for tag in ["script", "style"] {
            while let open = s.range(of: "<\(tag)"), let close = s.range(of: "</\(tag)>", range: open.upperBound..<s.endIndex) {
                s.removeSubrange(open.lowerBound..<close.upperBound)
            }
        }
        // What a page marks as not language (translate="no": a verification code to type in, not words).
        s = s.replacingOccurrences(of: #"<(\w+)[^>]*translate="no"[^>]*>[^<]*</\1>"#, with: "", options: .regularExpression)
        var out: [String] = []
        // Attributes read by people (hover, placeholders, screen readers).
        for attribute in ["title", "placeholder", "aria-label", "alt"] {
            var rest = s[...]
            while let r = rest.range(of: " \(attribute)=\"") {
                let value = rest[r.upperBound...].prefix { $0 != "\"" }
                out.append(String(value))
                rest = rest[r.upperBound...]
            }
        }
        var text = ""
        var inTag = false
        for ch in s {
            if ch == "<" {
                inTag = true
                text.append("\n")
            } else if ch == ">" {
                inTag = false
            } else if !inTag {
                text.append(ch)
            }
        }
        out += text.split(separator: "\n").map(String.init)
        return out.map {
            $0.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
                .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
                .replacingOccurrences(of: "&amp;", with: "&").trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
    }

    /// Terms a Chinese page may write in Latin letters.
    static let latinTerms: Set<String> = ["English", "AUC", "KS", "PSI", "Gini", "Ed", "JSON", "CSV", "ID", "USCC"]

    /// What is wrong with a page's text: the first problem of each line that has one.
    static func problems(_ html: String, chinese: Bool) -> [String] {
        visibleText(html).compactMap { line in problem(line, chinese: chinese).map { "\($0) in \"\(line.prefix(160))\"" } }
    }

    static func problem(_ line: String, chinese: Bool) -> String? {
        // Addresses are for following, not reading.
        let line = line.replacingOccurrences(of: #"https?://\S+"#, with: " ", options: .regularExpression)
        for token in line.split(whereSeparator: { $0.isWhitespace || "，。：；（）()、,:;「」“”·/|→≥<>=+".contains($0) }) {
            let t = String(token)
            if t.contains("_") { return "identifier `\(t)`" }
            if t.range(of: #"^[a-z]+\.[a-z_]+$"#, options: .regularExpression) != nil { return "code `\(t)`" }
            if Names.districts[t] != nil || t.range(of: #"^[A-T][0-9]{2}$"#, options: .regularExpression) != nil {
                return "district or industry code `\(t)`"
            }
            guard chinese, !t.contains(where: \.isNumber) else { continue }
            // Latin words on a Chinese page (data such as record numbers carry digits).
            var word = ""
            for ch in t + " " {
                if ch.isASCII && ch.isLetter {
                    word.append(ch)
                } else {
                    if word.count >= 2 && !latinTerms.contains(word) { return "English `\(word)`" }
                    word = ""
                }
            }
        }
        return nil
    }

    @Test func theScannerFindsWhatItLooksFor() {
        for bad in ["<p title=\"amount_fen\">金额</p>", "<p>profile.read</p>", "<p>崇川 320602</p>", "<p>行业 C17</p>", "<p>状态 live</p>"] {
            #expect(Self.problems(bad, chinese: true).count == 1, "\(bad)")
        }
        #expect(Self.problems("<p>金额</p><script>var x_y = 1</script>", chinese: true).isEmpty)
        #expect(Self.problems("<p>profile.read</p>", chinese: false).count == 1)
        #expect(Self.problems("<p>信用体检 A 级 · 评分 720 · PSI 0.12 · 记录号 tax-2026-10</p>", chinese: true).isEmpty)
        #expect(Self.problems("<p>Credit check-up</p>", chinese: false).isEmpty)
        #expect(Self.problems("<dd><strong translate=\"no\">UHVDRNVZUH</strong></dd>", chinese: true).isEmpty)
        #expect(Self.problems("<dd><strong>UHVDRNVZUH</strong></dd>", chinese: true).count == 1)
    }

    @Test func everyPageSpeaksToPeopleInBothLanguages() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            do { try await RichWorld.seed(db) } catch {
                Issue.record("seeding: \(String(reflecting: error))")
                return
            }
            try await w.app(db).test(.router) { client in
                // Data as people would type it: the fixture's organisations and the demand's purpose in Chinese.
                try await db.owner.execute(
                    """
                    UPDATE organisations SET name = CASE WHEN kind = 'bank' THEN '南通示范银行' || (abs(hashtext(id::text)) % 10000)::text
                                                        WHEN uscc = '\(CreditWorld.uscc)' THEN '南通示例纺织有限公司'
                                                        WHEN kind = 'enterprise' THEN '南通清白商贸有限公司' || (abs(hashtext(id::text)) % 10000)::text
                                                        ELSE '南通市信用中心' || (abs(hashtext(id::text)) % 10000)::text END
                    """
                )
                // A demand taken up, offered, accepted and disbursed; an objection, a commitment, a report.
                let demand = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                try await db.owner.execute("UPDATE product SET name = '普惠经营贷' || (abs(hashtext(id::text)) % 10000)::text")
                #expect(
                    try await client.execute(uri: "/v1/demands/\(demand)/take-up", method: .post, headers: bearer(w.bank)).status == .ok
                )
                try await w.lend(client, demand: demand)
                for (path, body) in [
                    ("disburse", #"{"amount_fen": 20000000, "disbursed_on": "\#(Day.todayInChina())"}"#)
                ] {
                    let r = try await client.execute(
                        uri: "/v1/demands/\(demand)/\(path)",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .ok, "\(path): \(String(buffer: r.body))")
                }
                let month = String(Day.todayInChina().description.prefix(7))
                _ = try await client.execute(
                    uri: "/v1/demands/\(demand)/outcomes",
                    method: .post,
                    headers: bearer(w.bank).merging(.json),
                    body: jsonBody(#"{"month": "\#(month)", "status": "current"}"#)
                )
                // The bank may look the business up: a live authorisation for a loan application.
                let expires = ISO8601DateFormatter().string(from: Date().addingTimeInterval(30 * 86_400))
                let granted = try await client.execute(
                    uri: "/v1/me/authorisations",
                    method: .post,
                    headers: bearer(w.business).merging(.json),
                    body: jsonBody(
                        #"{"bank_org_id": "\#(w.bankId.uuidString)", "scopes": ["profile"], "purpose": "loan_application", "expires_at": "\#(expires)"}"#
                    )
                )
                #expect(granted.status == .created, "\(String(buffer: granted.body))")
                let taxRecord = "tax-\(MonthIndex(Day.todayInChina()).adding(-4))"
                for (uri, body) in [
                    ("/v1/me/objections", #"{"dataset": "tax_filing", "record_id": "\#(taxRecord)", "reason": "申报日期有误"}"#),
                    ("/v1/me/commitments", #"{"kind": "tax_on_time", "months": 6}"#), ("/v1/me/reports", "{}"),
                ] {
                    let r = try await client.execute(
                        uri: uri,
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .created, "\(uri): \(String(buffer: r.body))")
                }
                let report: String = try await db.owner.scalar("SELECT number FROM report ORDER BY created_at DESC LIMIT 1")
                try await db.owner.execute("UPDATE demand SET purpose = '流动资金周转'")
                try await Stats.refresh(db.app)

                let business = try #require(DashboardTests.cookie(try await PortalTests.signIn(client, key: w.business)))
                let bank = try #require(DashboardTests.cookie(try await PortalTests.signIn(client, key: w.bank)))
                let regulator = try #require(
                    DashboardTests.cookie(try await DashboardTests.signIn(client, key: w.keys.byKind[.regulator]!))
                )
                let pages: [(String, String)] = [
                    (business, "/portal"), (business, "/portal/access"), (business, "/portal/financing"),
                    (business, "/portal/demands/\(demand.uuidString.lowercased())"), (business, "/portal/governance"),
                    (business, "/portal/objections/new?dataset=tax_filing&record=\(taxRecord)"),
                    (business, "/portal/repairs/new?record=P-1"),
                    (business, "/portal/reports"), (business, "/portal/reports/\(report)"),
                    (bank, "/portal/bank"), (bank, "/portal/bank/lookup?uscc=\(CreditWorld.uscc)&purpose=loan_application"),
                    (bank, "/portal/bank/loans"), (bank, "/portal/bank/events"),
                    (regulator, "/dashboard"), (regulator, "/dashboard/inclusion"), (regulator, "/dashboard/banks"),
                    (regulator, "/dashboard/quality"), (regulator, "/dashboard/model"), ("", "/portal/login"), ("", "/dashboard/login"),
                    ("", "/portal/catalogue"), (business, "/portal/catalogue"), (business, "/portal/messages"),
                ]
                var failures: [String] = []
                for (cookie, page) in pages {
                    for english in [false, true] {
                        let r = try await client.execute(
                            uri: page,
                            method: .get,
                            headers: [.cookie: cookie + (english ? "; \(Lang.cookie)=en" : "")]
                        )
                        let html = String(buffer: r.body)
                        guard r.status == .ok else {
                            failures.append("\(page) (\(english ? "en" : "zh")): \(r.status)")
                            continue
                        }
                        for p in Self.problems(html, chinese: !english) { failures.append("\(page) (\(english ? "en" : "zh")): \(p)") }
                    }
                }
                // What a person gets wrong is told in their language too: a form refused, an action
                // in conflict, a page that is not there.
                let (session, csrf) = try await PortalTests.session(client, key: w.business, page: "/portal/financing")
                for english in [false, true] {
                    let cookie = session + (english ? "; \(Lang.cookie)=en" : "")
                    let refused = try await client.execute(
                        uri: "/portal/demands",
                        method: .post,
                        headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded", .accept: "text/html"],
                        body: ByteBuffer(string: "csrf=\(csrf)&amount_yuan=5000000000000&term_months=999&purpose=")
                    )
                    let conflict = try await client.execute(
                        uri: "/portal/objections",
                        method: .post,
                        headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded", .accept: "text/html"],
                        body: ByteBuffer(string: "csrf=\(csrf)&dataset=tax_filing&record_id=\(taxRecord)&reason=again")
                    )
                    let back = try #require(conflict.headers[.location])
                    let told = try await client.execute(uri: back, method: .get, headers: [.cookie: cookie])
                    let missing = try await client.execute(
                        uri: "/portal/reports/XYD-NONE",
                        method: .get,
                        headers: [.cookie: cookie, .accept: "text/html"]
                    )
                    #expect(refused.status == .unprocessableContent && missing.status == .notFound)
                    #expect(missing.headers[.contentType]?.hasPrefix("text/html") == true)
                    if !english {
                        #expect(String(buffer: refused.body).contains("金额"), "\(String(buffer: refused.body))")
                        #expect(String(buffer: told.body).contains("这条记录已有待处理的异议"), "\(String(buffer: told.body))")
                        #expect(String(buffer: missing.body).contains("没有找到"))
                    }
                    for (what, r) in [("refused form", refused), ("conflict", told), ("missing page", missing)] {
                        for p in Self.problems(String(buffer: r.body), chinese: !english) {
                            failures.append("\(what) (\(english ? "en" : "zh")): \(p)")
                        }
                    }
                }
                #expect(failures.isEmpty, "\(failures.count) problems:\n\(Array(Set(failures)).sorted().joined(separator: "\n"))")
            }
        }
    }
}
