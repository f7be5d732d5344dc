import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// One access to record. Written with `Audit.record` inside the transaction of the access.
public struct AuditEntry: Sendable {
    public enum Result: String, Sendable { case allowed, denied, error }

    public var requestId: String?
    public var actorOrgId: UUID?
    public var actorKeyId: UUID?
    /// The person (a user signed in, or the user owning the key), when there is one.
    public var actorUserId: UUID?
    /// An organisation kind, or `cli` for the server's own command line.
    public var actorKind: String
    public var action: String
    public var route: String?
    public var subjectUSCC: String?
    public var subjectId: String?
    public var purpose: String?
    public var result: Result
    /// Small structured facts (never personal data or secrets), stored as JSON.
    public var detail: [String: String]

    public init(
        requestId: String? = nil,
        actorOrgId: UUID? = nil,
        actorKeyId: UUID? = nil,
        actorUserId: UUID? = nil,
        actorKind: String,
        action: String,
        route: String? = nil,
        subjectUSCC: String? = nil,
        subjectId: String? = nil,
        purpose: String? = nil,
        result: Result,
        detail: [String: String] = [:]
    ) {
        self.requestId = requestId
        self.actorOrgId = actorOrgId
        self.actorKeyId = actorKeyId
        self.actorUserId = actorUserId
        self.actorKind = actorKind
        self.action = action
        self.route = route
        self.subjectUSCC = subjectUSCC
        self.subjectId = subjectId
        self.purpose = purpose
        self.result = result
        self.detail = detail
    }
}

public struct AuditRecord: Sendable, Codable {
    public let id: Int64
    public let occurredAt: Date
    public let requestId: String?
    public let actorOrgId: UUID?
    public let actorKind: String
    public let action: String
    public let route: String?
    public let subjectUSCC: String?
    public let subjectId: String?
    public let purpose: String?
    public let result: String
    public let sealed: Bool
    /// The person who acted (issue 22), when there was one.
    public var actorUserId: UUID? = nil
    /// Why a refusal was refused (`detail.why`), when it says.
    public var why: String? = nil

    enum CodingKeys: String, CodingKey {
        case id, action, route, purpose, result, sealed, why
        case occurredAt = "occurred_at"
        case requestId = "request_id"
        case actorOrgId = "actor_org_id"
        case actorUserId = "actor_user_id"
        case actorKind = "actor_kind"
        case subjectUSCC = "subject_uscc"
        case subjectId = "subject_id"
    }
}

/// The audit chain's head row is gone: nothing is sealed until an operator looks (`xyd audit verify`).
public struct AuditHeadMissing: Error, CustomStringConvertible {
    public var description: String {
        "the audit chain's head row is missing (the chain was wiped?): nothing is sealed; run xyd audit verify"
    }
}

/// The tamper-evident audit log: append-only rows, chained in batches by a sealer.
public enum Audit {
    public static let genesisHash = Data(repeating: 0, count: 32)
    public static let sealBatchMax = 10_000

    /// The canonical form of a row that its seal covers, computed by PostgreSQL the same way
    /// for the sealer and the verifier (`json_build_array` prints deterministically).
    /// A row naming a user (issue 22) has the user's id as a last element; rows before users
    /// keep the form they were sealed with.
    static let canonicalSQL = """
        CASE WHEN l.actor_user_id IS NULL THEN
            json_build_array(l.id, (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id,
                l.actor_org_id, l.actor_key_id, l.actor_kind, l.action, l.route, l.subject_uscc, l.subject_id,
                l.purpose, l.result, l.detail, encode(l.mac, 'hex'))::text
        ELSE
            json_build_array(l.id, (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id,
                l.actor_org_id, l.actor_key_id, l.actor_kind, l.action, l.route, l.subject_uscc, l.subject_id,
                l.purpose, l.result, l.detail, encode(l.mac, 'hex'), l.actor_user_id)::text
        END
        """

    /// The first chain's canonical form (before the row codes), for `audit_seal_v1`.
    static let canonicalV1SQL = """
        json_build_array(l.id, (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id,
            l.actor_org_id, l.actor_key_id, l.actor_kind, l.action, l.route, l.subject_uscc, l.subject_id,
            l.purpose, l.result, l.detail)::text
        """

