import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Monitoring webhooks: endpoints, an outbox of events written in the transaction of the
/// change that caused them, and deliveries retried with back-off, in order per enterprise.
public enum Webhooks {
    public static let maxEndpointsPerBank = 10
    /// Deliveries are retried for this long, then given up (and shown as failed in the log).
    public static let retryHours = 24
    public static let maxBackoffSeconds = 3_600
    public static let deliveryBatch = 20
    /// A turn stops sending after this (what it did not reach goes back for the next turn), so a
    /// turn of slow receivers stays well within the job's turn limit.
    public static let turnBudget = Duration.seconds(20)
    /// A delivery turn still running past this is abandoned (`PeriodicService.turnLimit`).
    public static let turnLimit = Duration.seconds(60)

    public struct Endpoint: Sendable, Encodable {
        public let id: UUID
        public let url: String
        public let createdAt: Date
    }

    /// Back-off after `attempts` failed tries: 2^attempts seconds, at most an hour.
    public static func backoffSeconds(_ attempts: Int) -> Int { min(maxBackoffSeconds, 1 << min(attempts, 12)) }

    /// `t=TIMESTAMP,v1=HEX` where HEX is HMAC-SHA256 with the endpoint's secret over `TIMESTAMP.BODY`.
    public static func signature(secret: String, timestamp: Int, body: [UInt8]) -> String {
        var message = Array("\(timestamp).".utf8)
        message += body
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: Data(secret.utf8)))
        return "t=\(timestamp),v1=" + Array(mac).hexString
    }

    public static func register(_ c: PostgresConnection, logger: Logger, bank: UUID, url: String) async throws -> (Endpoint, secret: String)
    {
        let count = try await c.query(
            "SELECT count(*)::int FROM webhook_endpoint WHERE bank_org_id = \(bank) AND disabled_at IS NULL",
            logger: logger
        ).collect()[0].decode(Int.self)
        guard count < maxEndpointsPerBank else { throw WebhookError.tooMany }
        let secret = "whsec_" + secureRandomBytes(32).base64URLString
        let row = try await c.query(
            "INSERT INTO webhook_endpoint (bank_org_id, url, secret) VALUES (\(bank), \(url), \(secret)) RETURNING id, created_at",
            logger: logger
        ).collect()[0]
        let (id, at) = try row.decode((UUID, Date).self)
        return (Endpoint(id: id, url: url, createdAt: at), secret)
    }

    public static func endpoints(_ c: PostgresConnection, logger: Logger, bank: UUID) async throws -> [Endpoint] {
        var out: [Endpoint] = []
        for try await (id, url, at) in try await c.query(
            "SELECT id, url, created_at FROM webhook_endpoint WHERE bank_org_id = \(bank) AND disabled_at IS NULL ORDER BY created_at",
            logger: logger
        ).decode((UUID, String, Date).self) { out.append(Endpoint(id: id, url: url, createdAt: at)) }
        return out
    }

    /// Whether the endpoint is the organisation's (live or disabled: its log stays readable).
    public static func owns(_ c: PostgresConnection, logger: Logger, org: UUID, endpoint: UUID) async throws -> Bool {
        try await !c.query("SELECT 1 FROM webhook_endpoint WHERE id = \(endpoint) AND bank_org_id = \(org)", logger: logger).collect()
            .isEmpty
    }

    public static func disable(_ c: PostgresConnection, logger: Logger, bank: UUID, id: UUID) async throws -> Bool {
        try await !c.query(
            "UPDATE webhook_endpoint SET disabled_at = now() WHERE id = \(id) AND bank_org_id = \(bank) AND disabled_at IS NULL RETURNING 1",
            logger: logger
        ).collect().isEmpty
    }

    /// Writes an event for a bank (in the caller's transaction) and a delivery to each of its endpoints.
    public static func emit(
        _ c: PostgresConnection,
        logger: Logger,
        bank: UUID,
        uscc: String?,
        type: String,
        payload: JSONValue
    ) async throws {
        try await c.query(
            """
            WITH e AS (INSERT INTO webhook_event (bank_org_id, uscc, type, payload) VALUES (\(bank), \(uscc), \(type), \(payload.jsonText)::jsonb)
                       RETURNING id)
            INSERT INTO webhook_delivery (event_id, endpoint_id, uscc)
            SELECT e.id, ep.id, \(uscc) FROM e, webhook_endpoint ep WHERE ep.bank_org_id = \(bank) AND ep.disabled_at IS NULL
            """,
            logger: logger
        )
    }

    public struct Due: Sendable {
        public let eventRow: Int64
        public let endpoint: UUID
        public let url: String
        public let secret: String
        public let body: [UInt8]
        public let eventId: UUID
        public let attempts: Int
        public let expired: Bool
    }

    public struct Logged: Sendable, Encodable {
        /// The event's place in the bank's sequence: what a replay starts from.
        public let sequence: Int64
        public let eventId: UUID
        public let type: String
        public let uscc: String?
        public let endpointId: UUID
        public let attempts: Int
        public let deliveredAt: Date?
        public let failedAt: Date?
        public let lastStatus: Int?
        public let lastError: String?
        public let createdAt: Date
    }

    /// One monitoring event as the bank's portal lists it.
    public struct Event: Sendable {
        public let type: String
        public let uscc: String?
        public let payload: String
        public let createdAt: Date
    }

    /// The bank's latest events, newest first (whether or not it has an endpoint).
    public static func events(_ c: PostgresConnection, logger: Logger, bank: UUID, limit: Int) async throws -> [Event] {
        var out: [Event] = []
        for try await (type, uscc, payload, created) in try await c.query(
            "SELECT type, uscc, payload::text, created_at FROM webhook_event WHERE bank_org_id = \(bank) ORDER BY id DESC LIMIT \(limit)",
            logger: logger
        ).decode((String, String?, String, Date).self) {
            out.append(Event(type: type, uscc: uscc, payload: payload, createdAt: created))
        }
        return out
    }

    /// At most this many events are re-queued by one replay call.
    public static let maxReplay = 10_000

    /// Where a page of the delivery log ends: the event's sequence and the endpoint.
    public struct LogCursor: Sendable, Equatable {
        public let sequence: Int64
        public let endpoint: UUID
        public init(sequence: Int64, endpoint: UUID) {
            self.sequence = sequence
            self.endpoint = endpoint
        }
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let s = Int64(parts[0]), let e = UUID(uuidString: String(parts[1])) else { return nil }
            self.init(sequence: s, endpoint: e)
        }
        public var text: String { "\(sequence)/\(endpoint.uuidString.lowercased())" }
    }

    /// The delivery log of a bank, newest first, optionally one endpoint's, after a cursor.
    public static func log(
        _ c: PostgresConnection,
        logger: Logger,
        bank: UUID,
        endpoint: UUID? = nil,
        before: LogCursor? = nil,
        limit: Int
    ) async throws -> [Logged] {
        var out: [Logged] = []
        let seq = before?.sequence ?? Int64.max
        let ep = before?.endpoint ?? UUID(uuidString: "ffffffff-ffff-ffff-ffff-ffffffffffff")!
        for try await (row, eid, type, uscc, epid, attempts, delivered, failed, status, error, created) in try await c.query(
            """
            SELECT e.id, e.event_id, e.type, e.uscc, d.endpoint_id, d.attempts, d.delivered_at, d.failed_at, d.last_status, d.last_error,
                   e.created_at
            FROM webhook_event e JOIN webhook_delivery d ON d.event_id = e.id
            WHERE e.bank_org_id = \(bank) AND (e.id, d.endpoint_id) < (\(seq)::bigint, \(ep)::uuid)
              AND (\(endpoint)::uuid IS NULL OR d.endpoint_id = \(endpoint)::uuid)
            ORDER BY e.id DESC, d.endpoint_id DESC LIMIT \(limit)
            """,
            logger: logger
        ).decode((Int64, UUID, String, String?, UUID, Int, Date?, Date?, Int?, String?, Date).self) {
            out.append(
                Logged(
                    sequence: row,
                    eventId: eid,
                    type: type,
                    uscc: uscc,
                    endpointId: epid,
                    attempts: attempts,
                    deliveredAt: delivered,
                    failedAt: failed,
                    lastStatus: status,
                    lastError: error,
                    createdAt: created
                )
            )
        }
        return out
    }

    /// Queues again, for one of the bank's endpoints, every event of the bank from `fromSequence`
    /// on (at most `maxReplay`): delivered or given-up deliveries start over with a fresh day of
    /// retries; events from before the endpoint existed are added to it. The receiver sees the
    /// same event ids again (deliveries are at least once; ids tell repeats). Returns how many
    /// were queued and, when more remain, the sequence to replay from next. Nil: no such endpoint.
    public static func replay(
        _ c: PostgresConnection,
        logger: Logger,
        bank: UUID,
        endpoint: UUID,
        fromSequence: Int64,
        limit: Int = maxReplay
    ) async throws -> (queued: Int, next: Int64?)? {
        let live = try await c.query(
            "SELECT 1 FROM webhook_endpoint WHERE id = \(endpoint) AND bank_org_id = \(bank) AND disabled_at IS NULL FOR UPDATE",
            logger: logger
        ).collect()
        guard !live.isEmpty else { return nil }
        let rows = try await c.query(
            """
            WITH picked AS (
                SELECT id, uscc FROM webhook_event WHERE bank_org_id = \(bank) AND id >= \(fromSequence) ORDER BY id LIMIT \(limit + 1)
            ), queued AS (
                INSERT INTO webhook_delivery (event_id, endpoint_id, uscc)
                SELECT id, \(endpoint), uscc FROM picked ORDER BY id LIMIT \(limit)
                ON CONFLICT (event_id, endpoint_id) DO UPDATE
                SET attempts = 0, next_attempt_at = now(), queued_at = now(), delivered_at = NULL, failed_at = NULL,
                    last_status = NULL, last_error = NULL
                RETURNING 1
            )
            SELECT (SELECT count(*)::int FROM queued), (SELECT id FROM picked ORDER BY id OFFSET \(limit) LIMIT 1)
            """,
            logger: logger
        ).collect()
        let (queued, next) = try rows[0].decode((Int, Int64?).self)
        return (queued, next)
    }

    /// Delivers what is due, in one transaction holding the deliveries it works on: for each
    /// endpoint and enterprise only the earliest undelivered event (order per enterprise).
    /// `send` returns the HTTP status, or throws for a transport failure.
    @discardableResult
    public static func deliverDue(
        _ db: Database,
        classify: @Sendable (any Error) -> String = { _ in "error" },
        send: @Sendable (Due) async throws -> Int
    ) async throws -> (delivered: Int, failed: Int) {
        try await db.withTransaction { c in
            let logger = db.logger
            var due: [Due] = []
            for try await (row, ep, url, secret, eventId, type, payload, created, attempts, expired) in try await c.query(
                """
                SELECT d.event_id, d.endpoint_id, ep.url, ep.secret, e.event_id, e.type, e.payload::text, e.created_at, d.attempts,
                       d.queued_at < now() - make_interval(hours => \(retryHours)::int)
                FROM webhook_delivery d JOIN webhook_event e ON e.id = d.event_id JOIN webhook_endpoint ep ON ep.id = d.endpoint_id
                WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= now() AND ep.disabled_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM webhook_delivery p WHERE p.endpoint_id = d.endpoint_id
                                  AND p.uscc IS NOT DISTINCT FROM d.uscc AND p.event_id < d.event_id
                                  AND p.delivered_at IS NULL AND p.failed_at IS NULL)
                ORDER BY d.event_id LIMIT \(deliveryBatch)
                FOR UPDATE OF d SKIP LOCKED
                """,
                logger: logger
            ).decode((Int64, UUID, String, String, UUID, String, String, Date, Int, Bool).self) {
                let stamp = ISO8601DateFormatter().string(from: created)
                let body =
                    "{\"id\":\"\(eventId.uuidString.lowercased())\",\"type\":\"\(type)\",\"created_at\":\"\(stamp)\",\"data\":\(payload)}"
                due.append(
                    Due(
                        eventRow: row,
                        endpoint: ep,
                        url: url,
                        secret: secret,
                        body: Array(body.utf8),
                        eventId: eventId,
                        attempts: attempts,
                        expired: expired
                    )
                )
            }
            var delivered = 0
            var failed = 0
            let began = ContinuousClock.now
            for d in due {
                if ContinuousClock.now - began > turnBudget { break }
                var status: Int?
                var error: String?
                do { status = try await send(d) } catch let e { error = classify(e) }
                if let status, (200..<300).contains(status) {
                    delivered += 1
                    try await c.query(
                        """
                        UPDATE webhook_delivery SET delivered_at = now(), attempts = attempts + 1, last_status = \(status), last_error = NULL
                        WHERE event_id = \(d.eventRow) AND endpoint_id = \(d.endpoint)
                        """,
                        logger: logger
                    )
                } else {
                    let giveUp = d.expired
                    if giveUp { failed += 1 }
                    try await c.query(
                        """
                        UPDATE webhook_delivery SET attempts = attempts + 1, last_status = \(status), last_error = \(error),
                            next_attempt_at = now() + make_interval(secs => \(backoffSeconds(d.attempts + 1))::int),
                            failed_at = CASE WHEN \(giveUp) THEN now() END
                        WHERE event_id = \(d.eventRow) AND endpoint_id = \(d.endpoint)
                        """,
                        logger: logger
                    )
                }
            }
            return (delivered, failed)
        }
    }
}

public enum WebhookError: Error, CustomStringConvertible {
    case tooMany
    public var description: String { "at most \(Webhooks.maxEndpointsPerBank) endpoints per organisation" }
}
