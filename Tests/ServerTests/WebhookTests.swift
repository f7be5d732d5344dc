import CreditCore
import Crypto
import Curl
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Server
import Store
import TestSupport
import Testing

/// Webhooks to a receiver on loopback: signed, retried after 500s, in order per enterprise.
@Suite struct WebhookTests {
    /// Whether `X-Xyd-Signature` (`t=…,v1=…`) is HMAC-SHA256 with `secret` over "t.body".
    static func signedBy(_ secret: String, signature: String, body: String) -> Bool {
        let parts = Dictionary(
            signature.split(separator: ",").map { p in
                let kv = p.split(separator: "=", maxSplits: 1)
                return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
            },
            uniquingKeysWith: { first, _ in first }
        )
        guard let t = parts["t"].flatMap({ Int($0) }) else { return false }
        return signature == Webhooks.signature(secret: secret, timestamp: t, body: Array(body.utf8))
    }

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
                $0.append(
                    Received(
                        eventId: request.headers[HTTPField.Name("X-Xyd-Event-Id")!] ?? "",
                        signature: request.headers[HTTPField.Name("X-Xyd-Signature")!] ?? "",
                        body: String(buffer: body),
                        answered: status
                    )
                )
            }
            return Response(status: .init(code: status))
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { hook in
            try await TestDatabase.with { db in
                let w = try await CreditWorld.make(db)
                let config = try testConfig(
                    db,
                    [
                        "XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_WEBHOOK_ALLOW_LOOPBACK": "true",
                        "XYD_WEBHOOK_LOOPBACK_PORTS": "\(hook.port!)",
                    ]
                )
                let app = try buildApplication(config)
                try await app.test(.router) { client in
                    // Endpoints: loopback allowed here; other hosts only from the allow-list.
                    for bad in ["http://example.com/hook", "ftp://127.0.0.1/hook", "not a url"] {
                        let r = try await client.execute(
                            uri: "/v1/webhooks",
                            method: .post,
                            headers: bearer(w.bank).merging(.json),
                            body: jsonBody("{\"url\": \"\(bad)\"}")
                        )
                        #expect(r.status == .unprocessableContent, "\(bad)")
                    }
                    let registered = try await client.execute(
                        uri: "/v1/webhooks",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody("{\"url\": \"http://127.0.0.1:\(hook.port!)/hook\"}")
                    )
                    #expect(registered.status == .created)
                    struct Created: Decodable { let secret: String }
                    let secret = try decodeJSON(Created.self, registered).secret

                    // A demand the bank takes up and grants: two events for it, about one enterprise.
                    let product =
                        #"{"name": "Open", "kind": "credit", "amount_min_fen": 1000000, "amount_max_fen": 300000000, "term_min_months": 1, "term_max_months": 60, "rate_min_bp": 400, "rate_max_bp": 600, "rules": []}"#
                    struct Id: Decodable { let id: UUID }
                    let pid = try decodeJSON(
                        Id.self,
                        try await client.execute(
                            uri: "/v1/products",
                            method: .post,
                            headers: bearer(w.bank).merging(.json),
                            body: jsonBody(product)
                        )
                    ).id
                    _ = try await client.execute(uri: "/v1/products/\(pid)/publish", method: .post, headers: bearer(w.bank))
                    struct Posted: Decodable { let demand: Id }
                    let did = try decodeJSON(
                        Posted.self,
                        try await client.execute(
                            uri: "/v1/me/demands",
                            method: .post,
                            headers: bearer(w.business).merging(.json),
                            body: jsonBody(
                                #"{"amount_fen": 20000000, "term_months": 12, "purpose": "stock", "collateral_offered": false, "first_loan": false}"#
                            )
                        )
                    ).demand.id
                    #expect(
                        try await client.execute(uri: "/v1/demands/\(did)/take-up", method: .post, headers: bearer(w.bank)).status == .ok
                    )
                    try await w.lend(client, demand: did)

                    // Deliver; between rounds the back-off is skipped by moving the next attempt to now.
                    let curl = CurlClient()
                    defer { curl.shutdown() }
                    for _ in 0..<6 {
                        try await Webhooks.deliverDue(db.app) {
                            try await WebhookService.send($0, curl: curl, policy: config.webhookPolicy)
                        }
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
                    for r in got { #expect(WebhookTests.signedBy(secret, signature: r.signature, body: r.body)) }
                    // The bank's delivery log.
                    struct Log: Decodable {
                        struct L: Decodable {
                            let attempts: Int
                            let delivered_at: Date?
                            let type: String
                        }
                        let items: [L]
                    }
                    let log = try decodeJSON(
                        Log.self,
                        try await client.execute(uri: "/v1/webhooks/deliveries", method: .get, headers: bearer(w.bank))
                    )
                    #expect(log.items.map(\.attempts) == [1, 3])
                    #expect(log.items.allSatisfy { $0.delivered_at != nil && $0.type == "demand.state_changed" })
                }
            }
        }
    }

    @Test func profileChangesAreEventsForTheBanksWatching() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                // The bank watches the business (post-loan monitoring); the other bank does not.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"], purpose: "post_loan_monitoring")
                // Four months of arrears arrive: the score falls by 80 points and arrears start.
                try await CreditWorld.store(db.app, CreditWorld.insurance(CreditWorld.uscc, months: 4, arrears: 4, version: 2))
                try await CreditWorld.drain(db.app)
                let events: [String] = try await db.owner.withConnection { c in
                    try await c.query("SELECT type || '@' || bank_org_id::text FROM webhook_event ORDER BY id", logger: db.owner.logger)
                        .collect().map { try $0.decode(String.self) }
                }
                let bank = w.bankId.uuidString.lowercased()
                #expect(events == ["profile.score_moved@\(bank)", "arrears.social_insurance_started@\(bank)"], "\(events)")
                let payload: String = try await db.owner.scalar(
                    "SELECT payload::text FROM webhook_event WHERE type = 'profile.score_moved'"
                )
                #expect(payload.contains("\"from\": 760") && payload.contains("\"to\": 680"))
                // The same data again: nothing new.
                try await db.owner.execute("INSERT INTO profile_queue (uscc) VALUES ('\(CreditWorld.uscc)')")
                try await CreditWorld.drain(db.app)
                #expect(try await db.owner.scalar("SELECT count(*)::int FROM webhook_event") == 2)
            }
        }
    }
}

