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

/// The regulators' dashboard over HTTP: sign-in, session cookie, pages, sign-out.
@Suite struct DashboardTests {
    static let pages = ["/dashboard", "/dashboard/inclusion", "/dashboard/banks", "/dashboard/quality", "/dashboard/model"]

    /// A person of the key's organisation signs in to the dashboard, going on to the banks' page.
    static func signIn(_ client: some TestClientProtocol, key: String) async throws -> TestResponse {
        try await People.signIn(client, key: key, area: "/dashboard", next: "/dashboard/banks")
    }

    static func cookie(_ r: TestResponse) -> String? {
        r.headers[.setCookie].flatMap { $0.split(separator: ";").first.map(String.init) }
    }

    @Test func aRegulatorSignsInReadsEveryPageAndSignsOut() async throws {
        try await TestDatabase.with { db in
            let w = try await StatWorld.make(db)
            try await Stats.refresh(db.app, today: Day(year: 2026, month: 11, day: 2)!)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                // No session: every page sends the browser to sign in, remembering where it was going.
                let away = try await client.execute(uri: "/dashboard/model", method: .get)
                #expect(away.status == .seeOther && away.headers[.location] == "/dashboard/login?next=/dashboard/model")
                // Only a regulator's key opens a session.
                for kind in OrgKind.allCases where kind != .regulator {
                    let r = try await Self.signIn(client, key: w.keys.byKind[kind]!)
                    // No session cookie (the sign-in form's own anti-forgery cookie is renewed).
                    #expect(
                        r.status == .unauthorized && !r.headers[values: .setCookie].contains { $0.hasPrefix("xyd_session=") },
                        "\(kind)"
                    )
                }
                #expect(try await Self.signIn(client, key: "xyd_nonsense").status == .unauthorized)
                let signed = try await Self.signIn(client, key: w.keys.byKind[.regulator]!)
                #expect(signed.status == .seeOther && signed.headers[.location] == "/dashboard/banks")
                let setCookie = try #require(signed.headers[.setCookie])
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict") && setCookie.contains("Path=/"))
                let cookie = try #require(Self.cookie(signed))
                for page in Self.pages {
                    let r = try await client.execute(uri: page, method: .get, headers: [.cookie: cookie])
                    #expect(r.status == .ok, "\(page)")
                    let html = String(buffer: r.body)
                    #expect(r.headers[.contentType]?.hasPrefix("text/html") == true)
                    #expect(html.contains("<!doctype html>") && html.contains("Test regulator") && !html.contains("<script"), "\(page)")
                    // No enterprise named anywhere.
                    for l in w.loans { #expect(!html.contains(l.uscc), "\(page) names \(l.uscc)") }
                }
                let overview = String(buffer: try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: cookie]).body)
                #expect(overview.contains("<svg") && overview.contains("<title id=") && overview.contains("融资漏斗"))
                // The published figure is on hover: 320614 disbursed ¥7,200,000, published as ¥7,000,000 (shown as 700.00万元).
                #expect(overview.contains("title=\"¥7,000,000.00\"") && overview.contains("700.00万元"))
                #expect(overview.contains("计数按 5、金额按 100 万元各自修约"))
                // A bad filter is named on the page.
                #expect(
                    try await client.execute(uri: "/dashboard?from=2026-13", method: .get, headers: [.cookie: cookie]).status
                        == .unprocessableContent
                )
                // Sign-out needs the session's CSRF token.
                let refused = try await client.execute(
                    uri: "/dashboard/logout",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "csrf=forged")
                )
                #expect(refused.status == .forbidden)
                let page = String(buffer: try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: cookie]).body)
                let csrf = try #require(page.range(of: "name=\"csrf\" value=\"").map { page[$0.upperBound...].prefix { $0 != "\"" } })
                let out = try await client.execute(
                    uri: "/dashboard/logout",
                    method: .post,
                    headers: [.cookie: cookie, .contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: "csrf=\(csrf)")
                )
                #expect(out.status == .seeOther && out.headers[.setCookie]?.contains("Max-Age=0") == true)
                #expect(try await client.execute(uri: "/dashboard", method: .get, headers: [.cookie: cookie]).status == .seeOther)
            }
        }
    }

    /// A person's session hangs on the person, not on a key: revoking the organisation's keys
    /// leaves it; disabling the person (over the API, by an admin) ends it at once.
    @Test func disablingThePersonEndsTheirSessionsAtOnce() async throws {
        try await TestDatabase.with { db in
            let keys = try await Keys.make(db)
            try await buildApplication(try testConfig(db)).test(.router) { client in
                let cookie = try #require(Self.cookie(try await Self.signIn(client, key: keys.byKind[.regulator]!)))
                #expect(try await client.execute(uri: "/dashboard/quality", method: .get, headers: [.cookie: cookie]).status == .ok)
                let person: UUID = try await db.owner.scalar("SELECT id FROM org_user WHERE org_id = '\(keys.orgIds[.regulator]!)'")
                // Another admin disables them (the last admin could not be).
                _ = try #require(try await People.make(client, key: keys.byKind[.regulator]!))
                let disabled = try await client.execute(
                    uri: "/v1/users/\(person)/disable",
                    method: .post,
                    headers: bearer(keys.byKind[.regulator]!)
                )
                #expect(disabled.status == .ok, "\(String(buffer: disabled.body))")
                #expect(try await client.execute(uri: "/dashboard/quality", method: .get, headers: [.cookie: cookie]).status == .seeOther)
                let audited: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'user.disable' AND subject_id = '\(person.uuidString.lowercased())'"
                )
                #expect(audited == 1)
            }
        }
    }

    @Test func chineseNumbersAreShortWithTheExactFigureKept() {
        #expect(Html.yuanExact(123_456_789) == "¥1,234,567.89")
        #expect(Html.yuanShort(35_200_000_000) == "3.52亿元")
        #expect(Html.yuanShort(86_300_000) == "86.30万元")
        #expect(Html.yuanShort(987_650) == "¥9,877")
        #expect(Html.yuanTick(619_900_000) == "620万" && Html.yuanTick(35_200_000_000) == "3.5亿" && Html.yuanTick(0) == "¥0")
        #expect(Html.countShort(123_456) == "12.3万" && Html.countShort(9_999) == "9,999")
        #expect(Html.escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;")
    }
}
