import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Server
import Feeds
import Store

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service until SIGTERM or SIGINT (refuses to start while migrations are pending).")

    @OptionGroup var settings: SettingOptions

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
            "starting", metadata: ["address": "\(config.httpHost):\(config.httpPort)", "database": "\(config.database.url)"])
        do {
            try await app.runService()
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
        abstract: "Apply pending database migrations (as the owner role: XYD_MIGRATE_DATABASE_URL, else XYD_DATABASE_URL).")

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
