import CreditCore
import Logging
import ServiceLifecycle

/// Inside `xyd serve`, every `XYD_MARKET_SWEEP_S`: demands past their 30 days expire, lapsed
/// take-ups return to the pool, open demands are matched again, idempotency keys are purged and
/// commitments whose period ended are evaluated.
public enum MarketService {
    public static let defaultIntervalSeconds = 60

    public static func service(db: Database, intervalSeconds: Int, startAfter gate: Gate? = nil) -> PeriodicService {
        PeriodicService("demand sweep", db: db, intervalSeconds: intervalSeconds, startAfter: gate) { db in
            let (expired, lapsed) = try await Demands.sweep(db)
            try await Demands.rematch(db)
            try await Idempotency.purge(db)
            try await CommitmentStore.sweep(db)
            // Penalties that became repairable: their businesses are told (once each).
            _ = try await db.withTransaction { c in try await Messages.repairable(c, logger: db.logger, today: Day.todayInChina()) }
            if expired + lapsed > 0 {
                db.logger.info("demand deadlines", metadata: ["expired": "\(expired)", "lapsed": "\(lapsed)"])
            }
        }
    }
}

/// Asks for the open demands to be matched again soon (a bank changed a product): the
/// re-matcher does it in the background, in batches of `Demands.rematchBatch` demands per
/// transaction, so that a product change answers at once and delays no other request.
/// Requests that arrive while a pass runs are folded into one more pass.
public final class RematchRequests: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func request() { continuation.yield() }

    /// The background service answering the requests until shutdown.
    public func service(db: Database, startAfter gate: Gate? = nil) -> some Service {
        Rematcher(requests: self, db: db, gate: gate)
    }
}

struct Rematcher: Service {
    /// A burst of product changes is matched once.
    static let settleMilliseconds = 300
    let requests: RematchRequests
    let db: Database
    let gate: Gate?

    func run() async throws {
        let (requests, db) = (self.requests, self.db)
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            for await _ in requests.stream {
                try? await Task.sleep(for: .milliseconds(Self.settleMilliseconds))
                do {
                    let (granted, revoked) = try await Demands.rematch(db)
                    db.logger.debug("open demands matched again", metadata: ["granted": "\(granted)", "revoked": "\(revoked)"])
                } catch  where isShutdown(error) {
                    return
                } catch {
                    db.logger.error(
                        "re-matching after a product change failed; the market sweep retries",
                        metadata: ["error": "\(describeDatabaseError(error))"]
                    )
                }
            }
        }
    }
}
