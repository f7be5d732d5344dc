import CreditCore
import Foundation
import Logging
import Metrics
import PostgresNIO

/// Banks' profile reads, gathered into batches: the reads waiting when a connection comes
/// free go to PostgreSQL together, in one statement and one transaction — each read's
/// authorisation check, its audit row (allowed or denied) and its profile. One round trip
/// and one commit then serve many reads, which is where a read's time went (the statement
/// itself is cheap; the protocol, the transaction and the commit around it were not).
///
/// Nothing about a read changes: its audit row commits with it (the batch's rows commit
/// together, or none does and every read in it fails); the statement's snapshot is taken
/// after every read in it arrived, so a revocation committed before a read arrived is seen
/// and the read denied. A read waits for no timer: when fewer than `maxConcurrentBatches`
/// batches are running it starts one at once (a lone read is a batch of one); otherwise it
/// joins the queue the next free batch takes. The queue is bounded: past `maxQueued`
/// waiting reads a new one is refused (`ReadQueueFull`) rather than left to time out.
public final class ProfileReadBatcher: Sendable {
    public struct Request: Sendable {
        public let bankOrgId: UUID
        public let uscc: String
        public let scope: AuthorisationScope
        public let purpose: AccessPurpose
        public let requestId: String?
        /// The key of a machine's read; nil for a person's (a browser session).
        public let keyId: UUID?
        /// The person reading (signed in, or owning the key).
        public let userId: UUID?
        public let route: String
        /// The caller's own `X-Request-Id`, kept in the audit row beside the service's.
        public let clientRequestId: String?

        public init(
            bankOrgId: UUID,
            uscc: String,
            scope: AuthorisationScope,
            purpose: AccessPurpose,
            requestId: String?,
            keyId: UUID?,
            userId: UUID? = nil,
            route: String,
            clientRequestId: String? = nil
        ) {
            self.userId = userId
            self.clientRequestId = clientRequestId
            self.bankOrgId = bankOrgId
            self.uscc = uscc
            self.scope = scope
            self.purpose = purpose
            self.requestId = requestId
            self.keyId = keyId
            self.route = route
        }
    }

    public static let defaultMaxBatch = 64
    /// About the database's cores: measured on two, 2 answered 10,600–11,500 reads/s against
    /// 8,100–10,800 with 4 and 9,000 with 3 (bench/RESULTS.md).
    public static let defaultMaxConcurrentBatches = 2
    public static let defaultMaxQueued = 4_096
    /// A read is refused at once (503) while the oldest waiting read has waited this long: the
    /// client gets an answer it can act on rather than its own time-out (`XYD_READ_QUEUE_WAIT_MS`).
    public static let defaultMaxWaitMilliseconds = 2_000
    /// A statement's arrays stay small enough to bind and plan quickly.
    public static let maxBatchCeiling = 1_000

    public let maxBatch: Int
    public let maxConcurrentBatches: Int
    public let maxQueued: Int
    public let maxWait: Duration
    let db: Database

    struct Waiting {
        let request: Request
        let continuation: CheckedContinuation<ProfileReads.Result, any Error>
        let since: ContinuousClock.Instant
    }

    struct State {
        var queue: [Waiting] = []
        /// Where the queue's next read is (the queue is compacted when emptied).
        var head = 0
        var running = 0
        var batches = 0
        var reads = 0
        var waiting: Int { queue.count - head }
    }

    let state = Locked(State())
    let batchSize: Recorder

    public init(
        db: Database,
        maxBatch: Int = defaultMaxBatch,
        maxConcurrentBatches: Int = defaultMaxConcurrentBatches,
        maxQueued: Int = defaultMaxQueued,
        maxWait: Duration = .milliseconds(defaultMaxWaitMilliseconds)
    ) {
        precondition((1...Self.maxBatchCeiling).contains(maxBatch) && maxConcurrentBatches >= 1 && maxQueued >= 1)
        self.db = db
        self.maxWait = maxWait
        self.maxBatch = maxBatch
        self.maxConcurrentBatches = maxConcurrentBatches
        self.maxQueued = maxQueued
        self.batchSize = Recorder(label: "xyd_profile_read_batch_size", aggregate: true)
    }

