import Foundation
import Logging
import ServiceLifecycle

/// Rebuilds the regulators' summary tables every `XYD_STATS_REFRESH_S` (and once at start), so
/// that their routes never aggregate raw records per request.
public enum StatsService {
    public static let defaultIntervalSeconds = 300

    public static func service(db: Database, intervalSeconds: Int, startAfter gate: Gate? = nil) -> PeriodicService {
        PeriodicService("statistics refresh", db: db, intervalSeconds: intervalSeconds, startAfter: gate) { db in
            let took = try await Stats.refresh(db)
            db.logger.debug("statistics refreshed", metadata: ["took_ms": "\(took.map { "\($0.0)=\($0.1)" }.joined(separator: " "))"])
        }
    }
}