/// The webhook service inside the server, against receivers that refuse, die and come back.
@Suite struct WebhookDeliveryTests {
    static let otherUSCC = CreditWorld.otherUSCC

    /// Writes an event for the bank, as a change in the service would.
    static func emit(_ db: TestDatabase, bank: UUID, uscc: String, _ n: Int) async throws {
        try await db.app.withTransaction { c in
            try await Webhooks.emit(
                c,
                logger: db.app.logger,
                bank: bank,
                uscc: uscc,
                type: "profile.score_moved",
                payload: ["n": .number(String(n))]
            )
        }
    }

    static func eventIds(_ db: TestDatabase) async throws -> [String: [String]] {
        let rows: [(String, String)] = try await db.owner.withConnection { c in
            try await c.query("SELECT uscc, event_id::text FROM webhook_event ORDER BY id", logger: db.owner.logger)
                .collect().map { try $0.decode((String, String).self) }
        }
        return Dictionary(grouping: rows, by: \.0).mapValues { $0.map(\.1) }
    }

    @Test func noEventIsLostAcrossAServerRestart() async throws {
        let received = Locked<[(id: String, status: Int)]>([])
        let accepting = Locked(false)
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            let status = accepting.withLock { $0 } ? 200 : 503
            received.withLock { $0.append((request.headers[HTTPField.Name("X-Xyd-Event-Id")!] ?? "", status)) }
            return Response(status: .init(code: status))
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { hook in
            try await TestDatabase.with { db in
                let w = try await CreditWorld.make(db)
                let config = try testConfig(
                    db,
                    [
                        "XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_WEBHOOK_ALLOW_LOOPBACK": "true",
                        "XYD_WEBHOOK_LOOPBACK_PORTS": "\(hook.port!)",
                    ]
                )
                // The first server: the endpoint is registered, events happen, the receiver refuses them.
                try await buildApplication(config).test(.router) { client in
                    let r = try await client.execute(
                        uri: "/v1/webhooks",
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody("{\"url\": \"http://127.0.0.1:\(hook.port!)/hook\"}")
                    )
                    #expect(r.status == .created)
                    for n in 1...2 { try await Self.emit(db, bank: w.bankId, uscc: CreditWorld.uscc, n) }
                    try await Self.emit(db, bank: w.bankId, uscc: Self.otherUSCC, 1)
                    // The first event of each enterprise is tried (and refused); the later one waits its turn.
                    try await eventually("both enterprises' first events tried") { Set(received.withLock { $0.map(\.id) }).count == 2 }
                }
                // The server is down: another event happens.
                try await Self.emit(db, bank: w.bankId, uscc: CreditWorld.uscc, 3)
                accepting.withLock { $0 = true }
                // Not wait out the back-off: retries are due now.
                try await db.owner.execute("UPDATE webhook_delivery SET next_attempt_at = now()")
                // The second server delivers everything, each once, in order per enterprise.
                try await buildApplication(config).test(.router) { _ in
                    try await eventually("every delivery delivered") {
                        try await db.owner.scalar("SELECT count(*)::int FROM webhook_delivery WHERE delivered_at IS NULL") == 0
                    }
                }
                let ids = try await Self.eventIds(db)
                let accepted = received.withLock { $0.filter { $0.status == 200 }.map(\.id) }
                #expect(accepted.count == 4 && Set(accepted).count == 4, "\(accepted)")
                #expect(accepted.filter { ids[CreditWorld.uscc]!.contains($0) } == ids[CreditWorld.uscc]!)
                #expect(accepted.filter { ids[Self.otherUSCC]!.contains($0) } == ids[Self.otherUSCC]!)
            }
        }
    }

