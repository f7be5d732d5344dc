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
        // A turn left behind by a lost query is abandoned after two minutes; the queue is taken
        // row by row, so the next turn and an abandoned one never take the same rows.
        try await PeriodicService(
            "profile recompute",
            logger: db.logger,
            interval: .milliseconds(intervalMilliseconds),
            startAfter: gate,
            work: { try await self.step() },
            turnLimit: .seconds(120)
        ).run()
    }

    /// One round: pages to queue rows, then one batch; busy when there was work.
    func step() async throws -> PeriodicService.Turn {
        let pages = try await ProfileStore.takePages(db)
        let done = try await ProfileStore.workQueue(db, batch: batch, cache: cache)
        if done > 0 { db.logger.debug("profiles recomputed", metadata: ["count": "\(done)"]) }
        return pages > 0 || done > 0 ? .busy : .idle
    }
}
