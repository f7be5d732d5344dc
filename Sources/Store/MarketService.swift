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
            if expired + lapsed > 0 {
                db.logger.info("demand deadlines", metadata: ["expired": "\(expired)", "lapsed": "\(lapsed)"])
            }
        }
    }
}
