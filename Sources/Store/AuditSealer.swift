import Logging
import ServiceLifecycle

/// Seals the audit log in batches every `interval`, so that writers never queue on the
/// chain head. On graceful shutdown it seals what is left once more, then returns.
public struct AuditSealer: Service {
    public static let defaultIntervalMilliseconds = 1_000
    public static let defaultBatch = 5_000

    let db: Database
    let intervalMilliseconds: Int
    let batch: Int

    public init(db: Database, intervalMilliseconds: Int, batch: Int) {
        precondition(intervalMilliseconds > 0)
        precondition(batch > 0 && batch <= Audit.sealBatchMax)
        self.db = db
        self.intervalMilliseconds = intervalMilliseconds
        self.batch = batch
    }

    public func run() async throws {
        let logger = db.logger
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.sealOnce(logger: logger)
                try? await Task.sleep(for: .milliseconds(intervalMilliseconds))
            }
        }
        await sealOnce(logger: logger)
    }

    func sealOnce(logger: Logger) async {
        do {
            let sealed = try await Audit.sealAll(db, batch: batch)
            if sealed > 0 { logger.debug("audit rows sealed", metadata: ["count": "\(sealed)"]) }
        } catch {
            logger.error("audit sealing failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
        }
    }
}
