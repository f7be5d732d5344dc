import Crypto
import CreditCore
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
        requestId: String? = nil, actorOrgId: UUID? = nil, actorKeyId: UUID? = nil, actorKind: String,
        action: String, route: String? = nil, subjectUSCC: String? = nil, subjectId: String? = nil,
        purpose: String? = nil, result: Result, detail: [String: String] = [:]
    ) {
        self.requestId = requestId
        self.actorOrgId = actorOrgId
        self.actorKeyId = actorKeyId
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

    enum CodingKeys: String, CodingKey {
        case id, action, route, purpose, result, sealed
        case occurredAt = "occurred_at"
        case requestId = "request_id"
        case actorOrgId = "actor_org_id"
        case actorKind = "actor_kind"
        case subjectUSCC = "subject_uscc"
        case subjectId = "subject_id"
    }
}

/// The tamper-evident audit log: append-only rows, chained in batches by a sealer.
public enum Audit {
    public static let genesisHash = Data(repeating: 0, count: 32)
    public static let sealBatchMax = 10_000

    /// The canonical form of a row that its hash covers, computed by PostgreSQL the same way
    /// for the sealer and the verifier (`json_build_array` prints deterministically).
    static let canonicalSQL = """
        json_build_array(l.id, (extract(epoch FROM l.occurred_at) * 1000000)::bigint, l.request_id,
            l.actor_org_id, l.actor_key_id, l.actor_kind, l.action, l.route, l.subject_uscc, l.subject_id,
            l.purpose, l.result, l.detail)::text
        """

    public static func record(on c: PostgresConnection, logger: Logger, _ e: AuditEntry) async throws {
        let detail = String(decoding: try JSONSerialization.data(withJSONObject: e.detail, options: [.sortedKeys]), as: UTF8.self)
        try await c.query(
            """
            INSERT INTO audit_log (request_id, actor_org_id, actor_key_id, actor_kind, action, route,
                subject_uscc, subject_id, purpose, result, detail)
            VALUES (\(e.requestId), \(e.actorOrgId), \(e.actorKeyId), \(e.actorKind), \(e.action), \(e.route),
                \(e.subjectUSCC), \(e.subjectId), \(e.purpose), \(e.result.rawValue), \(detail)::jsonb)
            """, logger: logger)
    }

