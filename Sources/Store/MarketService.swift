import CreditCore
import Logging
import ServiceLifecycle

/// Keeps the marketplace's deadlines inside `xyd serve`: every `interval` it expires demands
/// past their life, returns lapsed take-ups to the pool, matches open demands again (products
/// and profiles change), and forgets old idempotency keys.
public struct MarketService: Service {
    public static let defaultIntervalSeconds = 60

    let db: Database
    let intervalSeconds: Int
    let gate: Gate?

    public init(db: Database, intervalSeconds: Int, startAfter gate: Gate? = nil) {
        precondition(intervalSeconds > 0)
        self.db = db
        self.intervalSeconds = intervalSeconds
        self.gate = gate
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            while !Task.isCancelled {
                do {
                    let (expired, lapsed) = try await Demands.sweep(db)
                    try await Demands.rematch(db)
                    try await Idempotency.purge(db)
                    try await CommitmentStore.sweep(db)
                    if expired + lapsed > 0 {
                        db.logger.info("demand deadlines", metadata: ["expired": "\(expired)", "lapsed": "\(lapsed)"])
                    }
                } catch {
                    db.logger.error("demand sweep failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
                }
                try? await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }
}
