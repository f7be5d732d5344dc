import Crypto
import CreditCore
import Curl
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Server
import Store
import Testing
import TestSupport

/// Webhooks to a receiver on loopback: signed, retried after 500s, in order per enterprise.
@Suite struct WebhookTests {
    struct Received: Sendable {
        let eventId: String
        let signature: String
        let body: String
        let answered: Int
    }

    @Test func eventsAreSignedRetriedAndDeliveredInOrder() async throws {
        let received = Locked<[Received]>([])
        let failFirst = 2
        let router = Router()
        router.post("/hook") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let status = received.withLock { $0.count < failFirst } ? 500 : 200
            received.withLock {
                $0.append(Received(eventId: request.headers[HTTPField.Name("X-Xyd-Event-Id")!] ?? "",
                                   signature: request.headers[HTTPField.Name("X-Xyd-Signature")!] ?? "",
                                   body: String(buffer: body), answered: status))
            }
            return Response(status: .init(code: status))
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { hook in
            try await TestDatabase.with { db in
                let w = try await CreditWorld.make(db)
                let app = try buildApplication(try testConfig(db, ["XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_WEBHOOK_ALLOW_LOOPBACK": "true"]))
                try await app.test(.router) { client in
                    // Endpoints: loopback allowed here; other hosts only from the allow-list.
                    for bad in ["http://example.com/hook", "ftp://127.0.0.1/hook", "not a url"] {
                        let r = try await client.execute(uri: "/v1/webhooks", method: .post, headers: bearer(w.bank).merging(.json),
                                                         body: jsonBody("{\"url\": \"\(bad)\"}"))
                        #expect(r.status == .unprocessableContent, "\(bad)")
                    }
                    let registered = try await client.execute(
                        uri: "/v1/webhooks", method: .post, headers: bearer(w.bank).merging(.json),
                        body: jsonBody("{\"url\": \"http://127.0.0.1:\(hook.port!)/hook\"}"))
                    #expect(registered.status == .created)
                    struct Created: Decodable { let secret: String }
                    let secret = try decodeJSON(Created.self, registered).secret

                    // A demand the bank takes up and grants: two events for it, about one enterprise.
                    let product = #"{"name": "Open", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1, "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}"#
                    struct Id: Decodable { let id: UUID }
                    let pid = try decodeJSON(Id.self, try await client.execute(uri: "/v1/products", method: .post, headers: bearer(w.bank).merging(.json), body: jsonBody(product))).id
                    _ = try await client.execute(uri: "/v1/products/\(pid)/publish", method: .post, headers: bearer(w.bank))
                    struct Posted: Decodable { let demand: Id }
                    let did = try decodeJSON(Posted.self, try await client.execute(
                        uri: "/v1/me/demands", method: .post, headers: bearer(w.business).merging(.json),
                        body: jsonBody(#"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#))).demand.id
                    #expect(try await client.execute(uri: "/v1/demands/\(did)/take-up", method: .post, headers: bearer(w.bank)).status == .ok)
                    #expect(try await client.execute(uri: "/v1/demands/\(did)/grant", method: .post, headers: bearer(w.bank).merging(.json),
                                                     body: jsonBody(#"{"amount_fen": 20000000, "term_months": 12, "rate_bp": 450}"#)).status == .ok)

                    // Deliver; between rounds the back-off is skipped by moving the next attempt to now.
                    let curl = CurlClient()
                    defer { curl.shutdown() }
                    for _ in 0..<6 {
                        try await Webhooks.deliverDue(db.app) { try await WebhookService.send($0, curl: curl) }
                        try await db.owner.execute("UPDATE webhook_delivery SET next_attempt_at = now() WHERE delivered_at IS NULL")
                    }
                    let got = received.withLock { $0 }
                    #expect(got.map(\.answered) == [500, 500, 200, 200], "\(got.map(\.answered))")
                    // The first event was retried until it got through, and only then did the second go.
                    #expect(got[0].eventId == got[1].eventId && got[1].eventId == got[2].eventId && got[3].eventId != got[0].eventId)
                    func toState(_ r: Received) -> String? { (try? JSONParser.parse(r.body))?["data"]?["to_state"]?.stringValue }
                    #expect(toState(got[2]) == "taken_up" && toState(got[3]) == "granted")
                    #expect((try? JSONParser.parse(got[3].body))?["id"]?.stringValue == got[3].eventId)
                    // Signed: HMAC-SHA256 with the endpoint's secret over "timestamp.body".
                    for r in got {
                        let parts = Dictionary(uniqueKeysWithValues: r.signature.split(separator: ",").map { p in
                            let kv = p.split(separator: "=", maxSplits: 1); return (String(kv[0]), String(kv[1])) })
                        let expected = Webhooks.signature(secret: secret, timestamp: Int(parts["t"]!)!, body: Array(r.body.utf8))
                        #expect(r.signature == expected)
                    }
                    // The bank's delivery log.
                    struct Log: Decodable { struct L: Decodable { let attempts: Int; let delivered_at: Date?; let type: String }; let items: [L] }
                    let log = try decodeJSON(Log.self, try await client.execute(uri: "/v1/webhooks/deliveries", method: .get, headers: bearer(w.bank)))
                    #expect(log.items.map(\.attempts) == [1, 3])
                    #expect(log.items.allSatisfy { $0.delivered_at != nil && $0.type == "demand.state_changed" })
                }
            }
        }
    }
}
