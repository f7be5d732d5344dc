import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// `Idempotency-Key` bookkeeping. A request with a key runs in one transaction that holds the
/// key's lock, does the work, and records the response: the effect and its record commit
/// together or not at all, so a request whose effect committed is never run again — its retry
/// gets the recorded response — and one that died before its commit left nothing behind (its
/// lock went with its connection, and a retry runs at once). The same key with another request
/// is refused; while the first runs, 409.
public enum Idempotency {
    public static let maxKeyLength = 100
    /// Kept this long, then forgotten.
    public static let retentionHours = 24
    /// The first half of the advisory-lock key a request with an `Idempotency-Key` holds.
    static let lockClass: Int32 = 0x4964_656D  // "Idem"

    /// What a kept key says about a new request with it.
    public enum Kept: Sendable {
        /// A retry of a finished request: answer with the kept response.
        case replay(status: Int, contentType: String?, body: ByteBuffer, location: String?)
        /// The key was used for another request (another route, path or body).
        case mismatch
    }

    public static func isValidKey(_ key: String) -> Bool {
        !key.isEmpty && key.utf8.count <= maxKeyLength && key.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }

    public static func bodyHash(_ body: ByteBuffer) -> Data { Data(SHA256.hash(data: Data(buffer: body))) }

    /// Takes the key's lock for this transaction: false while another request with the key runs.
    public static func lock(_ c: PostgresConnection, logger: Logger, org: UUID, key: String) async throws -> Bool {
        try await c.query(
            "SELECT pg_try_advisory_xact_lock(\(lockClass), hashtext(\(org.uuidString.lowercased() + " " + key)))",
            logger: logger
        ).collect()[0].decode(Bool.self)
    }

    /// The kept outcome of an earlier request with this key, if any.
    public static func kept(
        _ c: PostgresConnection,
        logger: Logger,
        org: UUID,
        key: String,
        route: String,
        path: String,
        bodyHash: Data
    ) async throws -> Kept? {
        let rows = try await c.query(
            """
            SELECT route, path, body_sha256, status, content_type, response, location FROM idempotency_key
            WHERE org_id = \(org) AND key = \(key) AND completed_at IS NOT NULL
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (r, p, h, status, type, response, location) = try row.decode((String, String, Data, Int?, String?, ByteBuffer?, String?).self)
        guard r == route, p == path, h == bodyHash, let status else { return .mismatch }
        return .replay(status: status, contentType: type, body: response ?? ByteBuffer(), location: location)
    }

    /// Records the response, in the transaction that did the work.
    public static func record(
        _ c: PostgresConnection,
        logger: Logger,
        org: UUID,
        key: String,
        route: String,
        path: String,
        bodyHash: Data,
        status: Int,
        contentType: String?,
        body: ByteBuffer,
        location: String? = nil
    ) async throws {
        try await c.query(
            """
            INSERT INTO idempotency_key (org_id, key, route, path, body_sha256, status, content_type, response, location, completed_at)
            VALUES (\(org), \(key), \(route), \(path), \(bodyHash), \(status), \(contentType), \(body), \(location), now())
            ON CONFLICT (org_id, key) DO UPDATE SET route = excluded.route, path = excluded.path, body_sha256 = excluded.body_sha256,
                status = excluded.status, content_type = excluded.content_type, response = excluded.response,
                location = excluded.location, completed_at = excluded.completed_at, created_at = now()
            """,
            logger: logger
        )
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
