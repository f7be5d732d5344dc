import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// The business's message centre: each change that concerns it, written once with the change;
/// bank reads from the audit log; unread until marked seen.
@Suite struct MessagesTests {
    struct Inbox: Decodable {
        struct M: Decodable {
            let id: String
            let kind: String
            let unread: Bool
        }
        let items: [M]
        let unread: Int
        let next: String?
    }

    @Test func whatConcernsTheBusinessReachesItOnceAndReadsComeFromTheAuditLog() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let today = Day.todayInChina()
            try await w.app(db).test(.router) { client in
                func inbox() async throws -> Inbox {
                    try decodeJSON(Inbox.self, try await client.execute(uri: "/v1/me/messages", method: .get, headers: bearer(w.business)))
                }
                #expect(try await inbox().items.isEmpty)
                // A new penalty recorded: the business is told with the recomputed profile.
                try await DisclosureTests.store(
                    db,
                    .administrativePenalty,
                    [
                        DisclosureTests.row(
                            "P-MSG",
                            CreditWorld.uscc,
                            #"{"decision_no":"通罚P-MSG","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-5))","violation":"超标排放污染物","severity":"general","fine_amount_fen":500000,"publicity_ends_on":"\#(today.addingMonths(6))"}"#
                        )
                    ]
                )
                try await CreditWorld.drain(db.app)
                #expect(try await inbox().items.map(\.kind).contains("record.new_penalty"))
                // Past its three months it may be repaired: told once, however often the sweep runs.
                for _ in 0..<2 {
                    _ = try await db.app.withTransaction { c in try await Messages.repairable(c, logger: db.app.logger, today: today) }
                }
                #expect(try await inbox().items.filter { $0.kind == "penalty.repairable" }.count == 1)
                // A bank's read, from the audit log.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                #expect(
                    try await client.execute(
                        uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                        method: .get,
                        headers: bearer(w.bank)
                    ).status == .ok
                )
                // A bank takes its demand up and offers.
                let id = try await DemandWorkflowTests().setUp(client, w, banks: [w.bank])
                #expect(try await client.execute(uri: "/v1/demands/\(id)/take-up", method: .post, headers: bearer(w.bank)).status == .ok)
                #expect(
                    try await client.execute(
                        uri: "/v1/demands/\(id)/offer",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(DemandWorkflowTests.offerBody())
                    ).status == .ok
                )
                let all = try await inbox()
                let kinds = all.items.map(\.kind)
                for kind in ["record.new_penalty", "penalty.repairable", "bank.read", "demand.state_changed", "demand.offer_made"] {
                    #expect(kinds.contains(kind), "\(kind) in \(kinds)")
                }
                // A page at a time: the pages joined are the whole list, each message once, in order.
                var paged: [String] = []
                var before: String?
                repeat {
                    let uri =
                        "/v1/me/messages?limit=2"
                        + (before.map { "&before=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")
                    let page = try decodeJSON(Inbox.self, try await client.execute(uri: uri, method: .get, headers: bearer(w.business)))
                    #expect(page.items.count <= 2 && page.unread == all.unread)
                    paged += page.items.map(\.id)
                    before = page.next
                } while before != nil && paged.count <= all.items.count
                #expect(paged == all.items.map(\.id), "\(paged) vs \(all.items.map(\.id))")
                for bad in ["limit=0", "limit=abc", "limit=101", "before=xyz", "before=1/b2", "before=-5/m1"] {
                    let r = try await client.execute(uri: "/v1/me/messages?\(bad)", method: .get, headers: bearer(w.business))
                    #expect(r.status == .unprocessableContent, "\(bad)")
                }
                // Its own moves (posting the demand) are not told back to it.
                #expect(kinds.filter { $0 == "demand.state_changed" }.count == 1)
                #expect(all.unread == all.items.count && all.items.allSatisfy(\.unread))
                // The portal's header counts them on every business page.
                let (early, _) = try await PortalTests.session(client, key: w.business, page: "/portal/access")
                let header = String(buffer: try await client.execute(uri: "/portal/access", method: .get, headers: [.cookie: early]).body)
                #expect(header.contains("aria-label=\"\(all.unread) 条未读\""), "\(all.unread)")
                // Marked seen: nothing unread until the next change.
                #expect(try await client.execute(uri: "/v1/me/messages/seen", method: .post, headers: bearer(w.business)).status == .ok)
                let seen = try await inbox()
                #expect(seen.unread == 0 && !seen.items.contains { $0.unread })
                let quiet = String(buffer: try await client.execute(uri: "/portal/access", method: .get, headers: [.cookie: early]).body)
                #expect(!quiet.contains("条未读"))
                // Another business sees none of them.
                let other = try decodeJSON(
                    Inbox.self,
                    try await client.execute(uri: "/v1/me/messages", method: .get, headers: bearer(w.otherBusinessKey))
                )
                #expect(other.items.isEmpty)
                // The page says them in words, in both languages.
                let (cookie, _) = try await PortalTests.session(client, key: w.business, page: "/portal/messages")
                for (lang, words) in [
                    ("zh", ["新增一条行政处罚记录", "可申请信用修复", "对您的融资需求报价"]), ("en", ["A new administrative penalty", "Messages"]),
                ] {
                    let html = String(
                        buffer: try await client.execute(
                            uri: "/portal/messages",
                            method: .get,
                            headers: [.cookie: cookie + (lang == "en" ? "; xyd_lang=en" : "")]
                        ).body
                    )
                    for word in words { #expect(html.contains(word), "\(lang): \(word)") }
                }
                // Older messages a page away, on the portal too.
                let first = String(
                    buffer: try await client.execute(uri: "/portal/messages?limit=2", method: .get, headers: [.cookie: cookie]).body
                )
                #expect(first.contains("更早的消息") && first.contains("/portal/messages?before="))
            }
        }
    }
}
