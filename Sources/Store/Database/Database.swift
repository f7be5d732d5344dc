import CreditCore
import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceLifecycle
import _ConnectionPoolModule

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
    /// How long a caller waits for a connection of the pool before giving up (the database down,
    /// or every connection busy): then `DatabaseUnavailable`.
    public var acquireTimeoutMilliseconds: Int = defaultAcquireTimeoutMilliseconds
    public static let defaultAcquireTimeoutMilliseconds = 5_000
    /// The longest a connection is held by one piece of work: twice the statement time-out and
    /// ten seconds more. Past it the connection is closed (a statement on a connection the
    /// database dropped may otherwise never be answered).
    public var leaseTimeoutMilliseconds: Int { max(statementTimeoutMilliseconds * 2 + 10_000, acquireTimeoutMilliseconds + 1_000) }

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

    /// The transaction a whole request runs in (an idempotent POST: its effect and the record of
    /// its response commit together). While it is set for a task, this pool's `withConnection`
    /// and `withTransaction` run on its connection, each inside a savepoint, so that a failure
    /// in one part rolls back that part only, as its own transaction would have.
    @TaskLocal public static var ambient: AmbientTransaction?

    public final class AmbientTransaction: Sendable {
        let connection: PostgresConnection
        let pool: ObjectIdentifier
        let savepoints = Locked(0)
        init(connection: PostgresConnection, pool: ObjectIdentifier) {
            self.connection = connection
            self.pool = pool
        }
    }

    /// Runs `body` inside one transaction of this pool that every `withConnection` and
    /// `withTransaction` of this task (and its child tasks) joins; commits when `body` returns.
    public func withAmbientTransaction<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        try await withTransaction { c in
            try await Database.$ambient.withValue(AmbientTransaction(connection: c, pool: ObjectIdentifier(client))) {
                try await body(c)
            }
        }
    }

    /// The ambient transaction when it belongs to this pool.
    var joined: AmbientTransaction? {
        guard let a = Database.ambient, a.pool == ObjectIdentifier(client) else { return nil }
        return a
    }

    /// Closed connections the pool may lend in a row before a call gives up as unavailable.
    static let closedLeaseRetries = 3

    /// A call is stuck when it still holds its caller this long after its lease's deadline: the
    /// deadline closed its connection and cancelled it, and yet it has not returned.
    public static let stuckGrace = Duration.seconds(30)

    /// Calls holding a slot of the pool past their lease's deadline and `stuckGrace`. PostgresNIO
    /// 1.37 can lose a query written to a connection that closed in that instant (a failover):
    /// the request itself is freed by its own deadline (`Deadline`), but the call underneath
    /// never returns and keeps its slot. A few per failover are harmless; when they fill half
    /// the pool, `/readyz` fails so the load balancer routes around the instance and its
    /// supervisor restarts it (README "Running as a cluster").
    public func stuckCalls(at now: ContinuousClock.Instant = .now) -> Int {
        leaseCounter.held(longerThan: .milliseconds(settings.leaseTimeoutMilliseconds) + Self.stuckGrace, at: now)
    }

    /// Whether stuck calls fill so much of the pool that the instance should stop taking traffic.
    public static func tooManyStuck(_ stuck: Int, poolSize: Int) -> Bool { stuck > 0 && stuck * 2 >= poolSize }

    /// Runs `body` on one leased connection (inside the ambient transaction, when there is one).
    @discardableResult
    public func withConnection<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        if let a = joined { return try await Database.savepoint(a, logger: logger, body) }
        let token = leaseCounter.begin()
        leasesInUse.record(token.inUse)
        defer { leasesInUse.record(leaseCounter.end(token.id)) }
        // The wait for a connection has a deadline (the lease is cancelled past it); so has the
        // work on it: the server's statement_timeout bounds each statement, but a statement in
        // flight on a connection the database dropped (a crash) may never be answered — past the
        // lease's deadline the connection is closed, which fails it (and frees the caller).
        let leased = Locked<(acquired: Bool, connection: PostgresConnection?, expired: Bool)>((false, nil, false))
        let limit = Duration.milliseconds(settings.acquireTimeoutMilliseconds)
        let leaseLimit = Duration.milliseconds(settings.leaseTimeoutMilliseconds)
        let client = self.client
        let began = ContinuousClock.now
        let logger = self.logger
        defer {
            let took = ContinuousClock.now - began
            if took > leaseLimit + .seconds(1) {
                logger.warning("a database call held its caller \(took), past its deadline of \(leaseLimit)")
            }
        }
        return try await withoutActuallyEscaping(body) { body in
            try await withThrowingTaskGroup(of: R?.self) { group in
                let work: @Sendable () async throws -> R? = { [body = UncheckedBox(body)] in
                    // The pool may lend a connection whose server went away (seen in a failover
                    // behind HAProxy: PostgresNIO 1.37 lent the closed connection, and a query on it
                    // was never answered nor failed, even past the lease's deadline): given back
                    // unused, and another asked for (a few times, within the acquire deadline).
                    for _ in 0..<Self.closedLeaseRetries {
                        let done: R?? = try await client.withConnection { connection in
                            guard !connection.isClosed else { return nil }
                            leased.withLock { $0 = (true, connection, false) }
                            return .some(try await body.value(connection))
                        }
                        if let done { return done }
                    }
                    throw DatabaseUnavailable(why: "the pool lent only connections that had closed")
                }
                group.addTask(operation: work)
                group.addTask {
                    try await Task.sleep(for: limit)
                    if !leased.withLock({ $0.acquired }) { throw DatabaseUnavailable(why: "no connection within \(limit)") }
                    try await Task.sleep(for: leaseLimit - limit)
                    if let connection = leased.withLock({ l -> PostgresConnection? in
                        l.expired = true
                        return l.connection
                    }) {
                        try? await connection.close()
                        throw DatabaseUnavailable(why: "no answer within \(leaseLimit): the connection was closed")
                    }
                    return nil
                }
                defer { group.cancelAll() }
                do {
                    while let next = try await group.next() {
                        if let result = next { return result }
                    }
                    throw CancellationError()
                } catch  where leased.withLock({ $0.expired }) && !(error is DatabaseUnavailable) {
                    // The work failed because its connection was closed at the deadline: say so.
                    throw DatabaseUnavailable(why: "no answer within \(leaseLimit): the connection was closed")
                } catch let e as ConnectionPoolError where e == .connectionCreationCircuitBreakerTripped {
                    // No connection could be made for a while (the database down, a failover).
                    throw DatabaseUnavailable(why: "no connection could be made")
                }
            }
        }
    }

    /// Runs `body` in one transaction; an error thrown by `body` is rethrown as itself.
    @discardableResult
    public func withTransaction<R: Sendable>(_ body: (PostgresConnection) async throws -> R) async throws -> R {
        if let a = joined { return try await Database.savepoint(a, logger: logger, body) }
        return try await withConnection { connection in
            try await Database.transaction(on: connection, logger: logger, body)
        }
    }

    static func savepoint<R: Sendable>(
        _ a: AmbientTransaction,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> R
    ) async throws -> R {
        let number = a.savepoints.withLock { n -> Int in
            n += 1
            return n
        }
        let name = "xyd_\(number)"
        try await a.connection.query("SAVEPOINT \(unescaped: name)", logger: logger)
        do {
            let result = try await body(a.connection)
            try await a.connection.query("RELEASE SAVEPOINT \(unescaped: name)", logger: logger)
            return result
        } catch {
            _ = try? await a.connection.query("ROLLBACK TO SAVEPOINT \(unescaped: name)", logger: logger)
            throw error
        }
    }

    /// A transaction on a connection already leased; unwraps `PostgresTransactionError`.
    @discardableResult
    public static func transaction<R: Sendable>(
        on connection: PostgresConnection,
        logger: Logger,
        _ body: (PostgresConnection) async throws -> R
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
    _ limit: Duration,
    _ what: String,
    _ operation: @escaping @Sendable () async throws -> R
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

/// Runs `operation` in a task of its own and answers within `limit` whatever it does: past it,
/// `TimedOut` is thrown at once and the operation is cancelled (it may still finish on its own
/// later; its result is dropped). `withTimeout` instead waits for its child to notice the
/// cancellation, which a call stuck in I/O may never do.
public func withDeadline<R: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ operation: @escaping @Sendable () async throws -> R
) async throws -> R {
    let task = Task { try await operation() }
    let outcome = Locked<CheckedContinuation<R, any Error>?>(nil)
    @Sendable func finish(_ result: Result<R, any Error>) -> Bool {
        guard
            let k = outcome.withLock({ k -> CheckedContinuation<R, any Error>? in
                defer { k = nil }
                return k
            })
        else { return false }
        k.resume(with: result)
        return true
    }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (k: CheckedContinuation<R, any Error>) in
            outcome.withLock { $0 = k }
            Task { _ = finish(await task.result) }
            Task {
                try? await Task.sleep(for: limit)
                if finish(.failure(TimedOut(what: what, limit: limit))) { task.cancel() }
            }
        }
    } onCancel: {
        task.cancel()
    }
}

/// The database could not be reached in time (no connection within the acquire deadline): the
/// service is unavailable for now, not broken; HTTP answers 503 with `Retry-After`.
public struct DatabaseUnavailable: Error, CustomStringConvertible {
    public let why: String
    public var description: String { "the database is unavailable: \(why)" }
}

/// Carries a non-Sendable closure into a child task that the caller awaits before returning
/// (so the closure never outlives its scope nor runs concurrently with the caller).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Counts leased connections for the pool gauge, and when each was lent: a call still holding
/// its connection well past the lease's deadline is stuck (see `Database.stuckCalls`).
final class LeaseCounter: Sendable {
    private let state = Locked<(next: Int, since: [Int: ContinuousClock.Instant])>((0, [:]))
    func begin(at now: ContinuousClock.Instant = .now) -> (id: Int, inUse: Int) {
        state.withLock { s in
            s.next += 1
            s.since[s.next] = now
            return (s.next, s.since.count)
        }
    }
    func end(_ id: Int) -> Int {
        state.withLock { s in
            s.since[id] = nil
            return s.since.count
        }
    }
    func held(longerThan limit: Duration, at now: ContinuousClock.Instant) -> Int {
        state.withLock { s in s.since.values.filter { now - $0 > limit }.count }
    }
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