    @Test func aDeadReceiverIsGivenUpAfterADayAndReplayDeliversAgain() async throws {
        let received = Locked<[String]>([])
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append(request.headers[HTTPField.Name("X-Xyd-Event-Id")!] ?? "") }
            return Response(status: .noContent)
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { hook in
            try await TestDatabase.with { db in
                let w = try await CreditWorld.make(db)
                let config = try testConfig(
                    db,
                    [
                        "XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_WEBHOOK_ALLOW_LOOPBACK": "true",
                        "XYD_WEBHOOK_LOOPBACK_PORTS": "\(hook.port!),1",
                    ]
                )
                try await buildApplication(config).test(.router) { client in
                    struct Created: Decodable {
                        struct E: Decodable { let id: UUID }
                        let endpoint: E
                    }
                    // A closure, not a local function: Swift 6.3 wrongly warns of a local function here that
                    // its `try` covers nothing.
                    let register: (String) async throws -> UUID = { url in
                        let r = try await client.execute(
                            uri: "/v1/webhooks",
                            method: .post,
                            headers: bearer(w.bank).merging(.json),
                            body: jsonBody("{\"url\": \"\(url)\"}")
                        )
                        return try decodeJSON(Created.self, r).endpoint.id
                    }
                    // Nothing listens on port 1: every attempt is a transport error.
                    let dead = try await register("http://127.0.0.1:1/hook")
                    for n in 1...2 { try await Self.emit(db, bank: w.bankId, uscc: CreditWorld.uscc, n) }
                    try await Self.emit(db, bank: w.bankId, uscc: Self.otherUSCC, 1)
                    try await eventually("first attempts fail") {
                        try await db.owner.scalar(
                            "SELECT count(*)::int FROM webhook_delivery WHERE attempts > 0 AND last_error IS NOT NULL"
                        ) == 2
                    }
                    #expect(try await db.owner.scalar("SELECT count(*)::int FROM webhook_delivery WHERE delivered_at IS NOT NULL") == 0)
                    // A day later: given up, one after another (a given-up event no longer holds back the next).
                    try await db.owner.execute(
                        "UPDATE webhook_delivery SET queued_at = now() - interval '25 hours', next_attempt_at = now()"
                    )
                    try await eventually("all given up") {
                        try await db.owner.execute(
                            "UPDATE webhook_delivery SET queued_at = now() - interval '25 hours', next_attempt_at = now() WHERE failed_at IS NULL"
                        )
                        return try await db.owner.scalar("SELECT count(*)::int FROM webhook_delivery WHERE failed_at IS NOT NULL") == 3
                    }

                    // The log, a page at a time, newest first.
                    struct Log: Decodable {
                        struct L: Decodable {
                            let sequence: Int64
                            let failed_at: Date?
                            let last_error: String?
                            let endpoint_id: UUID
                        }
                        let items: [L]
                        let next: String?
                    }
                    let first = try decodeJSON(
                        Log.self,
                        try await client.execute(uri: "/v1/webhooks/deliveries?limit=2", method: .get, headers: bearer(w.bank))
                    )
                    #expect(first.items.count == 2 && first.next != nil)
                    let cursor = first.next!.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
                    let second = try decodeJSON(
                        Log.self,
                        try await client.execute(
                            uri: "/v1/webhooks/deliveries?limit=2&before=\(cursor)",
                            method: .get,
                            headers: bearer(w.bank)
                        )
                    )
                    #expect(second.items.count == 1 && second.next == nil)
                    let log = first.items + second.items
                    #expect(log.map(\.sequence) == log.map(\.sequence).sorted(by: >))
                    #expect(log.allSatisfy { $0.failed_at != nil && $0.last_error != nil && $0.endpoint_id == dead })
                    let from = log.map(\.sequence).min()!

                    // The bank's receiver is back at a new address: replay from the first event onto it.
                    let live = try await register("http://127.0.0.1:\(hook.port!)/hook")
                    func replay(_ key: String, _ endpoint: UUID, _ body: String) async throws -> TestResponse {
                        try await client.execute(
                            uri: "/v1/webhooks/\(endpoint)/replay",
                            method: .post,
                            headers: bearer(key).merging(.json),
                            body: jsonBody(body)
                        )
                    }
                    #expect(try await replay(w.otherBankKey, live, "{\"from_sequence\": \(from)}").status == .notFound)
                    #expect(try await replay(w.bank, live, "{\"from_sequence\": 0}").status == .unprocessableContent)
                    struct Replayed: Decodable {
                        let queued: Int
                        let next_sequence: Int64?
                    }
                    let replayed = try decodeJSON(Replayed.self, try await replay(w.bank, live, "{\"from_sequence\": \(from)}"))
                    #expect(replayed.queued == 3 && replayed.next_sequence == nil)
                    try await eventually("the replay delivered") { received.withLock { $0.count } == 3 }
                    let ids = try await Self.eventIds(db)
                    let got = received.withLock { $0 }
                    #expect(got.filter { ids[CreditWorld.uscc]!.contains($0) } == ids[CreditWorld.uscc]!)
                    #expect(got.filter { ids[Self.otherUSCC]!.contains($0) } == ids[Self.otherUSCC]!)
                    // Replaying onto the dead endpoint starts its day over.
                    #expect(try decodeJSON(Replayed.self, try await replay(w.bank, dead, "{\"from_sequence\": \(from)}")).queued == 3)
                    #expect(
                        try await db.owner.scalar(
                            "SELECT count(*)::int FROM webhook_delivery WHERE endpoint_id = '\(dead)' AND failed_at IS NULL"
                        ) == 3
                    )
                    #expect(try await db.owner.scalar("SELECT count(*)::int FROM audit_log WHERE action = 'webhook.replay'") == 2)
                }
            }
        }
    }
}