    static func chainHash(previous: Data, canonical: String) -> Data {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: Data(canonical.utf8))
        return Data(hasher.finalize())
    }

    /// Seals up to `batch` queued rows onto the chain in one transaction; returns how many.
    /// Only one sealer works at a time (the chain head row is locked); writers never wait on it.
    public static func sealBatch(_ db: Database, batch: Int) async throws -> Int {
        precondition(batch > 0 && batch <= sealBatchMax)
        let logger = db.logger
        return try await db.withTransaction { c in
            // Nothing queued: no lock on the chain head (a row lock is a write).
            let pending = try await c.query("SELECT EXISTS (SELECT 1 FROM audit_unsealed)", logger: logger).collect()
            guard try pending.first?.decode(Bool.self) == true else { return 0 }
            let head = try await c.query(
                "SELECT chain_seq, hash FROM audit_chain_head FOR UPDATE", logger: logger
            ).collect()
            guard let headRow = head.first else { preconditionFailure("audit_chain_head has its row from migration 0001") }
            var (seq, hash) = try headRow.decode((Int64, Data).self)
            let queued = try await c.query(
                """
                DELETE FROM audit_unsealed WHERE log_id IN (
                    SELECT log_id FROM audit_unsealed ORDER BY log_id LIMIT \(batch))
                RETURNING log_id
                """, logger: logger
            ).collect().map { try $0.decode(Int64.self) }
            if queued.isEmpty { return 0 }
            var seqs: [Int64] = []
            var logIds: [Int64] = []
            var prevs: [ByteBuffer] = []
            var hashes: [ByteBuffer] = []
            let rows = try await c.query(
                "SELECT l.id, \(unescaped: canonicalSQL) FROM audit_log l WHERE l.id = ANY(\(queued)) ORDER BY l.id",
                logger: logger)
            for try await (id, canonical) in rows.decode((Int64, String).self) {
                let next = chainHash(previous: hash, canonical: canonical)
                seq += 1
                seqs.append(seq)
                logIds.append(id)
                prevs.append(ByteBuffer(bytes: hash))
                hashes.append(ByteBuffer(bytes: next))
                hash = next
            }
            try await c.query(
                """
                INSERT INTO audit_seal (chain_seq, log_id, prev_hash, hash)
                SELECT * FROM unnest(\(seqs)::bigint[], \(logIds)::bigint[], \(prevs)::bytea[], \(hashes)::bytea[])
                """, logger: logger)
            try await c.query("UPDATE audit_chain_head SET chain_seq = \(seq), hash = \(hash)", logger: logger)
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

    public struct Verification: Sendable, Equatable {
        /// Rows whose chain position checked out.
        public var verified: Int64
        /// Rows written but not yet sealed (normal for a few seconds).
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

    /// Walks the whole chain from the start and names the first broken row.
    public static func verify(_ db: Database, progress: @Sendable (Int64) -> Void = { _ in }) async throws -> Verification {
        let logger = db.logger
        return try await db.withConnection { c in
            var result = Verification(verified: 0, unsealed: 0, firstBreak: nil)
            var expectedSeq: Int64 = 1
            var hash = genesisHash
            let rows = try await c.query(
                """
                SELECT s.chain_seq, s.log_id, s.prev_hash, s.hash, l.id IS NOT NULL, coalesce(\(unescaped: canonicalSQL), '')
                FROM audit_seal s LEFT JOIN audit_log l ON l.id = s.log_id ORDER BY s.chain_seq
                """, logger: logger)
            for try await (seq, logId, prev, stored, present, canonical) in rows.decode(
                (Int64, Int64, Data, Data, Bool, String).self)
            {
                guard result.firstBreak == nil else { continue }  // drain the stream
                if seq != expectedSeq {
                    result.firstBreak = Break(chainSeq: expectedSeq, logId: nil, reason: "seal missing (next seal found is \(seq))")
                } else if prev != hash {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "previous hash does not match the chain")
                } else if !present {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "audit row deleted")
                } else if chainHash(previous: hash, canonical: canonical) != stored {
                    result.firstBreak = Break(chainSeq: seq, logId: logId, reason: "audit row changed after it was sealed")
                } else {
                    hash = stored
                    result.verified += 1
                    expectedSeq += 1
                    if result.verified % 100_000 == 0 { progress(result.verified) }
                }
            }
            if result.firstBreak == nil {
                let head = try await c.query("SELECT chain_seq, hash FROM audit_chain_head", logger: logger).collect()
                let (headSeq, headHash) = try head[0].decode((Int64, Data).self)
                if headSeq != expectedSeq - 1 || headHash != hash {
                    result.firstBreak = Break(
                        chainSeq: headSeq, logId: nil, reason: "chain head does not match the last seal (seals removed from the end?)")
                }
            }
            if result.firstBreak == nil {
                // A row neither sealed nor queued was slipped in, or its queue entry removed.
                let orphan = try await c.query(
                    """
                    SELECT l.id FROM audit_log l
                    WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.log_id = l.id)
                      AND NOT EXISTS (SELECT 1 FROM audit_unsealed u WHERE u.log_id = l.id)
                    ORDER BY l.id LIMIT 1
                    """, logger: logger
                ).collect()
                if let row = orphan.first {
                    let id = try row.decode(Int64.self)
                    result.firstBreak = Break(chainSeq: expectedSeq, logId: id, reason: "audit row is neither sealed nor queued for sealing")
                }
            }
            let unsealed = try await c.query("SELECT count(*) FROM audit_unsealed", logger: logger).collect()
            result.unsealed = try unsealed[0].decode(Int64.self)
            return result
        }
    }

    /// Recent audit rows, newest first, for operators.
    public static func recent(
        on c: PostgresConnection, logger: Logger, before: Int64?, subjectUSCC: String?, limit: Int
    ) async throws -> [AuditRecord] {
        let rows = try await c.query(
            """
            SELECT l.id, l.occurred_at, l.request_id, l.actor_org_id, l.actor_kind, l.action, l.route,
                   l.subject_uscc, l.subject_id, l.purpose, l.result,
                   EXISTS (SELECT 1 FROM audit_seal s WHERE s.log_id = l.id)
            FROM audit_log l
            WHERE (\(before)::bigint IS NULL OR l.id < \(before))
              AND (\(subjectUSCC)::text IS NULL OR l.subject_uscc = \(subjectUSCC))
            ORDER BY l.id DESC LIMIT \(limit)
            """, logger: logger
        ).collect()
        return try rows.map { row in
            let (id, at, req, org, kind, action, route, uscc, subject, purpose, result, sealed) = try row.decode(
                (Int64, Date, String?, UUID?, String, String, String?, String?, String?, String?, String, Bool).self)
            return AuditRecord(
                id: id, occurredAt: at, requestId: req, actorOrgId: org, actorKind: kind, action: action, route: route,
                subjectUSCC: uscc, subjectId: subject, purpose: purpose, result: result, sealed: sealed)
        }
    }
}
