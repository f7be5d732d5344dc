import CreditCore
import Foundation
import Logging
import PostgresNIO

/// What concerns a business, told to it (失信提醒机制): a new penalty, listing or arrear recorded,
/// a penalty becoming repairable, an objection or repair answered, a bank's offer or decision on
/// its demand — each written in the transaction of the change that causes it, exactly once — and
/// every bank read of its data (from the audit log). Unread: newer than what it last marked seen.
public enum Messages {
    public static let listLimit = 100
    /// Businesses whose penalties a sweep looks at for repairability at most (the next sweep goes on).
    public static let repairableBatch = 500
    /// Audit actions that are a bank's read of the business's data.
    static let reads = ["profile.read", "records.read", "report.create", "report.read"]
    /// A bank officer's queue showing a business's grade and score (`view: queue`) is in the
    /// business's access log, but not a message nor an event: an officer opens the queue many
    /// times a day, and each would say the same. (SQL, audit row alias `l`.)
    static let notQueueViews = "coalesce(l.detail->>'view', '') <> 'queue'"

    public struct Message: Sendable, Encodable {
        /// `m<id>` for a stored message, `a<id>` for a bank read from the audit log.
        public let id: String
        public let kind: String
        public let at: Date
        public let data: JSONValue
        public let unread: Bool
        /// Where the next (older) page starts after this message.
        public var cursor: Cursor { Cursor(micros: micros, id: id) }
        let micros: Int64
        enum CodingKeys: String, CodingKey { case id, kind, at, data, unread }
    }

