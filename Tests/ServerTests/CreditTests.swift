import CreditCore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Server
import Store
import TestSupport
import Testing

/// A business with a profile, two banks and a second business, over the real routes and a
/// real PostgreSQL.
struct CreditWorld: Sendable {
    static let uscc = "91320602MA1NTX016C"  // the enterprise of `Keys`
    static let otherUSCC = "91350100M000100Y43"
    let keys: Keys
    let otherBankKey: String
    let otherBankId: UUID
    let otherBusinessKey: String
    let signingKeyFile: String

    var bank: String { keys.byKind[.bank]! }
    var bankId: UUID { keys.orgIds[.bank]! }
    var business: String { keys.byKind[.enterprise]! }

    /// Social-insurance months ending last month (in China) for a business, `arrears` of the latest in arrears.
    static func insurance(_ uscc: String, months: Int, arrears: Int = 0, version: Int64 = 1) -> [StageRow] {
        (0..<months).map { i in
            let p = MonthIndex(Day.todayInChina()).adding(-1 - i)
            return StageRow(
                recordId: "si-\(uscc)-\(p)",
                version: version,
                op: .upsert,
                uscc: uscc,
                updatedAt: "2026-06-01T00:00:00+08:00",
                data:
                    "{\"period\":\"\(p)\",\"insured_headcount\":12,\"contribution_due_fen\":100,\"contribution_paid_fen\":100,\"in_arrears\":\(i < arrears)}"
            )
        }
    }

    static func store(_ db: Database, _ rows: [StageRow]) async throws {
        let cursor = try await IngestStore.position(db, dataset: .socialInsurance)
        _ = try await IngestStore.storePage(
            db,
            dataset: .socialInsurance,
            cursorBefore: cursor,
            cursorAfter: UUID().uuidString,
            hasMore: true,
            rows: rows,
            quarantine: [],
            received: rows.count
        )
    }

    /// Works the profile queue until every stored page is profiled and committed. The app's own
    /// profile service may be working it at the same time (an empty queue here can mean it holds
    /// the rows): done only when nothing is left unprofiled or queued, seen from a fresh snapshot.
    static func drain(_ db: Database) async throws {
        let cache = ScorecardCache()
        try await eventually("the profile queue drained") {
            while try await ProfileStore.takePages(db) > 0 {}
            while try await ProfileStore.workQueue(db, batch: 50, cache: cache) > 0 {}
            let left = try await db.withConnection { c in
                try await c.query(
                    """
                    SELECT (SELECT count(*) FROM ingest_batch WHERE profiled_at IS NULL) + (SELECT count(*) FROM profile_queue)
                    """,
                    logger: db.logger
                ).collect()[0].decode(Int64.self)
            }
            return left == 0
        }
    }

    static func make(_ db: TestDatabase) async throws -> CreditWorld {
        let keys = try await Keys.make(db)
        let l = db.app.logger
        let (otherBank, otherBankKey, otherBusinessKey) = try await db.app.withTransaction { c in
            let bank = try await Register.createOrganisation(on: c, logger: l, kind: .bank, name: "Other bank", uscc: nil)
            let bankKey = try await Register.issueKey(on: c, logger: l, orgId: bank.id, label: "t", expiresAt: nil, issuedBy: nil)
            let biz = try await Register.createOrganisation(on: c, logger: l, kind: .enterprise, name: "Other business", uscc: otherUSCC)
            let bizKey = try await Register.issueKey(on: c, logger: l, orgId: biz.id, label: "t", expiresAt: nil, issuedBy: nil)
            return (bank.id, bankKey.secret, bizKey.secret)
        }
        let card = TestCards.card()
        _ = try await Scorecards.publish(db.app, card: try TestCards.decode(card), file: Data(card.utf8), activate: true)
        try await store(db.app, insurance(uscc, months: 24) + insurance(otherUSCC, months: 24))
        try await drain(db.app)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("signing-\(UUID()).key").path
        _ = FileManager.default.createFile(
            atPath: file,
            contents: Data(Curve25519.Signing.PrivateKey().rawRepresentation.base64EncodedString().utf8)
        )
        return CreditWorld(
            keys: keys,
            otherBankKey: otherBankKey,
            otherBankId: otherBank,
            otherBusinessKey: otherBusinessKey,
            signingKeyFile: file
        )
    }

