import CreditCore
import Foundation
import Logging
import PostgresNIO
import Store

/// Where the tests find PostgreSQL: `ops/test` starts the cluster, migrates the template
/// database and exports these variables. Without them the database tests fail, saying so.
public enum TestEnvironment {
    public static func ownerURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment["XYD_TEST_OWNER_URL"] else {
            throw TestSetupError("XYD_TEST_OWNER_URL is not set: run the tests with ops/test, which starts PostgreSQL")
        }
        return try DatabaseURL(text)
    }

    public static func appURL() throws -> DatabaseURL {
        guard let text = ProcessInfo.processInfo.environment["XYD_TEST_DATABASE_URL"] else {
            throw TestSetupError("XYD_TEST_DATABASE_URL is not set: run the tests with ops/test, which starts PostgreSQL")
        }
        return try DatabaseURL(text)
    }

    public static var template: String { ProcessInfo.processInfo.environment["XYD_TEST_TEMPLATE"] ?? "xyd_test" }

    /// The migrations folder of this checkout.
    public static var migrationsDirectory: String {
        if let dir = ProcessInfo.processInfo.environment["XYD_MIGRATIONS_DIR"] { return dir }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("db/migrations").path
    }

    /// The built `xyd` command (ops/test exports XYD_BIN).
    public static var xydBinary: String {
        if let bin = ProcessInfo.processInfo.environment["XYD_BIN"] { return bin }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/xyd").path
    }

    /// The tests' audit key (base64): every test process and the `xyd` children it starts use it.
    public static let auditKeyBase64 = Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()

    /// How long the tests' pools (and the servers and commands they start) wait for a connection.
    public static let acquireTimeoutMilliseconds = 60_000

    /// Sets the test process's audit key (idempotent).
    public static func configureAuditKey() {
        AuditKey.configure(Data(base64Encoded: auditKeyBase64)!)
    }

    public static let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .error
        return logger
    }()
}

public struct TestSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A database of its own for one test: a copy of the migrated template (or empty), with
/// pools for the owner role and the application role, dropped afterwards.
public struct TestDatabase: Sendable {
    public let name: String
    public let owner: Database
    public let app: Database

    public var ownerURL: DatabaseURL { owner.settings.url }
    public var appURL: DatabaseURL { app.settings.url }

    /// At most this many test databases at once (`XYD_TEST_DATABASES`): each test's pools and
    /// the app it builds may hold up to 16 connections, and Swift Testing starts every test at
    /// once — unbounded, a full run exhausted the cluster's connections.
    public static let concurrentLimit = Int(ProcessInfo.processInfo.environment["XYD_TEST_DATABASES"] ?? "") ?? 10
    static let slots = Slots(limit: concurrentLimit)

    /// Runs `body` with a fresh database whose pools are running (waiting for a free slot first).
    @discardableResult
    public static func with<R: Sendable>(
        migrated: Bool = true,
        _ body: @Sendable (TestDatabase) async throws -> R
    ) async throws -> R {
        TestEnvironment.configureAuditKey()
        await slots.acquire()
        do {
            let result = try await run(migrated: migrated, body)
            await slots.release()
            return result
        } catch {
            await slots.release()
            // A database error's own description hides its detail: print what happened, so that a
            // failure says why.
            FileHandle.standardError.write(Data("TestDatabase: \(String(reflecting: error))\n".utf8))
            throw error
        }
    }

    static func run<R: Sendable>(migrated: Bool, _ body: @Sendable (TestDatabase) async throws -> R) async throws -> R {
        let name = "xyd_t_" + secureRandomBytes(6).hexString
        let source = migrated ? TestEnvironment.template : "template0"
        try await adminExecute("CREATE DATABASE \(name) TEMPLATE \(source)")
        // A loaded machine may take seconds to open a connection: the tests' pools wait for one
        // as long as they must (the acquire deadline has its own test, FaultTests).
        var ownerSettings = DatabaseSettings(url: try TestEnvironment.ownerURL().with(database: name), poolSize: 4)
        ownerSettings.acquireTimeoutMilliseconds = TestEnvironment.acquireTimeoutMilliseconds
        var appSettings = DatabaseSettings(url: try TestEnvironment.appURL().with(database: name), poolSize: 8)
        appSettings.acquireTimeoutMilliseconds = TestEnvironment.acquireTimeoutMilliseconds
        let db = TestDatabase(
            name: name,
            owner: Database(settings: ownerSettings, logger: TestEnvironment.logger),
            app: Database(settings: appSettings, logger: TestEnvironment.logger)
        )
        let result: Result<R, any Error>
        do {
            let value = try await db.owner.withRunning { _ in
                try await db.app.withRunning { _ in try await body(db) }
            }
            result = .success(value)
        } catch {
            result = .failure(error)
        }
        try? await adminExecute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        return try result.get()
    }

    /// Runs one statement on the `postgres` database as the owner role (a pool runs only once,
    /// so each call makes its own).
    public static func adminExecute(_ sql: String) async throws {
        // As the tests' own pools: a loaded machine may take seconds to give a connection (seen:
        // MigrationTests refused after 5 s while the whole suite started at once).
        var settings = DatabaseSettings(url: try TestEnvironment.ownerURL().with(database: "postgres"), poolSize: 1)
        settings.acquireTimeoutMilliseconds = TestEnvironment.acquireTimeoutMilliseconds
        let admin = Database(settings: settings, logger: TestEnvironment.logger)
        try await admin.withRunning { admin in try await admin.execute(sql) }
    }
}

extension Database {
    /// Runs one SQL statement (tests only).
    public func execute(_ sql: String) async throws {
        try await withConnection { c in
            try await c.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger)
        }
    }

    /// The first column of the first row, decoded (tests only).
    public func scalar<T: PostgresDecodable & Sendable>(_ sql: String, as: T.Type = T.self) async throws -> T {
        try await withConnection { c in
            let rows = try await c.query(PostgresQuery(unsafeSQL: sql), logger: TestEnvironment.logger).collect()
            guard let row = rows.first else { throw TestSetupError("no row from: \(sql)") }
            return try row.decode(T.self)
        }
    }
}

/// A counting semaphore for async code.
actor Slots {
    let limit: Int
    var used = 0
    var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        if used < limit {
            used += 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty { used -= 1 } else { waiting.removeFirst().resume() }
    }
}
