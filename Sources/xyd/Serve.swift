import ArgumentParser
import Feeds
import Foundation
import Hummingbird
import Logging
import Server
import ServiceLifecycle
import Store

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service until SIGTERM or SIGINT (refuses to start while migrations are pending)."
    )

    @OptionGroup var settings: SettingOptions
    /// After the graceful limit, cancelled work has this long to end before the process exits.
    static let cancellationSeconds = 5

    /// The last resort of a bounded shutdown: once SIGTERM or SIGINT arrives, the process ends
    /// `seconds` later even if some work ignored its cancellation (logged; exit status 0, as the
    /// service did stop). The lifecycle library's own cancellation limit would crash instead.
    static func hardStop(after seconds: Int, logger: Logger) -> [DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds)) {
                    logger.error("work still running \(seconds) s after the signal was abandoned: stopping now")
                    Foundation.exit(PoolWatch.restartRequested.withLock { $0 } ? PoolWatch.exitStatus : 0)
                }
            }
            source.resume()
            return source
        }
    }

    func run() async throws {
        let config = try settings.load()
        Observability.bootstrapLogging(format: config.logFormat, level: config.logLevel)
        var logger = Logger(label: "xyd")
        logger.logLevel = config.logLevel
        let app: any ApplicationProtocol
        do {
            app = try buildApplication(config, logger: logger)
        } catch let e as MigrationError {
            fail(e.description, status: ExitStatus.configuration)
        } catch let e as FeedConfiguration.Problem {
            fail("configuration refused: \(e.description)", status: ExitStatus.configuration)
        } catch let e as ConfigError {
            fail("configuration refused: \(e.description)", status: ExitStatus.configuration)
        }
        logger.info(
            "starting",
            metadata: ["address": "\(config.httpHost):\(config.httpPort)", "database": "\(config.database.url)"]
        )
        do {
            // SIGTERM or SIGINT: a graceful shutdown, bounded — past the limit whatever still
            // runs is cancelled, and the group ends however its services take it.
            PoolWatch.mayStopProcess.withLock { $0 = true }
            var group = ServiceGroupConfiguration(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            group.maximumGracefulShutdownDuration = .seconds(config.shutdownTimeoutSeconds)
            let watchdog = Self.hardStop(after: config.shutdownTimeoutSeconds + Self.cancellationSeconds, logger: logger)
            defer { for source in watchdog { source.cancel() } }
            try await ServiceGroup(configuration: group).run()
            if PoolWatch.restartRequested.withLock({ $0 }) {
                logger.error(
                    "stopped gracefully to be restarted: calls the database never answered held the pool (README \"Running as a cluster\")"
                )
                Foundation.exit(PoolWatch.exitStatus)
            }
            logger.info("stopped gracefully")
        } catch let e as MigrationError {
            fail(e.description, status: ExitStatus.configuration)
        } catch let e as TimedOut {
            fail("\(e.description); is PostgreSQL running (ops/pg start) and XYD_DATABASE_URL right?")
        } catch {
            fail("stopped: \(describeDatabaseError(error))")
        }
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending database migrations (as the owner role: XYD_MIGRATE_DATABASE_URL, else XYD_DATABASE_URL)."
    )

    @OptionGroup var settings: SettingOptions
    @Flag(help: "Only say what is applied and what is pending.") var status = false

    func run() async throws {
        var extra: [String: String] = [:]
        if settings.databaseUrl == nil, let owner = ProcessInfo.processInfo.environment["XYD_MIGRATE_DATABASE_URL"] {
            extra["XYD_DATABASE_URL"] = owner
        }
        let config = try settings.load(extra: extra)
        let migrator: Migrator
        do { migrator = try Migrator(folder: config.migrationsDirectory) } catch let e as MigrationError {
            fail(e.description, status: ExitStatus.configuration)
        }
        let status = self.status
        await withDatabase(config) { db in
            if status {
                let applied = try await db.withConnection { try await migrator.applied(on: $0, logger: db.logger) }
                let pending = try migrator.pending(given: applied)
                for a in applied { print("applied  \(a.name)") }
                for p in pending { print("pending  \(p.name)") }
                return
            }
            let names = try await migrator.migrate(db) { name in print("applied  \(name)") }
            print(names.isEmpty ? "schema is current (\(migrator.migrations.count) migrations)" : "\(names.count) migration(s) applied")
        }
    }
}
