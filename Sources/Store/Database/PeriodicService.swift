import Foundation
import Logging
import ServiceLifecycle

/// Work done every so often inside `xyd serve` until it shuts down, after the start-up checks:
/// a failure is logged and tried again at the next turn.
public struct PeriodicService: Service {
    let db: Database
    let intervalSeconds: Int
    let gate: Gate?
    let what: String
    let work: @Sendable (Database) async throws -> Void

    public init(
        _ what: String,
        db: Database,
        intervalSeconds: Int,
        startAfter gate: Gate?,
        work: @escaping @Sendable (Database) async throws -> Void
    ) {
        precondition(intervalSeconds > 0)
        self.what = what
        self.db = db
        self.intervalSeconds = intervalSeconds
        self.gate = gate
        self.work = work
    }

    public func run() async throws {
        let (db, work, what) = (self.db, self.work, self.what)
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            while !Task.isCancelled {
                do {
                    try await work(db)
                } catch  where isShutdown(error) {
                    break  // shutting down: not a failure
                } catch {
                    db.logger.error("\(what) failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
                }
                try? await Task.sleep(for: .seconds(intervalSeconds))
            }
        }
    }
}
