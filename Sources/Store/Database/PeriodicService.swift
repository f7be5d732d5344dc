import Foundation
import Logging
import ServiceLifecycle

/// The one loop of every background job inside `xyd serve` (statistics, the market sweep, audit
/// sealing, profiles, webhook delivery, each dataset's ingestion): after the start-up checks
/// (`gate`), a turn of `work`, then a pause of `interval` — none when the turn says it was busy,
/// so a backlog drains at full speed. A failure is logged and tried again at the next turn; an
/// error of shutting down ends the loop quietly. At graceful shutdown the loop ends after its
/// current turn, then `finally` runs (to seal what is left, to stop a transfer thread).
public struct PeriodicService: Service {
    /// What a turn found: `busy` runs the next turn at once, `idle` waits `interval` first.
    public enum Turn: Sendable {
        case idle
        case busy
    }

    let what: String
    let logger: Logger
    let interval: Duration
    let gate: Gate?
    let work: @Sendable () async throws -> Turn
    let finally: (@Sendable () async -> Void)?
    /// A turn still running past this is abandoned (logged) and the next one starts: a query the
    /// driver lost in a failover must not stop the job for good (see `Deadline`). Nil: no limit.
    var turnLimit: Duration?

    /// - Parameters:
    ///   - what: the job's name in the log ("\(what) failed; will retry").
    public init(
        _ what: String,
        logger: Logger,
        interval: Duration,
        startAfter gate: Gate?,
        work: @escaping @Sendable () async throws -> Turn,
        finally: (@Sendable () async -> Void)? = nil,
        turnLimit: Duration? = nil
    ) {
        precondition(interval > .zero)
        self.turnLimit = turnLimit
        self.what = what
        self.logger = logger
        self.interval = interval
        self.gate = gate
        self.work = work
        self.finally = finally
    }

    /// A job that runs every `intervalSeconds` on the database (a turn is always `idle`).
    public init(
        _ what: String,
        db: Database,
        intervalSeconds: Int,
        startAfter gate: Gate?,
        work: @escaping @Sendable (Database) async throws -> Void
    ) {
        self.init(what, logger: db.logger, interval: .seconds(intervalSeconds), startAfter: gate) {
            try await work(db)
            return .idle
        }
    }

    public func run() async throws {
        let (work, what, logger, interval, gate, limit) = (self.work, self.what, self.logger, self.interval, self.gate, self.turnLimit)
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            while !Task.isCancelled {
                var turn = Turn.idle
                do {
                    if let limit { turn = try await Deadline.run(limit, work) } else { turn = try await work() }
                } catch is Deadline.Expired {
                    logger.error("\(what): a turn did not finish within \(limit!): abandoned, the next one starts")
                } catch  where isShutdown(error) {
                    break  // shutting down: not a failure
                } catch {
                    logger.error("\(what) failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
                }
                if turn == .idle { try? await Task.sleep(for: interval) }
            }
        }
        await finally?()
    }
}