    /// Batches begun and reads taken into them so far, and reads waiting now.
    public var counts: (batches: Int, reads: Int, waiting: Int) { state.withLock { ($0.batches, $0.reads, $0.waiting) } }

    /// One read: answered when its batch has committed. (The batch logs with the pool's
    /// logger: it serves many requests, so no one request's id belongs on its lines.)
    public func read(_ request: Request) async throws -> ProfileReads.Result {
        try await withCheckedThrowingContinuation { continuation in
            let now = ContinuousClock.now
            let start: Bool? = state.withLock { s in
                guard s.waiting < maxQueued else { return nil }
                // Reads already wait too long: a new one would only wait longer.
                if s.waiting > 0, now - s.queue[s.head].since > maxWait { return nil }
                s.queue.append(Waiting(request: request, continuation: continuation, since: now))
                guard s.running < maxConcurrentBatches else { return false }
                s.running += 1
                return true
            }
            switch start {
            case nil: continuation.resume(throwing: ReadQueueFull(limit: maxQueued, maxWait: maxWait))
            // The batch serves many requests: it joins no request's transaction.
            case true?: Task { await Database.$ambient.withValue(nil) { await self.work() } }
            case false?: break
            }
        }
    }

    /// Takes batches from the queue until it is empty (the queue is emptied whenever its last
    /// read is taken).
    func work() async {
        while true {
            let batch: [Waiting] = state.withLock { s in
                guard s.waiting > 0 else {
                    s.running -= 1
                    return []
                }
                let end = min(s.queue.count, s.head + maxBatch)
                let taken = Array(s.queue[s.head..<end])
                s.head = end
                if s.head == s.queue.count {
                    s.queue.removeAll(keepingCapacity: true)
                    s.head = 0
                } else if s.head >= 4 * maxBatch {
                    s.queue.removeFirst(s.head)
                    s.head = 0
                }
                s.batches += 1
                s.reads += taken.count
                return taken
            }
            if batch.isEmpty { return }
            batchSize.record(batch.count)
            do {
                let results = try await db.withConnection { c in
                    try await ProfileReads.bankReads(c, logger: db.logger, batch.map(\.request))
                }
                for (waiting, result) in zip(batch, results) { waiting.continuation.resume(returning: result) }
            } catch {
                for waiting in batch { waiting.continuation.resume(throwing: error) }
            }
        }
    }
}

/// Too many reads are already waiting for the database.
public struct ReadQueueFull: Error, CustomStringConvertible {
    public let limit: Int
    public let maxWait: Duration
    public var description: String {
        "too many profile reads are waiting (at most \(limit), none longer than \(maxWait)); retry in a moment"
    }
}

