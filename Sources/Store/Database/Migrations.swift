import CreditCore
import Crypto
import Foundation
import Logging
import PostgresNIO

/// One numbered, forward-only migration: `db/migrations/NNNN_name.sql`.
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes, lowercase hex.
    public let checksum: String
}

public enum MigrationError: Error, CustomStringConvertible, Equatable {
    case folderUnreadable(String)
    case badFileName(String)
    case duplicateVersion(Int)
    case edited(name: String)
    case unknownApplied(name: String)
    case pending([String])
    case failed(name: String, statement: Int, reason: String)

    public var description: String {
        switch self {
        case .folderUnreadable(let path):
            "cannot read the migrations folder \(path) (set XYD_MIGRATIONS_DIR or run from the checkout)"
        case .badFileName(let name): "migration file \(name) is not named NNNN_name.sql"
        case .duplicateVersion(let v): "two migration files have version \(v)"
        case .edited(let name):
            "migration \(name) was changed after it was applied; migrations are forward-only: restore the file and add a new migration instead"
        case .unknownApplied(let name):
            "the database has migration \(name) applied, which this code does not know: it is newer than this build"
        case .pending(let names):
            "the database schema is behind: \(names.count) pending migration(s) (\(names.joined(separator: ", "))). Run `xyd migrate` first"
        case .failed(let name, let statement, let reason):
            "migration \(name) failed at statement \(statement): \(reason); nothing of it was applied"
        }
    }
}

public struct Migrator: Sendable {
    public let migrations: [Migration]
    /// Key of the advisory lock that serialises concurrent migrators.
    static let advisoryLockKey: Int64 = 0x7879_645f_6d69_67  // "xyd_mig"

    public init(migrations: [Migration]) { self.migrations = migrations }

    /// Loads `NNNN_name.sql` files from a folder, ordered by version.
    public init(folder: String) throws {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw MigrationError.folderUnreadable(folder)
        }
        var migrations: [Migration] = []
        for file in names.sorted() where file.hasSuffix(".sql") {
            let stem = String(file.dropLast(4))
            let parts = stem.split(separator: "_", maxSplits: 1)
            guard parts.count == 2, parts[0].count == 4, let version = Int(parts[0]) else {
                throw MigrationError.badFileName(file)
            }
            guard let data = FileManager.default.contents(atPath: folder + "/" + file),
                let sql = String(data: data, encoding: .utf8)
            else { throw MigrationError.folderUnreadable(folder + "/" + file) }
            let checksum = SHA256.hash(data: data).hexString
            migrations.append(Migration(version: version, name: stem, sql: sql, checksum: checksum))
        }
        let versions = migrations.map(\.version)
        if let duplicate = versions.first(where: { v in versions.filter { $0 == v }.count > 1 }) {
            throw MigrationError.duplicateVersion(duplicate)
        }
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    public struct Applied: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let checksum: String
    }

    /// Applied migrations as recorded; empty when the table does not exist yet.
    public func applied(on connection: PostgresConnection, logger: Logger) async throws -> [Applied] {
        let exists =
            try await connection.query(
                "SELECT to_regclass('public.schema_migrations') IS NOT NULL",
                logger: logger
            ).collect().first?.decode(Bool.self) ?? false
        guard exists else { return [] }
        var result: [Applied] = []
        for try await (version, name, checksum) in try await connection.query(
            "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
            logger: logger
        ).decode((Int, String, String).self) {
            result.append(Applied(version: version, name: name, checksum: checksum))
        }
        return result
    }

    /// The migrations not yet applied; throws when an applied one was edited or is unknown.
    public func pending(given applied: [Applied]) throws -> [Migration] {
        let byVersion = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for a in applied {
            guard let m = byVersion[a.version] else { throw MigrationError.unknownApplied(name: a.name) }
            if m.checksum != a.checksum { throw MigrationError.edited(name: m.name) }
        }
        let done = Set(applied.map(\.version))
        return migrations.filter { !done.contains($0.version) }
    }

    /// Throws `.pending` (or `.edited`) unless the schema is exactly current.
    public func checkCurrent(_ db: Database) async throws {
        let applied = try await db.withConnection { try await self.applied(on: $0, logger: db.logger) }
        let pending = try pending(given: applied)
        if !pending.isEmpty { throw MigrationError.pending(pending.map(\.name)) }
    }

    /// Applies every pending migration, each in its own transaction; returns their names.
    @discardableResult
    public func migrate(_ db: Database, progress: @Sendable (String) -> Void = { _ in }) async throws -> [String] {
        let logger = db.logger
        return try await db.withConnection { connection in
            try await Database.transaction(on: connection, logger: logger) { c in
                // Under the lock: concurrent CREATE TABLE IF NOT EXISTS can still collide.
                try await c.query("SELECT pg_advisory_xact_lock(\(Migrator.advisoryLockKey))", logger: logger)
                try await c.query(
                    """
                    CREATE TABLE IF NOT EXISTS schema_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        checksum text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now(),
                        duration_ms integer NOT NULL
                    )
                    """,
                    logger: logger
                )
            }
            var appliedNames: [String] = []
            for migration in try pending(given: try await applied(on: connection, logger: logger)) {
                let started = ContinuousClock.now
                let done = try await Database.transaction(on: connection, logger: logger) { c in
                    try await c.query("SELECT pg_advisory_xact_lock(\(Migrator.advisoryLockKey))", logger: logger)
                    // Another migrator may have applied it while we waited for the lock.
                    let already = try await c.query(
                        "SELECT checksum FROM schema_migrations WHERE version = \(migration.version)",
                        logger: logger
                    ).collect()
                    if let row = already.first {
                        if try row.decode(String.self) != migration.checksum {
                            throw MigrationError.edited(name: migration.name)
                        }
                        return false
                    }
                    for (index, statement) in SQLScript.statements(migration.sql).enumerated() {
                        do {
                            try await c.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        } catch {
                            throw MigrationError.failed(
                                name: migration.name,
                                statement: index + 1,
                                reason: describeDatabaseError(error)
                            )
                        }
                    }
                    let ms = Int((ContinuousClock.now - started) / .milliseconds(1))
                    try await c.query(
                        """
                        INSERT INTO schema_migrations (version, name, checksum, duration_ms)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum), \(ms))
                        """,
                        logger: logger
                    )
                    return true
                }
                if done {
                    appliedNames.append(migration.name)
                    progress(migration.name)
                }
            }
            return appliedNames
        }
    }
}
