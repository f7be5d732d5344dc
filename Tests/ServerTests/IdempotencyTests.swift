import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Server
import Store
import TestSupport
import Testing

/// `Idempotency-Key` on POSTs: retries get the first response and change nothing.
@Suite struct IdempotencyTests {
    static let key = HTTPField.Name("Idempotency-Key")!
    static let demand =
        #"{"amount_fen": 20000000, "term_months": 12, "purpose": "working capital", "collateral_offered": false, "first_loan": false}"#

    @Test func fiftyConcurrentRetriesHaveOneEffect() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                var headers = bearer(w.business).merging(.json)
                headers[Self.key] = "demand-2026-11-28-0001"
                let frozen = headers
                let bodies = try await withThrowingTaskGroup(of: (HTTPResponse.Status, String).self) { group in
                    for _ in 0..<50 {
                        group.addTask {
                            let r = try await client.execute(
                                uri: "/v1/me/demands",
                                method: .post,
                                headers: frozen,
                                body: jsonBody(Self.demand)
                            )
                            return (r.status, String(buffer: r.body))
                        }
                    }
                    var all: [(HTTPResponse.Status, String)] = []
                    for try await r in group { all.append(r) }
                    return all
                }
                let created = bodies.filter { $0.0 == .created }
                let busy = bodies.filter { $0.0 == .conflict }
                #expect(created.count + busy.count == 50, "\(bodies.map(\.0))")
                #expect(created.count >= 1)
                #expect(Set(created.map(\.1)).count == 1, "every retry that got an answer got the same one")
                let demands: Int = try await db.owner.scalar("SELECT count(*)::int FROM demand")
                #expect(demands == 1)
                // Once finished, a retry is replayed, and says so.
                let replay = try await client.execute(uri: "/v1/me/demands", method: .post, headers: frozen, body: jsonBody(Self.demand))
                #expect(replay.status == .created && String(buffer: replay.body) == created[0].1)
                #expect(replay.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                // The same key with another body: 422, nothing done.
                let other = try await client.execute(
                    uri: "/v1/me/demands",
                    method: .post,
                    headers: frozen,
                    body: jsonBody(Self.demand.replacingOccurrences(of: "20000000", with: "30000000"))
                )
                #expect(other.status == .unprocessableContent)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 1)
                // Another organisation's identical key is its own.
                var theirs = bearer(w.otherBusinessKey).merging(.json)
                theirs[Self.key] = "demand-2026-11-28-0001"
                #expect(
                    try await client.execute(uri: "/v1/me/demands", method: .post, headers: theirs, body: jsonBody(Self.demand)).status
                        == .created
                )
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 2)
            }
        }
    }

    @Test func aRefusedRequestIsReplayedAsRefusedAndABadKeyIsRefused() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                var headers = bearer(w.business).merging(.json)
                headers[Self.key] = "bad-demand"
                let bad = Self.demand.replacingOccurrences(of: "20000000", with: "0")
                let first = try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(bad))
                #expect(first.status == .unprocessableContent)
                let again = try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(bad))
                #expect(again.status == .unprocessableContent && String(buffer: again.body) == String(buffer: first.body))
                headers[Self.key] = String(repeating: "k", count: 101)
                #expect(
                    try await client.execute(uri: "/v1/me/demands", method: .post, headers: headers, body: jsonBody(Self.demand)).status
                        == .badRequest
                )
                // Without the header, each POST acts.
                for _ in 0..<2 {
                    #expect(
                        try await client.execute(
                            uri: "/v1/me/demands",
                            method: .post,
                            headers: bearer(w.business).merging(.json),
                            body: jsonBody(Self.demand)
                        ).status == .created
                    )
                }
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM demand") == 2)
            }
        }
    }
}