extension ProfileReads {
    /// Many banks' reads in one statement: for each, the key and authorisation checks, the
    /// audit row and the profile, in the order given. Prepared once per connection.
    struct BankReads: PostgresPreparedStatement {
        static let name = "xyd_profile_bank_reads"
        static let sql = """
            WITH req AS MATERIALIZED (
                SELECT r.n, r.bank, r.uscc, r.scope, r.purpose, r.request_id, NULLIF(r.key_id, \(ProfileReads.noId)) AS key_id,
                       NULLIF(r.user_id, \(ProfileReads.noId)) AS user_id, r.route,
                       NULLIF(r.client_request_id, '') AS client_request_id, r.occurred_us, r.mac,
                       \(ProfileReads.live("r.key_id", "r.user_id")) AS live
                FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::uuid[], $7::text[], $8::text[], $9::bigint[], $10::bytea[],
                            $11::uuid[])
                     WITH ORDINALITY AS r(bank, uscc, scope, purpose, request_id, key_id, route, client_request_id, occurred_us, mac, user_id, n)),
            chk AS MATERIALIZED (
                SELECT req.*,
                       (SELECT a.id FROM authorisation a
                        WHERE a.bank_org_id = req.bank AND a.uscc = req.uscc AND req.scope = ANY(a.scopes)
                          AND a.purpose = req.purpose AND \(Live.authorisation("a")) AND req.live
                        ORDER BY a.expires_at DESC LIMIT 1) AS auth_id
                FROM req),
            logged AS (
                INSERT INTO audit_log (occurred_at, mac, request_id, actor_org_id, actor_key_id, actor_user_id, actor_kind, action, route,
                                       subject_uscc, purpose, result, detail)
                SELECT timestamptz 'epoch' + c.occurred_us * interval '1 microsecond', c.mac,
                       NULLIF(c.request_id, ''), c.bank, c.key_id, c.user_id, 'bank', 'profile.read', c.route, c.uscc, c.purpose,
                       CASE WHEN c.auth_id IS NULL THEN 'denied' ELSE 'allowed' END,
                       CASE WHEN NOT c.live THEN jsonb_build_object('scope', c.scope, 'why', 'key not live')
                            WHEN c.auth_id IS NULL THEN jsonb_build_object('scope', c.scope, 'why', 'no live authorisation')
                            ELSE jsonb_build_object('authorisation_id', c.auth_id::text, 'scope', c.scope) END
                       || CASE WHEN c.client_request_id IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('client_request_id', c.client_request_id) END
                FROM chk c ORDER BY c.n
                RETURNING 1)
            SELECT c.n::int, c.auth_id,
                   CASE WHEN c.auth_id IS NOT NULL THEN (SELECT \(profileObject) FROM profile p WHERE p.uscc = c.uscc) END,
                   c.live, (SELECT count(*)::int FROM logged)
            FROM chk c ORDER BY c.n
            """
        typealias Row = (Int, UUID?, String?, Bool, Int)
        let requests: [ProfileReadBatcher.Request]

        func makeBindings() throws -> PostgresBindings {
            var b = PostgresBindings(capacity: 11)
            b.append(requests.map(\.bankOrgId))
            b.append(requests.map(\.uscc))
            b.append(requests.map(\.scope.rawValue))
            b.append(requests.map(\.purpose.rawValue))
            b.append(requests.map { $0.requestId ?? "" })  // arrays of optionals cannot be bound: '' is NULL
            b.append(requests.map { $0.keyId ?? ProfileReads.noUUID })  // arrays of optionals cannot be bound
            b.append(requests.map(\.route))
            b.append(requests.map { $0.clientRequestId ?? "" })
            // Each row's time and code, over exactly what the statement writes for it.
            let at = Audit.micros(Date())
            b.append(requests.map { _ in at })
            b.append(
                try requests.map { r in
                    ByteBuffer(
                        bytes: try Audit.rowCode(
                            AuditEntry(
                                requestId: (r.requestId ?? "").isEmpty ? nil : r.requestId,
                                actorOrgId: r.bankOrgId,
                                actorKeyId: r.keyId,
                                actorUserId: r.userId,
                                actorKind: "bank",
                                action: "profile.read",
                                route: r.route,
                                subjectUSCC: r.uscc,
                                purpose: r.purpose.rawValue,
                                result: .allowed
                            ),
                            occurredMicros: at
                        )
                    )
                }
            )
            b.append(requests.map { $0.userId ?? ProfileReads.noUUID })
            return b
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The reads' results, in the order of `requests`; throws unless every read's audit row was written.
    public static func bankReads(_ c: PostgresConnection, logger: Logger, _ requests: [ProfileReadBatcher.Request]) async throws -> [Result]
    {
        var results = [Result?](repeating: nil, count: requests.count)
        for try await (n, auth, json, live, logged) in try await c.execute(BankReads(requests: requests), logger: logger) {
            guard logged == requests.count, (1...requests.count).contains(n) else { throw AuditNotWritten() }
            results[n - 1] = Result(authorisationId: auth, allowed: auth != nil, profileJSON: json, keyLive: live)
        }
        return try results.map { r in
            guard let r else { throw AuditNotWritten() }
            return r
        }
    }
}
