import CreditCore
import Foundation
import Logging
import Store

/// Asks for the process to be restarted once calls the database never answered hold half of a
/// pool (`Database.stuckCalls`; PostgresNIO 1.33 can lose a query written to a connection that
/// closed in that instant — upstream vapor/postgres-nio#487, reverted in #501). Such a call
/// keeps its slot for good; a fresh process has a fresh pool. The restart is graceful: SIGTERM to
/// this process (requests in flight are answered, background work ends its turn), then
/// `xyd serve` exits with `exitStatus`, which its supervisor (`ops/supervise`, systemd's
/// `Restart=on-failure`) takes as "start me again".
public enum PoolWatch {
    public static let interval = Duration.seconds(5)
    /// EX_TEMPFAIL: a temporary failure, try again.
    public static let exitStatus: Int32 = 75
    /// Set once a restart was asked for (`xyd serve` then exits with `exitStatus`).
    public static let restartRequested = Locked(false)
    /// Whether this process may stop itself (set by `xyd serve`; an application built inside
    /// tests only logs).
    public static let mayStopProcess = Locked(false)

    /// The first pool too full of stuck calls, as (stuck, size), or nil.
    public static func tooMany(_ pools: [(stuck: Int, size: Int)]) -> (stuck: Int, size: Int)? {
        pools.first { Database.tooManyStuck($0.stuck, poolSize: $0.size) }
    }

    public static func service(
        pools: [Database],
        logger: Logger,
        startAfter gate: Gate?,
        interval: Duration = interval,
        counts: (@Sendable () -> [(stuck: Int, size: Int)])? = nil,
        restart: @escaping @Sendable () -> Void = { if mayStopProcess.withLock({ $0 }) { kill(getpid(), SIGTERM) } }
    ) -> PeriodicService {
        let counts = counts ?? { pools.map { (stuck: $0.stuckCalls(), size: $0.settings.poolSize) } }
        return PeriodicService("watching the pools for stuck calls", logger: logger, interval: interval, startAfter: gate) {
            guard let full = tooMany(counts()) else { return .idle }
            let first = restartRequested.withLock { asked -> Bool in
                defer { asked = true }
                return !asked
            }
            if first {
                logger.error(
                    "database calls the database never answered hold \(full.stuck) of the pool's \(full.size) connections: stopping gracefully to be restarted (exit status \(exitStatus))"
                )
                restart()
            }
            return .idle
        }
    }
}
