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
        /// The regulators' statistics when they are not current (failing or late rebuilds).
        var statistics: StatisticsStatus? = nil
        /// Database calls stuck past their deadline, holding slots of the pool (`Database.stuckCalls`).
        var stuckDatabaseCalls: Int? = nil

        enum CodingKeys: String, CodingKey {
            case status, ingestion, statistics
            case stuckDatabaseCalls = "stuck_database_calls"
        }
    }

    struct StatisticsStatus: Encodable {
        /// When every summary table was last rebuilt successfully.
        let lastGood: Date?
        /// The latest failed rebuild not yet mended.
        let failedAt: Date?
        /// The tables whose latest rebuild failed.
        let failing: [String]
        /// No successful rebuild for more than `Stats.latePeriods` periods.
        let late: Bool
    }

    /// A dataset with no page stored for this long while pulls go on is reported as stuck.
    let ingestStaleSeconds: Int
    /// The statistics' rebuild period (`XYD_STATS_REFRESH_S`): late after `Stats.latePeriods` of them.
    let statsIntervalSeconds: Int

    /// The statistics' freshness in Prometheus text (gauges).
    static func statisticsMetrics(_ f: Stats.Freshness) -> String {
        func gauge(_ name: String, _ help: String, _ value: Int64) -> String {
            "# HELP \(name) \(help)\n# TYPE \(name) gauge\n\(name) \(value)\n"
        }
        return gauge(
            "xyd_statistics_last_success_timestamp_seconds",
            "When every regulators' summary table was last rebuilt successfully (Unix time; 0: never).",
            Int64(f.lastGood?.timeIntervalSince1970 ?? 0)
        )
            + gauge(
                "xyd_statistics_failing_tables",
                "Summary tables whose latest rebuild failed (their previous figures are still served, marked stale).",
                Int64(f.failing.count)
            )
            + gauge(
                "xyd_statistics_stale",
                "1 when the regulators' figures are not current: a failed rebuild, or none succeeded for \(Stats.latePeriods) periods.",
                f.stale ? 1 : 0
            )
    }

    /// The statistics' freshness within `readinessLimit` (nil when it cannot be read in time).
    func freshness() async -> Stats.Freshness? {
        let (db, interval) = (self.db, statsIntervalSeconds)
        return try? await withDeadline(Self.readinessLimit, "reading the statistics' freshness") {
            try await db.withConnection { c in try await Stats.freshness(c, logger: db.logger, intervalSeconds: interval) }
        }
    }

    /// Throws 503 when stuck database calls hold half the pool or more; else their number.
    @discardableResult
    func stuckCheck(_ call: Call) throws -> Int {
        let stuck = db.stuckCalls()
        guard Database.tooManyStuck(stuck, poolSize: db.settings.poolSize) else { return stuck }
        call.logger.error("database calls stuck past their deadline fill the pool: restart this instance", metadata: ["stuck": "\(stuck)"])
        throw Problem(
            .notReady,
            "\(stuck) of the \(db.settings.poolSize) database connections are held by calls the database never answered: restart this instance",
            headers: [.retryAfter: String(ProblemMiddleware.retryAfterSeconds)]
        )
    }

    func register(_ api: API) {
        api.on(.get, "/healthz") { call in
            // The process is up — unless calls the database never answered fill half its pool:
            // then it is broken for good and should be routed around and restarted.
            try stuckCheck(call)
            return try JSON.response(Status(status: "ok"))
        }
        // Within a second whatever the database does: a load balancer must not wait on it.
        api.on(.get, "/readyz") { call in
            let (db, migrator) = (self.db, self.migrator)
            // Calls the database never answered, each holding a slot of the pool: past half of
            // it the instance stops taking traffic and asks to be restarted.
            let stuck = try stuckCheck(call)
            do {
                try await withDeadline(Self.readinessLimit, "the readiness check") { try await migrator.checkCurrent(db) }
            } catch let e as MigrationError {
                throw Problem(.notReady, e.description)
            } catch let e as Problem {
                throw e
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
            let stats = await freshness().flatMap { f in
                f.stale ? StatisticsStatus(lastGood: f.lastGood, failedAt: f.failedAt, failing: f.failing, late: f.late) : nil
            }
            return try JSON.response(
                Status(
                    status: "ready",
                    ingestion: troubles.flatMap { $0.isEmpty ? nil : $0 },
                    statistics: stats,
                    stuckDatabaseCalls: stuck > 0 ? stuck : nil
                )
            )
        }
        api.on(.get, "/metrics") { _ in
            // The statistics' freshness as the database has it now (any instance's rebuild
            // counts), written per scrape rather than kept in the process-wide registry.
            var text = registry.emitToBuffer()
            if let f = await freshness() { text += Array(Self.statisticsMetrics(f).utf8) }
            text += Array(
                """
                # HELP xyd_db_pool_stuck_calls Database calls holding a connection past their deadline and \(Database.stuckGrace) (the database never answered them).
                # TYPE xyd_db_pool_stuck_calls gauge
                xyd_db_pool_stuck_calls \(db.stuckCalls())

                """.utf8
            )
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: text))
            )
        }
    }
}