    /// A place in the list, newest first: the moment in microseconds and the id (`MICROS/ID`).
    public struct Cursor: Sendable, Equatable {
        public let micros: Int64
        public let id: String
        public init(micros: Int64, id: String) {
            self.micros = micros
            self.id = id
        }
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard parts.count == 2, let m = Int64(parts[0]), m >= 0, let first = parts[1].first, first == "m" || first == "a",
                parts[1].count <= 21, Int64(parts[1].dropFirst()) != nil
            else { return nil }
            self.init(micros: m, id: String(parts[1]))
        }
        public var text: String { "\(micros)/\(id)" }
    }

    /// Writes one message in the caller's transaction (nothing when `dedupe` was used before) —
    /// and, while the business has a live webhook endpoint, the same as a signed event to it
    /// (type: the message's kind; data: the message's, with `uscc`), through the banks' delivery
    /// machinery. Bank reads become events when the sealer chains their audit rows (`readEvents`).
    public static func emit(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        kind: String,
        data: JSONValue = [:],
        dedupe: String? = nil
    ) async throws {
        try await c.query(
            """
            WITH m AS (
                INSERT INTO message (uscc, kind, data, dedupe) VALUES (\(uscc), \(kind), \(data.jsonText)::jsonb, \(dedupe))
                ON CONFLICT (uscc, dedupe) DO NOTHING RETURNING id
            ), e AS (
                INSERT INTO webhook_event (bank_org_id, uscc, type, payload)
                SELECT o.id, \(uscc), \(kind), \(data.jsonText)::jsonb || jsonb_build_object('uscc', \(uscc)::text) FROM m, organisations o
                WHERE o.uscc = \(uscc) AND o.kind = 'enterprise'
                  AND EXISTS (SELECT 1 FROM webhook_endpoint ep WHERE ep.bank_org_id = o.id AND ep.disabled_at IS NULL)
                RETURNING id, bank_org_id
            )
            INSERT INTO webhook_delivery (event_id, endpoint_id, uscc)
            SELECT e.id, ep.id, \(uscc) FROM e JOIN webhook_endpoint ep ON ep.bank_org_id = e.bank_org_id AND ep.disabled_at IS NULL
            """,
            logger: logger
        )
    }

    /// The business's messages and the banks' reads, newest first, from before `before` if given.
    public static func list(
        _ c: PostgresConnection,
        logger: Logger,
        uscc: String,
        before: Cursor? = nil,
        limit: Int = listLimit
    ) async throws -> [Message] {
        var out: [Message] = []
        let micros = before?.micros ?? Int64.max
        let id = before?.id ?? "~"
        for try await (id, kind, at, data, unread, us) in try await c.query(
            """
            WITH seen AS (SELECT coalesce((SELECT seen_at FROM message_seen WHERE uscc = \(uscc)), '-infinity'::timestamptz) AS at),
            m AS (
                SELECT 'm' || m.id AS id, m.kind, m.created_at AS at, m.data::text AS data, m.created_at > seen.at AS unread,
                       (extract(epoch FROM m.created_at) * 1000000)::bigint AS us
                FROM message m, seen WHERE m.uscc = \(uscc)
            ), r AS (
                SELECT 'a' || l.id AS id, 'bank.read' AS kind, l.occurred_at AS at,
                       jsonb_build_object('bank', coalesce(o.name, ''), 'action', l.action, 'purpose', l.purpose)::text AS data,
                       l.occurred_at > seen.at AS unread, (extract(epoch FROM l.occurred_at) * 1000000)::bigint AS us
                FROM audit_log l LEFT JOIN organisations o ON o.id = l.actor_org_id, seen
                WHERE l.subject_uscc = \(uscc) AND l.actor_kind = 'bank' AND l.result = 'allowed' AND l.action = ANY(\(reads)::text[])
                  AND \(unescaped: notQueueViews)
            )
            (SELECT * FROM m WHERE (us, id) < (\(micros), \(id)::text) ORDER BY us DESC, id DESC LIMIT \(limit))
            UNION ALL
            (SELECT * FROM r WHERE (us, id) < (\(micros), \(id)::text) ORDER BY us DESC, id DESC LIMIT \(limit))
            ORDER BY us DESC, id DESC LIMIT \(limit)
            """,
            logger: logger
        ).decode((String, String, Date, String, Bool, Int64).self) {
            out.append(
                Message(
                    id: id,
                    kind: kind,
                    at: at,
                    data: (try? JSONParser.parse(Array(data.utf8))) ?? .null,
                    unread: unread,
                    micros: us
                )
            )
        }
        return out
    }

    /// How many messages and reads are newer than what the business last marked seen.
    public static func unread(_ c: PostgresConnection, logger: Logger, uscc: String) async throws -> Int {
        try await c.query(
            """
            WITH seen AS (SELECT coalesce((SELECT seen_at FROM message_seen WHERE uscc = \(uscc)), '-infinity'::timestamptz) AS at)
            SELECT ((SELECT count(*) FROM message m, seen WHERE m.uscc = \(uscc) AND m.created_at > seen.at)
                  + (SELECT count(*) FROM audit_log l, seen WHERE l.subject_uscc = \(uscc) AND l.actor_kind = 'bank'
                       AND l.result = 'allowed' AND l.action = ANY(\(reads)::text[]) AND l.occurred_at > seen.at
                       AND \(unescaped: notQueueViews)))::int
            """,
            logger: logger
        ).collect()[0].decode(Int.self)
    }

    /// Bank reads among these (sealed, genuine) audit rows become events for the businesses read
    /// that have a live webhook endpoint: called by the sealer in its transaction, so each read is
    /// told exactly once, within a seal interval, at no cost to the read itself.
    static func readEvents(_ c: PostgresConnection, logger: Logger, logIds: [Int64]) async throws {
        guard !logIds.isEmpty else { return }
        try await c.query(
            """
            WITH e AS (
                INSERT INTO webhook_event (bank_org_id, uscc, type, payload)
                SELECT o.id, l.subject_uscc, 'bank.read',
                       jsonb_build_object('uscc', l.subject_uscc, 'bank', coalesce(b.name, ''), 'action', l.action,
                                          'purpose', l.purpose, 'at', to_char(l.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
                FROM audit_log l JOIN organisations o ON o.uscc = l.subject_uscc AND o.kind = 'enterprise'
                     LEFT JOIN organisations b ON b.id = l.actor_org_id
                WHERE l.id = ANY(\(logIds)::bigint[]) AND l.actor_kind = 'bank' AND l.result = 'allowed'
                  AND l.action = ANY(\(reads)::text[]) AND \(unescaped: notQueueViews)
                  AND EXISTS (SELECT 1 FROM webhook_endpoint ep WHERE ep.bank_org_id = o.id AND ep.disabled_at IS NULL)
                ORDER BY l.id
                RETURNING id, bank_org_id, uscc
            )
            INSERT INTO webhook_delivery (event_id, endpoint_id, uscc)
            SELECT e.id, ep.id, e.uscc FROM e JOIN webhook_endpoint ep ON ep.bank_org_id = e.bank_org_id AND ep.disabled_at IS NULL
            """,
            logger: logger
        )
    }

    /// Marks everything up to now seen.
    public static func markSeen(_ c: PostgresConnection, logger: Logger, uscc: String) async throws {
        try await c.query(
            """
            INSERT INTO message_seen (uscc, seen_at) VALUES (\(uscc), now())
            ON CONFLICT (uscc) DO UPDATE SET seen_at = excluded.seen_at
            """,
            logger: logger
        )
    }

    /// Penalties of businesses that use the service (an enterprise organisation) that may now be
    /// repaired — published, past their minimum, not repaired or applied for: one message each,
    /// once (the market sweep calls this daily).
    public static func repairable(_ c: PostgresConnection, logger: Logger, today: Day) async throws -> Int {
        // Only businesses with a penalty of the last three years not yet told about (the sweep runs
        // often, and most businesses have none); a batch at a time, drawn at random so that penalties
        // not yet repairable do not keep others waiting.
        let usccs = try await c.query(
            """
            SELECT v.uscc FROM record_version v JOIN organisations o ON o.uscc = v.uscc AND o.kind = 'enterprise'
            WHERE v.dataset = 'administrative_penalty' AND v.superseded_at IS NULL AND v.op = 'upsert' AND NOT v.suppressed
              AND (v.data->>'decided_on')::date > \(today.description)::date - make_interval(years => 3)
              AND NOT EXISTS (SELECT 1 FROM message m WHERE m.uscc = v.uscc AND m.dedupe = 'repairable:' || v.record_id)
            GROUP BY v.uscc ORDER BY random() LIMIT \(repairableBatch)
            """,
            logger: logger
        ).collect().map { try $0.decode(String.self) }
        guard !usccs.isEmpty else { return 0 }
        var told = 0
        for (uscc, history) in try await ProfileStore.histories(c, usccs: usccs, upTo: nil, logger: logger) {
            let pending = try await Repairs.pending(c, logger: logger, uscc: uscc)
            for p in history.penalties where Repairs.refusal(p, today: today, pending: pending.contains(p.id)) == nil {
                try await emit(
                    c,
                    logger: logger,
                    uscc: uscc,
                    kind: "penalty.repairable",
                    data: [
                        "record_id": .string(p.id), "decision_no": .string(p.decisionNo),
                        "from": .string(p.window.repairableFrom.description),
                    ],
                    dedupe: "repairable:\(p.id)"
                )
                told += 1
            }
        }
        return told
    }
}
