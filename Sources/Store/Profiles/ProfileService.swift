import CreditCore
import Logging
import ServiceLifecycle

/// Keeps profiles current inside `xyd serve`: turns newly ingested pages into queue rows and
/// recomputes the queued enterprises in batches; when there is nothing to do it waits
/// `interval` before looking again. Each batch is one transaction: a crash puts it back.
public struct ProfileService: Service {
    public static let defaultIntervalMilliseconds = 1_000

    let db: Database
    let intervalMilliseconds: Int
    let batch: Int
    let gate: Gate?
    let cache = ScorecardCache()

    public init(db: Database, intervalMilliseconds: Int, batch: Int, startAfter gate: Gate? = nil) {
        precondition(intervalMilliseconds > 0)
        precondition(batch > 0 && batch <= ProfileStore.maxBatch)
        self.db = db
        self.intervalMilliseconds = intervalMilliseconds
        self.batch = batch
        self.gate = gate
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            while !Task.isCancelled {
                let busy = await self.step()
                if !busy { try? await Task.sleep(for: .milliseconds(intervalMilliseconds)) }
            }
        }
    }

    /// One round: pages to queue rows, then one batch. Returns whether there was work.
    func step() async -> Bool {
        do {
            let pages = try await ProfileStore.takePages(db)
            let done = try await ProfileStore.workQueue(db, batch: batch, cache: cache)
            if done > 0 { db.logger.debug("profiles recomputed", metadata: ["count": "\(done)"]) }
            return pages > 0 || done > 0
        } catch  where isShutdown(error) {
            return false
        } catch {
            db.logger.error("profile recompute failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
            return false
        }
    }
}
