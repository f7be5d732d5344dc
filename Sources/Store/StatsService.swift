import Foundation
import Logging
import ServiceLifecycle

/// Rebuilds the regulators' summary tables inside `xyd serve` every `XYD_STATS_REFRESH_S`
/// (and once at start), so that their routes never aggregate raw records per request.
public struct StatsService: Service {
    public static let defaultIntervalSeconds = 300

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
                    let took = try await Stats.refresh(db)
                    db.logger.debug("statistics refreshed", metadata: ["took_ms": "\(took.map { "\($0.0)=\($0.1)" }.joined(separator: " "))"])
                } catch {
                    db.logger.error("statistics refresh failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
                }
                try? await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }
}