/// Businesses' webhooks: the same endpoints, signatures and delivery as the banks', carrying what
/// its message centre holds and each bank read, only while it has an endpoint.
@Suite struct BusinessWebhookTests {
    @Test func aBusinessWithAnEndpointIsToldOfItsMessagesAndOfEachBankReadSigned() async throws {
        let received = Locked<[(signature: String, body: String)]>([])
        let router = Router()
        router.post("/mine") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            received.withLock { $0.append((request.headers[HTTPField.Name("X-Xyd-Signature")!] ?? "", String(buffer: body))) }
            return Response(status: .ok)
        }
        let receiver = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await receiver.test(.live) { hook in
            try await TestDatabase.with { db in
                let w = try await CreditWorld.make(db)
                let config = try testConfig(
                    db,
                    [
                        "XYD_SIGNING_KEY_FILE": w.signingKeyFile, "XYD_WEBHOOK_ALLOW_LOOPBACK": "true",
                        "XYD_WEBHOOK_LOOPBACK_PORTS": "\(hook.port!)",
                    ]
                )
                try await buildApplication(config).test(.router) { client in
                    let today = Day.todayInChina()
                    // Before it registers, nothing is written for it (its message centre has it all).
                    _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                    func read() async throws {
                        let r = try await client.execute(
                            uri: "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application",
                            method: .get,
                            headers: bearer(w.bank)
                        )
                        #expect(r.status == .ok)
                    }
                    try await read()
                    _ = try await Audit.sealAll(db.app)
                    let before: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_event e JOIN organisations o ON o.id = e.bank_org_id WHERE o.kind = 'enterprise'"
                    )
                    #expect(before == 0)
                    // The business registers an endpoint, under the same address rules as a bank.
                    let bad = try await client.execute(
                        uri: "/v1/webhooks",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(#"{"url": "http://example.com/mine"}"#)
                    )
                    #expect(bad.status == .unprocessableContent)
                    let registered = try await client.execute(
                        uri: "/v1/webhooks",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody("{\"url\": \"http://127.0.0.1:\(hook.port!)/mine\"}")
                    )
                    #expect(registered.status == .created, "\(String(buffer: registered.body))")
                    struct Created: Decodable { let secret: String }
                    let secret = try decodeJSON(Created.self, registered).secret
                    // A regulator has no endpoints.
                    #expect(
                        try await client.execute(uri: "/v1/webhooks", method: .get, headers: bearer(w.keys.byKind[.regulator]!)).status
                            == .forbidden
                    )
                    // A bank reads (the audit trigger) and a penalty arrives (a message).
                    try await read()
                    try await DisclosureTests.store(
                        db,
                        .administrativePenalty,
                        [
                            DisclosureTests.row(
                                "P-HOOK",
                                CreditWorld.uscc,
                                #"{"decision_no":"通罚P-HOOK","authority":"南通市生态环境局","decided_on":"\#(today.addingMonths(-1))","violation":"超标排放污染物","severity":"general","fine_amount_fen":500000,"publicity_ends_on":"\#(today.addingMonths(6))"}"#
                            )
                        ]
                    )
                    try await CreditWorld.drain(db.app)
                    // Reads become events as the sealer chains their audit rows (once: sealing again adds none).
                    for _ in 0..<2 { _ = try await Audit.sealAll(db.app) }
                    let curl = CurlClient()
                    defer { curl.shutdown() }
                    for _ in 0..<4 {
                        try await Webhooks.deliverDue(db.app) {
                            try await WebhookService.send($0, curl: curl, policy: config.webhookPolicy)
                        }
                    }
                    let got = received.withLock { $0 }
                    let types = got.compactMap { (try? JSONParser.parse(Array($0.body.utf8)))?["type"]?.stringValue }
                    // Each once; their order is the order they were written (the app's own sealer may chain the
                    // read before the penalty's profile is computed, or after).
                    #expect(types.sorted() == ["bank.read", "record.new_penalty"], "\(types)")
                    for r in got {
                        #expect(WebhookTests.signedBy(secret, signature: r.signature, body: r.body))
                        let data = (try? JSONParser.parse(Array(r.body.utf8)))?["data"]
                        #expect(data?["uscc"]?.stringValue == CreditWorld.uscc)
                    }
                    let read = got.compactMap { try? JSONParser.parse(Array($0.body.utf8)) }.first {
                        $0["type"]?.stringValue == "bank.read"
                    }?["data"]
                    #expect(read?["bank"]?.stringValue == "Test bank" && read?["at"]?.stringValue?.hasSuffix("Z") == true)
                    // Its delivery log holds its own events only; the bank's holds none of them.
                    struct Log: Decodable {
                        struct L: Decodable { let type: String }
                        let items: [L]
                    }
                    let mine = try decodeJSON(
                        Log.self,
                        try await client.execute(uri: "/v1/webhooks/deliveries", method: .get, headers: bearer(w.business))
                    )
                    #expect(Set(mine.items.map(\.type)) == ["bank.read", "record.new_penalty"])
                    let banks = try decodeJSON(
                        Log.self,
                        try await client.execute(uri: "/v1/webhooks/deliveries", method: .get, headers: bearer(w.bank))
                    )
                    #expect(!banks.items.contains { $0.type == "bank.read" })
                    // Another business, with no endpoint, gets no events.
                    let others: Int = try await db.owner.scalar(
                        "SELECT count(*)::int FROM webhook_event WHERE uscc = '\(CreditWorld.otherUSCC)'"
                    )
                    #expect(others == 0)
                }
            }
        }
    }
}
