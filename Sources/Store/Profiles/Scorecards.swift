import CreditCore
import Crypto
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Scorecards stored as data: published once per version, one active at a time.
public enum Scorecards {
    public enum PublishError: Error, CustomStringConvertible {
        case differentContent(version: String)
        case unknownVersion(String)
        /// Well formed but not fit to score anyone (`Scorecard.checkPublishable`).
        case refused(String)
        public var description: String {
            switch self {
            case .refused(let why): why
            case .differentContent(let v): "scorecard \(v) is already published with different content: give the new card a new version"
            case .unknownVersion(let v): "no scorecard \(v) is published"
            }
        }
    }

    public struct Published: Sendable, Codable {
        public let version: String
        public let sha256: String
        public let publishedAt: Date
        public let active: Bool
        enum CodingKeys: String, CodingKey {
            case version, sha256, active
            case publishedAt = "published_at"
        }
    }

    /// Stores a card (again with the same content: nothing changes). With `activate`, makes it
    /// the active one and queues every enterprise for rescoring. Returns whether it was new and
    /// how many enterprises are queued now. Refuses a card whose points run against a feature's
    /// declared direction, or that scores a feature 0 everywhere without saying so.
    public static func publish(_ db: Database, card: Scorecard, file: Data, activate: Bool) async throws -> (new: Bool, queued: Int) {
        do { try card.checkPublishable() } catch let e as Scorecard.Invalid { throw PublishError.refused(e.description) }
        let body = String(decoding: file, as: UTF8.self)
        let sha = SHA256.hash(data: file).map { String(format: "%02x", $0) }.joined()
        return try await db.withTransaction { c in
            let logger = db.logger
            // One publisher at a time.
            try await c.query("SELECT pg_advisory_xact_lock(hashtext('xyd.scorecard'))", logger: logger)
            let existing = try await c.query("SELECT sha256 FROM scorecard WHERE version = \(card.version)", logger: logger).collect()
            var new = false
            if let row = existing.first {
                guard try row.decode(String.self) == sha else { throw PublishError.differentContent(version: card.version) }
            } else {
                try await c.query(
                    "INSERT INTO scorecard (version, body, sha256) VALUES (\(card.version), \(body)::jsonb, \(sha))",
                    logger: logger
                )
                new = true
            }
            guard activate else { return (new, 0) }
            let active = try await c.query("SELECT version FROM active_scorecard", logger: logger).collect().first?.decode(String.self)
            if active == card.version { return (new, 0) }
            try await c.query("INSERT INTO scorecard_activation (version) VALUES (\(card.version))", logger: logger)
            try await ProfileStore.enqueueAll(c, logger: logger)
            let queued = try await c.query("SELECT count(*)::int FROM profile_queue", logger: logger).collect()[0].decode(Int.self)
            return (new, queued)
        }
    }

    public static func list(_ db: Database) async throws -> [Published] {
        try await db.withConnection { c in
            var out: [Published] = []
            for try await (v, sha, at, active) in try await c.query(
                """
                SELECT s.version, s.sha256, s.published_at, s.version = (SELECT version FROM active_scorecard)
                FROM scorecard s ORDER BY s.published_at
                """,
                logger: db.logger
            ).decode((String, String, Date, Bool?).self) {
                out.append(Published(version: v, sha256: sha, publishedAt: at, active: active ?? false))
            }
            return out
        }
    }

    /// The card active now, or at a past moment.
    public static func active(_ c: PostgresConnection, at moment: Date? = nil, logger: Logger) async throws -> Scorecard? {
        let rows = try await c.query(
            """
            SELECT s.body::text FROM scorecard s
            JOIN (SELECT version FROM scorecard_activation WHERE activated_at <= coalesce(\(moment)::timestamptz, 'infinity')
                  ORDER BY activated_at DESC LIMIT 1) a USING (version)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        return try Scorecard.decode(Data(try row.decode(String.self).utf8))
    }

    /// The active card as published: its file exactly as stored, its digest and when it was activated.
    public static func activeDocument(
        _ c: PostgresConnection,
        logger: Logger
    ) async throws -> (
        body: String, sha256: String, activatedAt: Date
    )? {
        let rows = try await c.query(
            """
            SELECT s.body::text, s.sha256, a.activated_at FROM scorecard s
            JOIN (SELECT version, activated_at FROM scorecard_activation ORDER BY activated_at DESC LIMIT 1) a USING (version)
            """,
            logger: logger
        ).collect()
        guard let row = rows.first else { return nil }
        let (body, sha, at) = try row.decode((String, String, Date).self)
        return (body, sha, at)
    }

    public static func card(_ c: PostgresConnection, version: String, logger: Logger) async throws -> Scorecard? {
        let rows = try await c.query("SELECT body::text FROM scorecard WHERE version = \(version)", logger: logger).collect()
        guard let row = rows.first else { return nil }
        return try Scorecard.decode(Data(try row.decode(String.self).utf8))
    }
}

/// The active scorecard, decoded once per version.
public final class ScorecardCache: Sendable {
    let held = Locked<Scorecard?>(nil)

    public init() {}

    public func active(_ c: PostgresConnection, logger: Logger) async throws -> Scorecard? {
        let version = try await c.query("SELECT version FROM active_scorecard", logger: logger).collect().first?.decode(String.self)
        guard let version else { return nil }
        return try await card(c, version: version, logger: logger)
    }

    /// A published version (immutable once published), read from the database only when it is
    /// not the one held.
    public func card(_ c: PostgresConnection, version: String, logger: Logger) async throws -> Scorecard? {
        if let card = held.withLock({ $0 }), card.version == version { return card }
        let card = try await Scorecards.card(c, version: version, logger: logger)
        held.withLock { $0 = card }
        return card
    }
}