    /// What a row's code is checked against, read back from the row as stored.
    static let codedFieldsSQL = """
        (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id, l.actor_org_id, l.actor_key_id, l.actor_kind,
        l.action, l.route, l.subject_uscc, l.subject_id, l.purpose, l.mac,
        EXISTS (SELECT 1 FROM audit_seal_v1 v WHERE v.log_id = l.id), l.actor_user_id
        """

    typealias CodedFields = (Int64, String?, UUID?, UUID?, String, String, String?, String?, String?, String?, Data?, Bool, UUID?)

    /// Whether a row was written by the service: its code verifies — or it was sealed in the
    /// first chain, before rows had codes.
    static func genuine(_ f: CodedFields) throws -> Bool {
        if f.11 { return f.10 == nil }
        guard let code = f.10 else { return false }
        return try rowCodeVerifies(
            code,
            rowMessage(
                occurredMicros: f.0,
                requestId: f.1,
                actorOrgId: f.2,
                actorKeyId: f.3,
                actorUserId: f.12,
                actorKind: f.4,
                action: f.5,
                route: f.6,
                subjectUSCC: f.7,
                subjectId: f.8,
                purpose: f.9
            )
        )
    }

    /// Writes the row, with its time and its code (the audit key must be configured).
    public static func record(on c: PostgresConnection, logger: Logger, _ e: AuditEntry) async throws {
        let detail = String(decoding: try JSONSerialization.data(withJSONObject: e.detail, options: [.sortedKeys]), as: UTF8.self)
        let at = micros(Date())
        let code = try rowCode(e, occurredMicros: at)
        try await c.query(
            """
            INSERT INTO audit_log (occurred_at, request_id, actor_org_id, actor_key_id, actor_user_id, actor_kind, action, route,
                subject_uscc, subject_id, purpose, result, detail, mac)
            VALUES (timestamptz 'epoch' + \(at) * interval '1 microsecond', \(e.requestId), \(e.actorOrgId), \(e.actorKeyId), \(e.actorUserId),
                \(e.actorKind), \(e.action), \(e.route), \(e.subjectUSCC), \(e.subjectId), \(e.purpose), \(e.result.rawValue), \(detail)::jsonb,
                \(code))
            """,
            logger: logger
        )
    }

