import Foundation
import Hummingbird
import NIOCore
import Prometheus
import Store

/// `/healthz` (the process is up), `/readyz` (the database answers and its schema is
/// current) and `/metrics` (Prometheus text).
struct HealthRoutes {
    let db: Database
    let migrator: Migrator
    let registry: PrometheusCollectorRegistry

    /// `/readyz` answers within this, whatever the database does.
    static let readinessLimit = Duration.seconds(1)

    struct Status: Encodable {
        let status: String
        /// Ingestion in trouble (readiness for traffic does not depend on it; operators do).
        var ingestion: [String]? = nil
    }

    /// A dataset with no page stored for this long while pulls go on is reported as stuck.
    let ingestStaleSeconds: Int

    func register(_ api: API) {
        api.on(.get, "/healthz") { _ in
            try JSON.response(Status(status: "ok"))
        }
        // Within a second whatever the database does: a load balancer must not wait on it.
        api.on(.get, "/readyz") { call in
            let (db, migrator) = (self.db, self.migrator)
            do {
                try await withDeadline(Self.readinessLimit, "the readiness check") { try await migrator.checkCurrent(db) }
            } catch let e as MigrationError {
                throw Problem(.notReady, e.description)
            } catch {
                call.logger.warning("readiness check failed", metadata: ["error": .string(describeDatabaseError(error))])
                throw Problem(
                    .notReady,
                    "database unavailable: it does not answer within \(Self.readinessLimit)",
                    headers: [.retryAfter: String(ProblemMiddleware.retryAfterSeconds)]
                )
            }
            // Within the same second: what is stuck in ingestion, if anything (nothing when it
            // cannot be read in time — the database answered above).
            let stale = ingestStaleSeconds
            let troubles = try? await withDeadline(Self.readinessLimit, "reading ingestion's state") {
                try await IngestStore.troubles(db, staleAfterSeconds: stale)
            }
            return try JSON.response(Status(status: "ready", ingestion: troubles.flatMap { $0.isEmpty ? nil : $0 }))
        }
        api.on(.get, "/metrics") { _ in
            let text = registry.emitToBuffer()
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text))
            )
        }
    }
}