    func app(_ db: TestDatabase, _ extra: [String: String] = [:]) throws -> some ApplicationProtocol {
        try buildApplication(try testConfig(db, ["XYD_SIGNING_KEY_FILE": signingKeyFile].merging(extra) { _, new in new }))
    }

    /// A bank that took the demand up offers (`body`, a default offer without it) and the business
    /// accepts: the demand is granted to that bank. Returns the acceptance's response.
    @discardableResult
    func lend(
        _ client: some TestClientProtocol,
        demand: UUID,
        bankKey: String? = nil,
        body: String = DemandWorkflowTests.offerBody(amountFen: 20_000_000)
    ) async throws -> TestResponse {
        let made = try await client.execute(
            uri: "/v1/demands/\(demand)/offer",
            method: .post,
            headers: bearer(bankKey ?? bank).merging(.json),
            body: jsonBody(body)
        )
        #expect(made.status == .ok, "\(String(buffer: made.body))")
        let offer = try decodeJSON(MadeOffer.self, made).offer.id
        let accepted = try await client.execute(
            uri: "/v1/me/demands/\(demand)/offers/\(offer)/accept",
            method: .post,
            headers: bearer(business)
        )
        #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
        return accepted
    }

    /// Grants an authorisation as the business; returns its id.
    func grant(
        _ client: some TestClientProtocol,
        bank: UUID,
        scopes: [String],
        purpose: String = "loan_application",
        expires: Date = Date().addingTimeInterval(86_400)
    ) async throws -> UUID {
        let body = """
            {"bank_org_id": "\(bank)", "scopes": [\(scopes.map { "\"\($0)\"" }.joined(separator: ","))], "purpose": "\(purpose)",
             "expires_at": "\(ISO8601DateFormatter().string(from: expires))"}
            """
        let r = try await client.execute(
            uri: "/v1/me/authorisations",
            method: .post,
            headers: bearer(business).merging(.json),
            body: jsonBody(body)
        )
        #expect(r.status == .created, "\(String(buffer: r.body))")
        return try decodeJSON(Authorisation.self, r).id
    }
}

/// A bank's answer to its offer: the demand with its own part.
struct MadeOffer: Decodable {
    struct O: Decodable { let id: UUID }
    let offer: O
}

struct AuditCount: Sendable {
    static func of(_ db: TestDatabase, action: String, result: String) async throws -> Int {
        try await db.owner.scalar(
            "SELECT count(*)::int FROM audit_log WHERE subject_uscc = '\(CreditWorld.uscc)' AND action = '\(action)' AND result = '\(result)'"
        )
    }
}

@Suite struct CreditTests {
    @Test func theAuthorisationMatrixAllowsOnlyTheLiveOneAndAuditsEveryRead() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let path = "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application"
                func read(_ key: String, _ p: String = path) async throws -> TestResponse {
                    try await client.execute(uri: p, method: .get, headers: bearer(key))
                }
                var denied = 0
                func expectDenied(_ r: TestResponse, _ why: String) throws {
                    #expect(r.status == .forbidden, "\(why)")
                    #expect(try decodeProblem(r).type == Problem.Kind.authorisationRequired.uri, "\(why)")
                    denied += 1
                }
                // None at all.
                try expectDenied(try await read(w.bank), "no authorisation")
                // Another bank's.
                _ = try await w.grant(client, bank: w.otherBankId, scopes: ["profile"])
                try expectDenied(try await read(w.bank), "another bank's authorisation")
                // Wrong scope: records only.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["records"])
                try expectDenied(try await read(w.bank), "wrong scope")
                // Wrong purpose.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"], purpose: "post_loan_monitoring")
                try expectDenied(try await read(w.bank), "wrong purpose")
                // Expired.
                let expiring = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                try await db.owner.execute(
                    "UPDATE authorisation SET granted_at = now() - interval '2 days', expires_at = now() - interval '1 second' WHERE id = '\(expiring)'"
                )
                try expectDenied(try await read(w.bank), "expired")
                // Revoked.
                let revoked = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                let r = try await client.execute(uri: "/v1/me/authorisations/\(revoked)", method: .delete, headers: bearer(w.business))
                #expect(try r.status == .ok && decodeJSON(Authorisation.self, r).status == "revoked")
                try expectDenied(try await read(w.bank), "revoked")
                // A read that names no purpose is refused before anything is read.
                #expect(try await read(w.bank, "/v1/enterprises/\(CreditWorld.uscc)/profile").status == .badRequest)
                #expect(try await AuditCount.of(db, action: "profile.read", result: "denied") == denied)
                #expect(try await AuditCount.of(db, action: "profile.read", result: "allowed") == 0)

