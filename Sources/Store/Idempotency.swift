import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `Idempotency-Key` bookkeeping: a key is reserved by the first request, completed with its
/// response, replayed to retries with the same body, refused with another body, 409 while the
/// first is in flight. A reservation abandoned by a crash can be taken over after a while.
public enum Idempotency {
    public static let maxKeyLength = 100
    /// Kept this long, then forgotten.
    public static let retentionHours = 24
    /// A reservation without a response after this long was abandoned (the process died).
    public static let abandonedAfterSeconds = 60

    public enum Claim: Sendable {
        /// This request goes ahead and must complete or release the key.
        case proceed
        /// A retry of a finished request: answer with the kept response.
        case replay(status: Int, contentType: String?, body: ByteBuffer)
        /// The first request with this key is still running.
        case inFlight
        /// The key was used for another request (another route, path or body).
        case mismatch
    }

    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxKeyLength && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    public static func claim(
        _ db: Database, org: UUID, key: String, route: String, path: String, body: ByteBuffer
    ) async throws -> Claim {
        let hash = Data(SHA256.hash(data: Data(buffer: body)))
        return try await db.withConnection { c in
            let logger = db.logger
            let reserved = try await c.query(
                """
                INSERT INTO idempotency_key (org_id, key, route, path, body_sha256) VALUES (\(org), \(key), \(route), \(path), \(hash))
                ON CONFLICT DO NOTHING RETURNING 1
                """, logger: logger
            ).collect()
            if !reserved.isEmpty { return .proceed }
            let rows = try await c.query(
                """
                SELECT route, path, body_sha256, status, content_type, response,
                       completed_at IS NULL AND created_at < now() - make_interval(secs => \(abandonedAfterSeconds)::int)
                FROM idempotency_key WHERE org_id = \(org) AND key = \(key)
                """, logger: logger
            ).collect()
            guard let row = rows.first else { return .inFlight }  // forgotten this very moment: let the client retry
            let (r, p, h, status, type, response, abandoned) = try row.decode((String, String, Data, Int?, String?, ByteBuffer?, Bool).self)
            guard r == route, p == path, h == hash else { return .mismatch }
            if let status { return .replay(status: status, contentType: type, body: response ?? ByteBuffer()) }
            if abandoned {
                let taken = try await c.query(
                    """
                    UPDATE idempotency_key SET created_at = now() WHERE org_id = \(org) AND key = \(key) AND completed_at IS NULL
                      AND created_at < now() - make_interval(secs => \(abandonedAfterSeconds)::int)
                    RETURNING 1
                    """, logger: logger
                ).collect()
                if !taken.isEmpty { return .proceed }
            }
            return .inFlight
        }
    }

    public static func complete(_ db: Database, org: UUID, key: String, status: Int, contentType: String?, body: ByteBuffer) async throws {
        try await db.withConnection { c in
            try await c.query(
                """
                UPDATE idempotency_key SET status = \(status), content_type = \(contentType), response = \(body), completed_at = now()
                WHERE org_id = \(org) AND key = \(key)
                """, logger: db.logger)
        }
    }

    /// Gives the key back (the request failed in a way a retry may fix).
    public static func release(_ db: Database, org: UUID, key: String) async throws {
        try await db.withConnection { c in
            try await c.query("DELETE FROM idempotency_key WHERE org_id = \(org) AND key = \(key) AND completed_at IS NULL", logger: db.logger)
        }
    }

    @discardableResult
    public static func purge(_ db: Database) async throws -> Int {
        try await db.withConnection { c in
            try await c.query(
                "DELETE FROM idempotency_key WHERE created_at < now() - make_interval(hours => \(retentionHours)::int) RETURNING 1",
                logger: db.logger
            ).collect().count
        }
    }
}
