import CreditCore
import Foundation
import Logging
import PostgresNIO

/// Where the read-only routes read: a streaming replica while it is fresh, else the leader.
///
/// The bounded-staleness rule: every `checkIntervalMilliseconds` the leader's WAL position is
/// sampled and the replica's replayed position read; the replica is fresh when it has replayed
/// at least what the leader had written `maxLag` ago (the newest sample that old). So a read
/// on the replica sees every commit the leader acknowledged at least `maxLag` plus one check
/// interval before it. A replica that lags, is not in recovery (promoted), or does not answer —
/// or a leader that does not answer — sends reads to the leader until a check says otherwise.
/// Without a replica every read is the leader's.
public final class Reads: Sendable {
    public static let defaultMaxLagMilliseconds = 1_000
    public static let checkIntervalMilliseconds = 250

    public let primary: Database
    public let replica: Database?
    let state: Locked<State>

    struct State {
        var fresh = false
        var window: LagWindow
    }

    /// The leader's WAL positions sampled over a little more than `maxLag`, oldest first, and
    /// the position the replica must have replayed to be fresh.
    public struct LagWindow: Sendable {
        let maxLag: Duration
        var samples: [(at: ContinuousClock.Instant, lsn: Int64)] = []
        public init(maxLag: Duration) { self.maxLag = maxLag }

        /// Records the leader's position now; returns the target: the newest position sampled at
        /// least `maxLag` ago — until there is one (just started), the oldest, which is stricter.
        public mutating func record(at now: ContinuousClock.Instant, lsn: Int64) -> Int64 {
            samples.append((now, lsn))
            if let keep = samples.lastIndex(where: { $0.at <= now - maxLag }), keep > 0 { samples.removeFirst(keep) }
            return samples[0].lsn
        }
    }

    public init(primary: Database, replica: Database?, maxLagMilliseconds: Int = defaultMaxLagMilliseconds) {
        self.primary = primary
        self.replica = replica
        self.state = Locked(State(window: LagWindow(maxLag: .milliseconds(maxLagMilliseconds))))
    }

    /// The database for a read-only route now.
    public var database: Database { freshReplica ?? primary }

    /// The replica when it is fresh now, else nil.
    public var freshReplica: Database? {
        guard let replica, state.withLock({ $0.fresh }) else { return nil }
        return replica
    }

    public var replicaFresh: Bool { state.withLock { $0.fresh } }

    /// One check: samples the leader, reads the replica's replay position, decides.
    public func check() async {
        guard let replica else { return }
        let now = ContinuousClock.now
        do {
            let lsn = try await primary.withConnection { c in
                try await c.query("SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::bigint", logger: primary.logger).collect()[0].decode(
                    Int64.self
                )
            }
            let target = state.withLock { $0.window.record(at: now, lsn: lsn) }
            let (recovering, replayed) = try await replica.withConnection { c in
                try await c.query(
                    "SELECT pg_is_in_recovery(), (coalesce(pg_last_wal_replay_lsn(), '0/0'::pg_lsn) - '0/0'::pg_lsn)::bigint",
                    logger: replica.logger
                ).collect()[0].decode((Bool, Int64).self)
            }
            let fresh = recovering && replayed >= target
            let was = state.withLock { s -> Bool in
                defer { s.fresh = fresh }
                return s.fresh
            }
            if was != fresh {
                primary.logger.notice(
                    "read replica \(fresh ? "fresh: read-only routes read from it" : "behind: read-only routes read from the leader")"
                )
            }
        } catch {
            let was = state.withLock { s -> Bool in
                defer { s.fresh = false }
                return s.fresh
            }
            if was { primary.logger.notice("read replica or leader not answering: read-only routes read from the leader") }
        }
    }

    /// The checks, every `checkIntervalMilliseconds`, inside `xyd serve`.
    public func service(startAfter gate: Gate?) -> PeriodicService {
        PeriodicService(
            "read replica check",
            logger: primary.logger,
            interval: .milliseconds(Self.checkIntervalMilliseconds),
            startAfter: gate
        ) { [self] in
            await self.check()
            return .idle
        }
    }
}
