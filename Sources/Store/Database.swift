import CreditCore
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle

/// Pool and time-out settings, set explicitly rather than inherited from library defaults.
public struct DatabaseSettings: Sendable {
    public var url: DatabaseURL
    public var poolSize: Int
    public var connectTimeoutMilliseconds: Int
    public var statementTimeoutMilliseconds: Int
    public var applicationName: String

    public static let defaultPoolSize = 16
    public static let defaultConnectTimeoutMilliseconds = 5_000
    public static let defaultStatementTimeoutMilliseconds = 30_000

    public init(
        url: DatabaseURL,
        poolSize: Int = defaultPoolSize,
        connectTimeoutMilliseconds: Int = defaultConnectTimeoutMilliseconds,
        statementTimeoutMilliseconds: Int = defaultStatementTimeoutMilliseconds,
        applicationName: String = "xyd"
    ) {
        self.url = url
        self.poolSize = poolSize
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
        self.applicationName = applicationName
    }
}

/// The PostgreSQL pool with the habits of this code base: transactions that rethrow the
/// error thrown inside them (not `PostgresTransactionError`), and pool-usage gauges.
///
/// `client` is a Service: it must be running (in the ServiceGroup, or `withRunning`) or
/// queries wait forever.
public struct Database: Sendable {
    public let client: PostgresClient
    public let settings: DatabaseSettings
    public let logger: Logger
    let leasesInUse: Gauge
    let leaseCounter: LeaseCounter

    public init(settings: DatabaseSettings, logger: Logger) {
        var configuration = settings.url.clientConfiguration()
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .milliseconds(Int64(settings.connectTimeoutMilliseconds))
        configuration.options.connectionIdleTimeout = .seconds(60)
        configuration.options.additionalStartupParameters = [
            ("application_name", settings.applicationName),
            ("statement_timeout", String(settings.statementTimeoutMilliseconds)),
            ("timezone", "UTC"),
        ]
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.settings = settings
        self.logger = logger
        self.leasesInUse = Gauge(label: "xyd_db_pool_connections_in_use")
        self.leaseCounter = LeaseCounter()
        Gauge(label: "xyd_db_pool_connections_max").record(settings.poolSize)
    }

    /// Runs `body` on one leased connection.
    @discardableResult
    public func withConnection<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        leasesInUse.record(leaseCounter.add(1))
        defer { leasesInUse.record(leaseCounter.add(-1)) }
        return try await client.withConnection { connection in try await body(connection) }
    }

    /// Runs `body` in one transaction; an error thrown by `body` is rethrown as itself.
    @discardableResult
    public func withTransaction<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        try await withConnection { connection in
            try await Database.transaction(on: connection, logger: logger, body)
        }
    }

    /// A transaction on a connection already leased; unwraps `PostgresTransactionError`.
    @discardableResult
    public static func transaction<R: Sendable>(
        on connection: PostgresConnection, logger: Logger, _ body: (PostgresConnection) async throws -> R
    ) async throws -> R {
        do {
            return try await connection.withTransaction(logger: logger) { c in try await body(c) }
        } catch let error as PostgresTransactionError {
            throw error.closureError ?? error.beginError ?? error.commitError ?? error
        }
    }

    /// Runs the pool for the duration of `body` (for commands that are not a ServiceGroup).
    @discardableResult
    public func withRunning<R: Sendable>(_ body: @Sendable (Database) async throws -> R) async throws -> R {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(self)
        }
    }
}

/// Time ran out for an operation bounded by `withTimeout`.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let limit: Duration
    public var description: String { "\(what) did not finish within \(limit)" }
}

/// Runs `operation`, giving up with `TimedOut` after `limit`.
public func withTimeout<R: Sendable>(
    _ limit: Duration, _ what: String, _ operation: @escaping @Sendable () async throws -> R
) async throws -> R {
    try await withThrowingTaskGroup(of: R.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(what: what, limit: limit)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw CancellationError() }
        return first
    }
}

/// Counts leased connections for the pool gauge.
final class LeaseCounter: Sendable {
    private let value = Locked(0)
    func add(_ delta: Int) -> Int { value.withLock { $0 += delta; return $0 } }
}

extension PSQLError {
    /// The SQLSTATE code, when the server sent one.
    public var sqlState: String? { serverInfo?[.sqlState] }
}

/// Whether an error is the service stopping rather than failing: a cancelled task (graceful
/// shutdown cancels the services' loops), whose pending database requests fail with it.
public func isShutdown(_ error: any Error) -> Bool { error is CancellationError || Task.isCancelled }

/// A short description of a database error that leaks no SQL or bound values.
public func describeDatabaseError(_ error: any Error) -> String {
    if let e = error as? PSQLError {
        let state = e.sqlState ?? "-"
        let message = e.serverInfo?[.message] ?? "\(e.code)"
        return "database error \(state): \(message)"
    }
    return String(describing: error)
}