    static func chainHashV1(previous: Data, canonical: String) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(canonical.utf8))
        return Data(hasher.finalize())
    }

    /// Seals up to `batch` queued rows onto the chain in one transaction; returns how many.
    /// Only one sealer works at a time (the chain head row is locked); writers never wait on it.
    /// A row whose code does not verify is sealed where it is, as not genuine, and logged.
    public static func sealBatch(_ db: Database, batch: Int) async throws -> Int {
        precondition(batch > 0 && batch <= sealBatchMax)
        let logger = db.logger
        _ = try AuditKey.require()
        return try await db.withTransaction { c in
            // Nothing queued: no lock on the chain head (a row lock is a write).
            let pending = try await c.query("SELECT EXISTS (SELECT 1 FROM audit_unsealed)", logger: logger).collect()
            guard try pending.first?.decode(Bool.self) == true else { return 0 }
            let head = try await c.query(
                "SELECT chain_seq, hash FROM audit_chain_head FOR UPDATE",
                logger: logger
            ).collect()
            // Its row comes with migration 0025; without it someone wiped the chain: refuse to seal
            // (verify names it) rather than start a new chain over the evidence.
            guard let headRow = head.first else { throw AuditHeadMissing() }
            var (seq, hash) = try headRow.decode((Int64, Data).self)
            let queued = try await c.query(
                """
                DELETE FROM audit_unsealed WHERE log_id IN (
                    SELECT log_id FROM audit_unsealed ORDER BY log_id LIMIT \(batch))
                RETURNING log_id
                """,
                logger: logger
            ).collect().map { try $0.decode(Int64.self) }
            if queued.isEmpty { return 0 }
            var seqs: [Int64] = []
            var logIds: [Int64] = []
            var prevs: [ByteBuffer] = []
            var hashes: [ByteBuffer] = []
            var verdicts: [Bool] = []
            let rows = try await c.query(
                "SELECT l.id, \(unescaped: canonicalSQL), \(unescaped: codedFieldsSQL) FROM audit_log l WHERE l.id = ANY(\(queued)) ORDER BY l.id",
                logger: logger
            )
            for try await (id, canonical, t, req, org, key, kind, action, route, uscc, subject, purpose, mac, legacy, user) in rows.decode(
                (Int64, String, Int64, String?, UUID?, UUID?, String, String, String?, String?, String?, String?, Data?, Bool, UUID?).self
            ) {
                let ok = try genuine((t, req, org, key, kind, action, route, uscc, subject, purpose, mac, legacy, user))
                if !ok {
                    logger.error("an audit row was not written by the service: sealed as not genuine", metadata: ["audit_row": "\(id)"])
                }
                let next = try sealHash(previous: hash, canonical: canonical, genuine: ok)
                seq += 1
                seqs.append(seq)
                logIds.append(id)
                prevs.append(ByteBuffer(bytes: hash))
                hashes.append(ByteBuffer(bytes: next))
                verdicts.append(ok)
                hash = next
            }
            try await c.query(
                """
                INSERT INTO audit_seal (chain_seq, log_id, prev_hash, hash, genuine)
                SELECT * FROM unnest(\(seqs)::bigint[], \(logIds)::bigint[], \(prevs)::bytea[], \(hashes)::bytea[], \(verdicts)::boolean[])
                """,
                logger: logger
            )
            try await c.query("UPDATE audit_chain_head SET chain_seq = \(seq), hash = \(hash)", logger: logger)
            // Bank reads told to the businesses that asked for webhooks (genuine rows only).
            try await Messages.readEvents(c, logger: logger, logIds: zip(logIds, verdicts).filter(\.1).map(\.0))
            return logIds.count
        }
    }

    /// Seals until the queue is empty (for commands and tests).
    public static func sealAll(_ db: Database, batch: Int = 5_000) async throws -> Int {
        var total = 0
        while true {
            let n = try await sealBatch(db, batch: batch)
            total += n
            if n < batch { return total }
        }
    }

    /// The chain's head now, and the database it is in (the anchors are kept per database).
    public static func head(_ db: Database) async throws -> (chainSeq: Int64, hash: Data, database: String) {
        try await db.withConnection { c in
            try await c.query("SELECT chain_seq, hash, current_database() FROM audit_chain_head", logger: db.logger).collect()[0]
                .decode((Int64, Data, String).self)
        }
    }

    public struct Verification: Sendable, Equatable {
        /// Rows whose chain position checked out.
        public var verified: Int64
        /// Rows written but not yet sealed (normal for a moment).
        public var unsealed: Int64
        /// The first break found, if any.
        public var firstBreak: Break?

        public var ok: Bool { firstBreak == nil }
    }

    public struct Break: Sendable, Equatable, CustomStringConvertible {
        public let chainSeq: Int64
        public let logId: Int64?
        public let reason: String
        public var description: String {
            "chain position \(chainSeq)\(logId.map { ", audit row \($0)" } ?? ""): \(reason)"
        }
    }

    /// A row may be written this long before a row that precedes it in the chain (writers'
    /// transactions overlap); earlier than that, its time runs backwards.
    public static let backwardsToleranceSeconds: Int64 = 600
    /// A row may claim a time this far past its sealing (clocks of several servers).
    public static let aheadToleranceSeconds: Int64 = 60

    /// Checks the whole log without changing it (nothing is sealed first): the first chain
    /// (SHA-256, before the key) as it was; the keyed chain from its start — every seal's code,
    /// every row's own code and time, the head; the rows waiting to be sealed (each must verify,
    /// and none may be missing from the queue); and, given the anchor file, that the database
    /// still holds the newest anchored head. Names the first break.
    public static func verify(
        _ db: Database,
        anchors: AuditAnchors? = nil,
        progress: @Sendable (Int64) -> Void = { _ in }
    ) async throws -> Verification {
        let logger = db.logger
        _ = try AuditKey.require()
        return try await db.withConnection { c in
            var result = Verification(verified: 0, unsealed: 0, firstBreak: nil)
            // The first chain, unkeyed, as before the key.
            var expectedSeq: Int64 = 1
            var hash = genesisHash
            let v1 = try await c.query(
                """
                SELECT s.chain_seq, s.log_id, s.prev_hash, s.hash, l.id IS NOT NULL, coalesce(\(unescaped: canonicalV1SQL), '')
                FROM audit_seal_v1 s LEFT JOIN audit_log l ON l.id = s.log_id ORDER BY s.chain_seq
                """,
                logger: logger
            )
            var v1Break: Break?
            for try await (seq, logId, prev, stored, present, canonical) in v1.decode((Int64, Int64, Data, Data, Bool, String).self) {
                guard v1Break == nil else { continue }
                if seq != expectedSeq || prev != hash || !present || chainHashV1(previous: hash, canonical: canonical) != stored {
                    v1Break = Break(chainSeq: seq, logId: logId, reason: "the first (unkeyed) chain is broken here")
                } else {
                    hash = stored
                    expectedSeq += 1
                }
            }
            // The keyed chain.
            expectedSeq = 1
            hash = genesisHash
            var latest: Int64?
            let rows = try await c.query(
                """
                SELECT s.chain_seq, s.log_id, s.prev_hash, s.hash, s.genuine, (extract(epoch FROM s.sealed_at) * 1000000)::bigint,
                       l.id IS NOT NULL, coalesce(\(unescaped: canonicalSQL), ''),
                       \(unescaped: codedFieldsSQL)
                FROM audit_seal s LEFT JOIN audit_log l ON l.id = s.log_id ORDER BY s.chain_seq
                """,
                logger: logger
            )
            for try await (
                seq, logId, prev, stored, genuineSeal, sealedAt, present, canonical, at, req, org, key, kindOrNil, actionOrNil, route, uscc,
                subject, purpose, mac, legacy, user
            )
                in rows.decode(
                    (
                        Int64, Int64, Data, Data, Bool, Int64, Bool, String, Int64?, String?, UUID?, UUID?, String?, String?, String?,
                        String?,
                        String?, String?, Data?, Bool, UUID?
                    ).self
                )
            {
                guard result.firstBreak == nil else { continue }  // drain the stream
                let t = at ?? 0
                var rowGenuine = false
                if present, let kind = kindOrNil, let action = actionOrNil {
                    rowGenuine = try genuine((t, req, org, key, kind, action, route, uscc, subject, purpose, mac, legacy, user))
                }
                if seq != expectedSeq {
                    result.firstBreak = Break(chainSeq: expectedSeq, logId: nil, reason: "seal missing (next seal found is \(seq))")
                } else if prev != hash {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "previous hash does not match the chain")
                } else if !present {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "audit row deleted")
                } else if try sealHash(previous: hash, canonical: canonical, genuine: genuineSeal) != stored {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "audit row changed after it was sealed")
                } else if !genuineSeal || !rowGenuine {
                    result.firstBreak = Break(
                        chainSeq: seq,
                        logId: logId,
                        reason: "audit row not written by the service (its code does not verify)"
                    )
                } else if !legacy, let latest, t < latest - backwardsToleranceSeconds * 1_000_000 {
                    result.firstBreak = Break(
                        chainSeq: seq,
                        logId: logId,
                        reason: "audit row's time runs backwards (earlier than the rows before it)"
                    )
                } else if !legacy && t > sealedAt + aheadToleranceSeconds * 1_000_000 {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "audit row's time is later than its sealing")
                } else {
                    hash = stored
                    if !legacy { latest = max(latest ?? t, t) }
                    result.verified += 1
                    expectedSeq += 1
                    if result.verified % 100_000 == 0 { progress(result.verified) }
                }
            }
            if result.firstBreak == nil {
                let head = try await c.query("SELECT chain_seq, hash FROM audit_chain_head", logger: logger).collect()
                if head.isEmpty {
                    result.firstBreak = Break(
                        chainSeq: expectedSeq - 1,
                        logId: nil,
                        reason: "the chain head is missing (the chain was wiped?)"
                    )
                } else if let row = try? head[0].decode((Int64, Data).self), row.0 != expectedSeq - 1 || row.1 != hash {
                    result.firstBreak = Break(
                        chainSeq: row.0,
                        logId: nil,
                        reason: "chain head does not match the last seal (seals removed from the end?)"
                    )
                }
            }
            if result.firstBreak == nil {
                // A genuine row's copy carries a code that verifies: codes are unique.
                let copied = try await c.query(
                    "SELECT max(id) FROM audit_log WHERE mac IS NOT NULL GROUP BY mac HAVING count(*) > 1 LIMIT 1",
                    logger: logger
                ).collect()
                if let row = copied.first {
                    result.firstBreak = Break(
                        chainSeq: 0,
                        logId: try row.decode(Int64.self),
                        reason: "audit row is a copy of another (the same code)"
                    )
                }
            }
            let database = try await c.query("SELECT current_database()", logger: logger).collect()[0].decode(String.self)
            if result.firstBreak == nil, let anchors, let anchor = try anchors.latest(database: database) {
                let sealed = try await c.query("SELECT hash FROM audit_seal WHERE chain_seq = \(anchor.chainSeq)", logger: logger).collect()
                if let row = sealed.first {
                    if try row.decode(Data.self) != anchor.hash {
                        result.firstBreak = Break(
                            chainSeq: anchor.chainSeq,
                            logId: nil,
                            reason: "the seal differs from the one anchored at \(anchor.at) (the chain was rewritten)"
                        )
                    }
                } else {
                    result.firstBreak = Break(
                        chainSeq: anchor.chainSeq,
                        logId: nil,
                        reason:
                            "the chain ends at \(expectedSeq - 1) but was anchored at \(anchor.chainSeq) on \(anchor.at) (seals cut or wiped)"
                    )
                }
            }
            if result.firstBreak == nil {
                // Rows waiting to be sealed must verify too; a row neither sealed nor queued was
                // slipped in, or its queue entry removed.
                let waiting = try await c.query(
                    """
                    SELECT l.id, EXISTS (SELECT 1 FROM audit_unsealed u WHERE u.log_id = l.id), \(unescaped: codedFieldsSQL)
                    FROM audit_log l WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.log_id = l.id) ORDER BY l.id
                    """,
                    logger: logger
                )
                for try await (id, queued, t, req, org, key, kind, action, route, uscc, subject, purpose, mac, legacy, user)
                    in waiting.decode(
                        (Int64, Bool, Int64, String?, UUID?, UUID?, String, String, String?, String?, String?, String?, Data?, Bool, UUID?)
                            .self
                    )
                {
                    guard result.firstBreak == nil else { continue }
                    if !queued {
                        result.firstBreak = Break(
                            chainSeq: expectedSeq,
                            logId: id,
                            reason: "audit row is neither sealed nor queued for sealing"
                        )
                    } else if try !genuine((t, req, org, key, kind, action, route, uscc, subject, purpose, mac, legacy, user)) {
                        result.firstBreak = Break(
                            chainSeq: expectedSeq,
                            logId: id,
                            reason: "audit row waiting to be sealed was not written by the service (its code does not verify)"
                        )
                    } else {
                        result.unsealed += 1
                    }
                }
            }
            if result.firstBreak == nil, let v1Break { result.firstBreak = v1Break }
            if result.firstBreak != nil {
                result.unsealed = try await c.query("SELECT count(*) FROM audit_unsealed", logger: logger).collect()[0].decode(Int64.self)
            }
            return result
        }
    }

    /// Recent audit rows, newest first, for operators.
    public static func recent(
        on c: PostgresConnection,
        logger: Logger,
        before: Int64?,
        subjectUSCC: String?,
        limit: Int
    ) async throws -> [AuditRecord] {
        let rows = try await c.query(
            """
            SELECT l.id, l.occurred_at, l.request_id, l.actor_org_id, l.actor_kind, l.action, l.route,
                   l.subject_uscc, l.subject_id, l.purpose, l.result,
                   EXISTS (SELECT 1 FROM audit_seal s WHERE s.log_id = l.id), l.actor_user_id, l.detail->>'why'
            FROM audit_log l
            WHERE (\(before)::bigint IS NULL OR l.id < \(before))
              AND (\(subjectUSCC)::text IS NULL OR l.subject_uscc = \(subjectUSCC))
            ORDER BY l.id DESC LIMIT \(limit)
            """,
            logger: logger
        ).collect()
        return try rows.map { row in
            let (id, at, req, org, kind, action, route, uscc, subject, purpose, result, sealed, user, why) = try row.decode(
                (Int64, Date, String?, UUID?, String, String, String?, String?, String?, String?, String, Bool, UUID?, String?).self
            )
            var record = AuditRecord(
                id: id,
                occurredAt: at,
                requestId: req,
                actorOrgId: org,
                actorKind: kind,
                action: action,
                route: route,
                subjectUSCC: uscc,
                subjectId: subject,
                purpose: purpose,
                result: result,
                sealed: sealed
            )
            record.actorUserId = user
            record.why = why
            return record
        }
    }
}