                // The live one: allowed, under that authorisation, audited.
                let live = try await w.grant(client, bank: w.bankId, scopes: ["profile", "report"])
                let ok = try await read(w.bank)
                #expect(ok.status == .ok, "\(String(buffer: ok.body))")
                struct Answer: Decodable {
                    let profile: StoredProfile
                    let authorisation_id: UUID?
                }
                let answer = try decodeJSON(Answer.self, ok)
                #expect(answer.authorisation_id == live && answer.profile.uscc == CreditWorld.uscc && answer.profile.score != nil)
                // The purpose may come in a header instead.
                let header = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/profile",
                    method: .get,
                    headers: bearer(w.bank).merging([HTTPField.Name("X-Purpose")!: "loan_application"])
                )
                #expect(header.status == .ok)
                #expect(try await AuditCount.of(db, action: "profile.read", result: "allowed") == 2)
                let auditedUnder: String = try await db.owner.scalar(
                    "SELECT detail->>'authorisation_id' FROM audit_log WHERE action = 'profile.read' AND result = 'allowed' LIMIT 1"
                )
                #expect(auditedUnder == live.uuidString.lowercased())
                // Records are another scope: the "records" authorisation granted above covers them.
                let records = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/records?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.bank)
                )
                #expect(records.status == .ok)
                let other = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.uscc)/records?purpose=credit_line_review",
                    method: .get,
                    headers: bearer(w.bank)
                )
                #expect(other.status == .forbidden)

                // The business sees who looked: allowed and denied reads, with the bank's name.
                let log = try await client.execute(uri: "/v1/me/access-log", method: .get, headers: bearer(w.business))
                struct Log: Decodable { let items: [Authorisations.Access] }
                let items = try decodeJSON(Log.self, log).items
                #expect(items.filter { $0.result == "allowed" }.count == 3)
                #expect(items.filter { $0.result == "denied" }.count == denied + 1)
                #expect(items.allSatisfy { $0.bankName == "Test bank" })
                #expect(
                    items.filter { $0.action == "profile.read" && $0.result == "allowed" }.allSatisfy {
                        $0.authorisationId == live.uuidString.lowercased() && $0.purpose == "loan_application"
                    }
                )
            }
        }
    }

    @Test func aBusinessSeesOnlyItselfAndBanksCannotUseBusinessRoutes() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                struct Answer: Decodable {
                    let profile: StoredProfile
                    let lineage: [String: [RecordRef]]?
                }
                let mine = try await client.execute(uri: "/v1/me/profile?lineage=true", method: .get, headers: bearer(w.business))
                #expect(mine.status == .ok)
                let answer = try decodeJSON(Answer.self, mine)
                #expect(answer.profile.uscc == CreditWorld.uscc)
                #expect(answer.lineage?["headcount_avg_12m"]?.count == 12)
                #expect(answer.lineage?["headcount_avg_12m"]?.allSatisfy { $0.recordId.contains(CreditWorld.uscc) } == true)
                let theirs = try await client.execute(uri: "/v1/me/profile", method: .get, headers: bearer(w.otherBusinessKey))
                #expect(try decodeJSON(Answer.self, theirs).profile.uscc == CreditWorld.otherUSCC)
                // A business cannot use a bank's route to read another business.
                let peek = try await client.execute(
                    uri: "/v1/enterprises/\(CreditWorld.otherUSCC)/profile?purpose=loan_application",
                    method: .get,
                    headers: bearer(w.business)
                )
                #expect(try peek.status == .forbidden && decodeProblem(peek).type == Problem.Kind.forbidden.uri)
                // Nor revoke another's authorisation.
                let theirGrant = try await client.execute(
                    uri: "/v1/me/authorisations",
                    method: .post,
                    headers: bearer(w.otherBusinessKey).merging(.json),
                    body: jsonBody(
                        "{\"bank_org_id\": \"\(w.bankId)\", \"scopes\": [\"profile\"], \"purpose\": \"loan_application\", \"expires_at\": \"\(ISO8601DateFormatter().string(from: Date().addingTimeInterval(3600)))\"}"
                    )
                )
                let id = try decodeJSON(Authorisation.self, theirGrant).id
                let revoke = try await client.execute(uri: "/v1/me/authorisations/\(id)", method: .delete, headers: bearer(w.business))
                #expect(revoke.status == .notFound)
                // Own records: masked, money in fen.
                let records = try await client.execute(
                    uri: "/v1/me/records?dataset=social_insurance&limit=5",
                    method: .get,
                    headers: bearer(w.business)
                )
                struct Page: Decodable {
                    let items: [Rec]
                    let next: String?
                }
                struct Rec: Decodable {
                    let record_id: String
                    let provider: String
                }
                let page = try decodeJSON(Page.self, records)
                #expect(page.items.count == 5 && page.next != nil && page.items.allSatisfy { $0.provider == "hrss" })
                let rest = try await client.execute(
                    uri: "/v1/me/records?dataset=social_insurance&limit=500&after=\(page.next!)",
                    method: .get,
                    headers: bearer(w.business)
                )
                #expect(try decodeJSON(Page.self, rest).items.count == 19)
                // Bad grants get a clear 422.
                for (body, field) in [
                    (
                        "{\"bank_org_id\": \"\(w.keys.orgIds[.regulator]!)\", \"scopes\": [\"profile\"], \"purpose\": \"loan_application\", \"expires_at\": \"2099-01-01T00:00:00Z\"}",
                        "bank_org_id"
                    ),
                    (
                        "{\"bank_org_id\": \"\(w.bankId)\", \"scopes\": [\"profile\"], \"purpose\": \"loan_application\", \"expires_at\": \"2099-01-01T00:00:00Z\"}",
                        "expires_at"
                    ),
                    (
                        "{\"bank_org_id\": \"\(w.bankId)\", \"scopes\": [], \"purpose\": \"loan_application\", \"expires_at\": \"2099-01-01T00:00:00Z\"}",
                        "scopes"
                    ),
                ] {
                    let r = try await client.execute(
                        uri: "/v1/me/authorisations",
                        method: .post,
                        headers: bearer(w.business).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .unprocessableContent, "\(field)")
                    #expect(try decodeProblem(r).errors?.first?.field == field)
                }
            }
        }
    }

    @Test func aBusinessReadsItsAdviceOverTheAPIAsThePortalShowsIt() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                struct Advice: Decodable {
                    struct Step: Decodable {
                        let feature: String
                        let current_zh: String
                        let target_zh: String
                        let gain: Int
                    }
                    let scorecard_version: String
                    let score: Int?
                    let grade: String?
                    let next_grade: String?
                    let points_needed: Int
                    let reaches: Bool
                    let steps: [Step]
                }
                let r = try await client.execute(uri: "/v1/me/advice", method: .get, headers: bearer(w.business))
                #expect(r.status == .ok)
                let a = try decodeJSON(Advice.self, r)
                // Computed from the stored profile, with the card that scored it.
                let stored = try await db.app.withConnection { c in
                    try await CheckUp.load(
                        c,
                        logger: db.app.logger,
                        uscc: CreditWorld.uscc,
                        cards: ScorecardCache(),
                        maxRecords: 10,
                        today: Day.todayInChina()
                    )
                }
                let expected = try #require(stored).advice
                #expect(a.scorecard_version == "test-1" && a.score == stored?.profile.score && a.grade == stored?.profile.grade)
                #expect(a.next_grade == expected.nextGrade && a.points_needed == expected.pointsNeeded && a.reaches == expected.reaches)
                #expect(
                    a.steps.map(\.feature) == expected.steps.map(\.feature.rawValue) && a.steps.map(\.gain) == expected.steps.map(\.gain)
                )
                #expect(!a.steps.isEmpty && a.steps.allSatisfy { $0.gain > 0 && !$0.target_zh.isEmpty })
                #expect(try await AuditCount.of(db, action: "advice.read", result: "allowed") == 1)
                // A bank has no such route.
                #expect(try await client.execute(uri: "/v1/me/advice", method: .get, headers: bearer(w.bank)).status == .forbidden)
            }
        }
    }

    @Test func aRevocationCommittedBeforeAReadDeniesIt() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let auth = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                let path = "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application"
                let revokedAt = Locked<Date?>(nil)
                // Readers hammer the profile while the business revokes in the middle.
                let results = try await withThrowingTaskGroup(of: [(Date, HTTPResponse.Status)].self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            var seen: [(Date, HTTPResponse.Status)] = []
                            for _ in 0..<15 {
                                let started = Date()
                                let r = try await client.execute(uri: path, method: .get, headers: bearer(w.bank))
                                seen.append((started, r.status))
                            }
                            return seen
                        }
                    }
                    group.addTask {
                        try await Task.sleep(for: .milliseconds(30))
                        let r = try await client.execute(uri: "/v1/me/authorisations/\(auth)", method: .delete, headers: bearer(w.business))
                        #expect(r.status == .ok)
                        revokedAt.withLock { $0 = Date() }
                        return []
                    }
                    var all: [(Date, HTTPResponse.Status)] = []
                    for try await part in group { all += part }
                    return all
                }
                let cut = try #require(revokedAt.withLock { $0 })
                #expect(results.count == 60)
                #expect(results.allSatisfy { $0.1 == .ok || $0.1 == .forbidden })
                // Every read that started after the revocation returned was denied.
                let after = results.filter { $0.0 > cut }
                #expect(after.allSatisfy { $0.1 == .forbidden })
                // One audit row per read.
                let allowed = try await AuditCount.of(db, action: "profile.read", result: "allowed")
                let denied = try await AuditCount.of(db, action: "profile.read", result: "denied")
                #expect(allowed + denied == 60)
                #expect(allowed == results.filter { $0.1 == .ok }.count)
                // No allowed read committed after the revocation did.
                let late: Int = try await db.owner.scalar(
                    """
                    SELECT count(*)::int FROM audit_log l, authorisation a
                    WHERE a.id = '\(auth)' AND l.action = 'profile.read' AND l.result = 'allowed' AND l.occurred_at > a.revoked_at + interval '10 seconds'
                    """
                )
                #expect(late == 0)
            }
        }
    }

    /// Banks' reads go many to a statement: each read still gets its own answer and its own
    /// audit row, whatever the others in its batch are.
    @Test func concurrentReadsShareStatementsYetEachGetsItsOwnAnswerAndAuditRow() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let live = try await w.app(db).test(.router) { client in
                let live = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                _ = try await w.grant(client, bank: w.otherBankId, scopes: ["records"])
                return live
            }
            let bankKey: UUID = try await db.owner.scalar("SELECT id FROM api_keys WHERE org_id = '\(w.bankId)'")
            let otherKey: UUID = try await db.owner.scalar("SELECT id FROM api_keys WHERE org_id = '\(w.otherBankId)'")
            // Five kinds of read, mixed: the live one; wrong purpose; another bank (records scope
            // only); another business; a key that does not exist.
            func request(_ i: Int) -> ProfileReadBatcher.Request {
                let (bank, key, uscc, purpose): (UUID, UUID, String, AccessPurpose) =
                    switch i % 5 {
                    case 0: (w.bankId, bankKey, CreditWorld.uscc, .loanApplication)
                    case 1: (w.bankId, bankKey, CreditWorld.uscc, .postLoanMonitoring)
                    case 2: (w.otherBankId, otherKey, CreditWorld.uscc, .loanApplication)
                    case 3: (w.bankId, bankKey, CreditWorld.otherUSCC, .loanApplication)
                    default: (w.bankId, UUID(), CreditWorld.uscc, .loanApplication)
                    }
                return .init(
                    bankOrgId: bank,
                    uscc: uscc,
                    scope: .profile,
                    purpose: purpose,
                    requestId: "batch-\(i)",
                    keyId: key,
                    route: "GET /v1/enterprises/:uscc/profile"
                )
            }
            let batcher = ProfileReadBatcher(db: db.app, maxBatch: 8, maxConcurrentBatches: 1)
            let n = 60
            let results = try await withThrowingTaskGroup(of: (Int, ProfileReads.Result).self) { group in
                for i in 0..<n { group.addTask { (i, try await batcher.read(request(i))) } }
                var all: [Int: ProfileReads.Result] = [:]
                for try await (i, r) in group { all[i] = r }
                return all
            }
            #expect(results.count == n)
            for (i, r) in results {
                #expect(r.allowed == (i % 5 == 0), "read \(i)")
                #expect(r.authorisationId == (i % 5 == 0 ? live : nil), "read \(i)")
                #expect(r.keyLive == (i % 5 != 4), "read \(i)")
                #expect((r.profileJSON?.contains(CreditWorld.uscc) ?? false) == (i % 5 == 0), "read \(i)")
            }
            let counts = batcher.counts
            #expect(counts.reads == n && counts.waiting == 0)
            #expect(counts.batches >= n / 8 && counts.batches < n, "\(counts.batches) batches for \(n) reads")
            // One audit row per read, under its own request id, with its own outcome.
            struct Row: Decodable {
                let request_id: String
                let result: String
                let why: String?
                let actor_org_id: UUID
            }
            let rows: String = try await db.owner.scalar(
                """
                SELECT json_agg(json_build_object('request_id', request_id, 'result', result, 'why', detail->>'why', 'actor_org_id', actor_org_id))::text
                FROM audit_log WHERE action = 'profile.read'
                """
            )
            let audited = try JSONDecoder().decode([Row].self, from: Data(rows.utf8))
            #expect(audited.count == n)
            for row in audited {
                let i = try #require(Int(row.request_id.dropFirst("batch-".count)))
                #expect(row.result == (i % 5 == 0 ? "allowed" : "denied"), "row \(i)")
                #expect(row.why == (i % 5 == 0 ? nil : i % 5 == 4 ? "key not live" : "no live authorisation"), "row \(i)")
                #expect(row.actor_org_id == (i % 5 == 2 ? w.otherBankId : w.bankId), "row \(i)")
            }
        }
    }

    /// The bank's read of the business's profile, as the batcher takes it (no authorisation: denied).
    static func bankRead(_ db: TestDatabase, _ w: CreditWorld) async throws -> ProfileReadBatcher.Request {
        let bankKey: UUID = try await db.owner.scalar("SELECT id FROM api_keys WHERE org_id = '\(w.bankId)'")
        return ProfileReadBatcher.Request(
            bankOrgId: w.bankId,
            uscc: CreditWorld.uscc,
            scope: .profile,
            purpose: .loanApplication,
            requestId: nil,
            keyId: bankKey,
            route: "GET /v1/enterprises/:uscc/profile"
        )
    }

    /// Past its bound the queue refuses a read at once, and a refused read leaves no trace;
    /// every read let in is answered and audited.
    @Test func theReadQueueIsBoundedAndLosesNothing() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let request = try await Self.bankRead(db, w)
            // (No waiting-time bound here: this test is about the count; the next one is about time.)
            let batcher = ProfileReadBatcher(db: db.app, maxBatch: 2, maxConcurrentBatches: 1, maxQueued: 3, maxWait: .seconds(3600))
            // The audit log held in SHARE mode: the first batch's insert waits, the queue fills.
            let outcomes = try await db.owner.withTransaction { c in
                try await c.query("LOCK TABLE audit_log IN SHARE MODE", logger: db.owner.logger)
                let group = Locked<[Task<Bool, Never>]>([])
                for _ in 0..<3 {
                    group.withLock { $0.append(Task { (try? await batcher.read(request)) != nil }) }
                }
                try await eventually("the first batch running and the rest of the three waiting") {
                    let c = batcher.counts
                    return c.batches == 1 && c.reads + c.waiting == 3
                }
                for _ in 0..<(3 - batcher.counts.waiting) {  // fills the queue to its bound: 3 waiting
                    group.withLock { $0.append(Task { (try? await batcher.read(request)) != nil }) }
                }
                try await eventually("the queue full") { batcher.counts.waiting == 3 }
                // One more is refused at once, while the lock still holds everything else.
                await #expect(throws: ReadQueueFull.self) { _ = try await batcher.read(request) }
                return group.withLock { $0 }
            }
            var answered = 0
            for task in outcomes where await task.value { answered += 1 }
            #expect(outcomes.count > 3 && answered == outcomes.count)
            // No authorisation: each denied, and audited; the refused one not at all.
            #expect(try await AuditCount.of(db, action: "profile.read", result: "denied") == outcomes.count)
        }
    }

    /// While the oldest waiting read has waited past the bound, a new read is refused at once
    /// (a 503 the client can act on, issue 16) even though the queue has room; the reads let in
    /// are all answered once the database moves again.
    @Test func aReadIsRefusedWhileTheQueueWaitsTooLong() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            let request = try await Self.bankRead(db, w)
            let batcher = ProfileReadBatcher(
                db: db.app,
                maxBatch: 1,
                maxConcurrentBatches: 1,
                maxQueued: 1_000,
                maxWait: .milliseconds(200)
            )
            let let_in = try await db.owner.withTransaction { c in
                try await c.query("LOCK TABLE audit_log IN SHARE MODE", logger: db.owner.logger)
                let first = Task { (try? await batcher.read(request)) != nil }  // runs, and waits on the lock
                try await eventually("the first read running") { batcher.counts.batches == 1 }
                let second = Task { (try? await batcher.read(request)) != nil }  // waits in the queue
                try await eventually("the second read waiting") { batcher.counts.waiting == 1 }
                try await Task.sleep(for: .milliseconds(400))
                await #expect(throws: ReadQueueFull.self) { _ = try await batcher.read(request) }
                return [first, second]
            }
            for task in let_in { #expect(await task.value) }
        }
    }

    @Test func aRevokedKeyIsRefusedAtOnceOnTheCachedHotPaths() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                let path = "/v1/enterprises/\(CreditWorld.uscc)/profile?purpose=loan_application"
                // Twice, so that the second call takes the caller from the key cache.
                for _ in 0..<2 { #expect(try await client.execute(uri: path, method: .get, headers: bearer(w.bank)).status == .ok) }
                for _ in 0..<2 {
                    #expect(try await client.execute(uri: "/v1/me/profile", method: .get, headers: bearer(w.business)).status == .ok)
                }
                // Both keys revoked behind the cache's back.
                try await db.owner.execute(
                    "UPDATE api_keys SET revoked_at = now() WHERE org_id IN ('\(w.bankId)', '\(w.keys.orgIds[.enterprise]!)')"
                )
                for _ in 0..<2 {
                    let bank = try await client.execute(uri: path, method: .get, headers: bearer(w.bank))
                    #expect(bank.status == .unauthorized)
                    let business = try await client.execute(uri: "/v1/me/profile", method: .get, headers: bearer(w.business))
                    #expect(business.status == .unauthorized)
                    let lineage = try await client.execute(uri: "/v1/me/profile?lineage=true", method: .get, headers: bearer(w.business))
                    #expect(lineage.status == .unauthorized)
                }
                // No read went through on the revoked keys; the first attempts are audited as denied.
                let leaked: Int = try await db.owner.scalar(
                    """
                    SELECT count(*)::int FROM audit_log l JOIN api_keys k ON k.id = l.actor_key_id
                    WHERE l.action = 'profile.read' AND l.result = 'allowed' AND l.occurred_at > k.revoked_at
                    """
                )
                #expect(leaked == 0)
                let denied: Int = try await db.owner.scalar(
                    "SELECT count(*)::int FROM audit_log WHERE action = 'profile.read' AND detail->>'why' = 'key not live'"
                )
                #expect(denied >= 2)
            }
        }
    }

    @Test func reportsAreSignedVerifiableAndReproducibleAsOfAPastMoment() async throws {
        try await TestDatabase.with { db in
            let w = try await CreditWorld.make(db)
            try await w.app(db).test(.router) { client in
                let reportPath = "/v1/enterprises/\(CreditWorld.uscc)/reports"
                // Without a report authorisation: denied.
                _ = try await w.grant(client, bank: w.bankId, scopes: ["profile"])
                let refused = try await client.execute(
                    uri: reportPath,
                    method: .post,
                    headers: bearer(w.bank).merging(.json),
                    body: jsonBody("{\"purpose\": \"loan_application\"}")
                )
                #expect(refused.status == .forbidden)
                _ = try await w.grant(client, bank: w.bankId, scopes: ["report"])
                // A whole second after the records arrived (as_of is sent to the second).
                try await Task.sleep(for: .milliseconds(1100))
                let asOf = Date()
                func report(_ body: String) async throws -> (String, JSONValue) {
                    let r = try await client.execute(
                        uri: reportPath,
                        method: .post,
                        headers: bearer(w.bank).merging(.json),
                        body: jsonBody(body)
                    )
                    #expect(r.status == .created, "\(String(buffer: r.body))")
                    let text = String(buffer: r.body)
                    return (text, try JSONParser.parse(text))
                }
                let stamp = ISO8601DateFormatter()
                let (text, doc) = try await report("{\"purpose\": \"loan_application\"}")
                let number = try #require(doc["report"]?["number"]?.stringValue)
                #expect(number.wholeMatch(of: /XYD-\d{8}-\d{6}/) != nil)
                #expect(doc["report"]?["content"]?["profile"]?["scorecard_version"]?.stringValue == "test-1")

                // Anyone verifies it by number; offline with the public key; a changed byte fails.
                let v = try await client.execute(uri: "/v1/reports/\(number)/verification", method: .get)
                struct Verification: Decodable {
                    let valid: Bool
                    let public_key: String
                }
                let verification = try decodeJSON(Verification.self, v)
                #expect(verification.valid)
                let key = try await client.execute(uri: "/v1/signing-key", method: .get)
                struct Key: Decodable { let public_key: String }
                #expect(try decodeJSON(Key.self, key).public_key == verification.public_key)
                #expect(ReportSigner.verifyDocument(Array(text.utf8), publicKeyBase64: verification.public_key).valid)
                // Without its code the address says nothing of the business (numbers are sequential);
                // with the code printed on the report it gives the facts to compare a printout with.
                #expect(!String(buffer: v.body).contains("summary") && !String(buffer: v.body).contains(CreditWorld.uscc))
                let code: String = try await db.owner.scalar("SELECT verify_code FROM report WHERE number = '\(number)'")
                #expect(code.count == 10)
                struct Summary: Decodable {
                    struct Facts: Decodable {
                        let uscc: String
                        let grade: String?
                        let score: Int?
                    }
                    let summary: Facts?
                }
                let facts = try decodeJSON(
                    Summary.self,
                    try await client.execute(uri: "/v1/reports/\(number)/verification?code=\(code)", method: .get)
                ).summary
                let profile = doc["report"]?["content"]?["profile"]
                #expect(facts?.uscc == CreditWorld.uscc && facts?.grade == profile?["grade"]?.stringValue)
                #expect(facts?.score.map(String.init) == profile?["score"].flatMap { if case .number(let n) = $0 { n } else { nil } })
                let wrong = code.first == "A" ? "B" + code.dropFirst() : "A" + code.dropFirst()
                #expect(try await client.execute(uri: "/v1/reports/\(number)/verification?code=\(wrong)", method: .get).status == .notFound)
                let tampered = text.replacingOccurrences(of: "\"social_insurance\":24", with: "\"social_insurance\":25")
                #expect(tampered != text)
                #expect(!ReportSigner.verifyDocument(Array(tampered.utf8), publicKeyBase64: verification.public_key).valid)
                // A changed stored report is caught too.
                try await db.owner.execute(
                    "UPDATE report SET canonical = replace(canonical, '\"social_insurance\":24', '\"social_insurance\":25') WHERE number = '\(number)'"
                )
                #expect(
                    try decodeJSON(Verification.self, try await client.execute(uri: "/v1/reports/\(number)/verification", method: .get))
                        .valid == false
                )

                // As of a past moment: newer records change today's report, not that one.
                let pastBody = "{\"purpose\": \"loan_application\", \"as_of\": \"\(stamp.string(from: asOf))\"}"
                let (_, before) = try await report(pastBody)
                try await CreditWorld.store(db.app, CreditWorld.insurance(CreditWorld.uscc, months: 6, arrears: 6, version: 2))
                try await CreditWorld.drain(db.app)
                let (_, after) = try await report(pastBody)
                #expect(before["report"]?["content"] == after["report"]?["content"])
                #expect(before["report"]?["number"] != after["report"]?["number"])
                let (_, now) = try await report("{\"purpose\": \"loan_application\"}")
                #expect(now["report"]?["content"]?["profile"]?["features"]?["social_insurance_arrears_12m"] == .number("6"))
                #expect(after["report"]?["content"]?["profile"]?["features"]?["social_insurance_arrears_12m"] == .number("0"))
                // A moment in the future is refused.
                let future = try await client.execute(
                    uri: reportPath,
                    method: .post,
                    headers: bearer(w.bank).merging(.json),
                    body: jsonBody("{\"purpose\": \"loan_application\", \"as_of\": \"2999-01-01T00:00:00Z\"}")
                )
                #expect(future.status == .unprocessableContent)

                // The requester fetches it again; the business it is about too; another bank does not.
                #expect(try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.bank)).status == .ok)
                #expect(try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.business)).status == .ok)
                #expect(
                    try await client.execute(uri: "/v1/reports/\(number)", method: .get, headers: bearer(w.otherBankKey)).status
                        == .notFound
                )
                // The business's own report.
                let own = try await client.execute(uri: "/v1/me/reports", method: .post, headers: bearer(w.business))
                #expect(own.status == .created)
            }
        }
    }
}
