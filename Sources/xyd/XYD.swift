import ArgumentParser
import CreditCore
import Foundation
import Logging
import Server
import Store

@main
struct XYD: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xyd",
        abstract: "Xinyidai (信易贷): the city's credit-reporting and financing-matching service.",
        subcommands: [
            Serve.self, Migrate.self, OrgCommand.self, KeyCommand.self, AuditCommand.self, Simulate.self, Ingest.self, FeedsCommand.self,
            ScorecardCommand.self, Rescore.self, ReportCommand.self, MatchBench.self, DeadlineBench.self, PasswordBench.self,
            WebhookListen.self,
            SimulateMarket.self,
            StatsRefresh.self, BanksCommand.self, UserCommand.self,
        ]
    )
}

/// Exit codes shared by the commands.
enum ExitStatus {
    static let configuration: Int32 = 78  // EX_CONFIG
    static let failure: Int32 = 1
}

/// Every setting as a flag; a flag overrides its `XYD_*` variable (see README).
struct SettingOptions: ParsableArguments {
    @Option(help: "XYD_DATABASE_URL") var databaseUrl: String?
    @Option(help: "XYD_PASSWORD_SCRYPT_LOG_N") var passwordScryptLogN: String?
    @Option(help: "XYD_DB_POOL_SIZE") var dbPoolSize: String?
    @Option(help: "XYD_DB_CONNECT_TIMEOUT_MS") var dbConnectTimeoutMs: String?
    @Option(help: "XYD_DB_STATEMENT_TIMEOUT_MS") var dbStatementTimeoutMs: String?
    @Option(help: "XYD_HTTP_HOST") var httpHost: String?
    @Option(help: "XYD_HTTP_PORT") var httpPort: String?
    @Option(help: "XYD_MAX_BODY_BYTES") var maxBodyBytes: String?
    @Option(help: "XYD_HTTP_IDLE_TIMEOUT_S") var httpIdleTimeoutS: String?
    @Option(help: "XYD_LOG_LEVEL") var logLevel: String?
    @Option(help: "XYD_LOG_FORMAT") var logFormat: String?
    @Option(help: "XYD_AUDIT_SEAL_INTERVAL_MS") var auditSealIntervalMs: String?
    @Option(help: "XYD_AUDIT_SEAL_BATCH") var auditSealBatch: String?
    @Option(help: "XYD_MIGRATIONS_DIR") var migrationsDir: String?
    @Option(help: "XYD_PROVIDERS_FILE") var providersFile: String?
    @Option(help: "XYD_INGEST_INTERVAL_S") var ingestIntervalS: String?
    @Option(help: "XYD_INGEST_TIMEOUT_S") var ingestTimeoutS: String?
    @Option(help: "XYD_INGEST_ATTEMPTS") var ingestAttempts: String?
    @Option(help: "XYD_SHUTDOWN_TIMEOUT_S") var shutdownTimeoutS: String?
    @Option(help: "XYD_DB_ACQUIRE_TIMEOUT_MS") var dbAcquireTimeoutMs: String?
    @Option(help: "XYD_AUTH_FAILURE_BURST") var authFailureBurst: String?
    @Option(help: "XYD_AUTH_FAILURES_PER_MINUTE") var authFailuresPerMinute: String?
    @Option(help: "XYD_PROFILE_INTERVAL_MS") var profileIntervalMs: String?
    @Option(help: "XYD_PROFILE_BATCH") var profileBatch: String?
    @Option(help: "XYD_READ_BATCH") var readBatch: String?
    @Option(help: "XYD_READ_BATCHES") var readBatches: String?
    @Option(help: "XYD_READ_QUEUE") var readQueue: String?
    @Option(help: "XYD_READ_QUEUE_WAIT_MS") var readQueueWaitMs: String?
    @Option(help: "XYD_SIGNING_KEY_FILE") var signingKeyFile: String?
    @Option(help: "XYD_MARKET_SWEEP_S") var marketSweepS: String?
    @Option(help: "XYD_MAX_BANKS_PER_DEMAND") var maxBanksPerDemand: String?
    @Option(help: "XYD_STATS_REFRESH_S") var statsRefreshS: String?
    @Option(help: "XYD_PUBLIC_RATE_PER_MINUTE") var publicRatePerMinute: String?
    @Option(help: "XYD_PUBLIC_RATE_BURST") var publicRateBurst: String?
    @Option(help: "XYD_WEBHOOK_HOSTS") var webhookHosts: String?
    @Option(help: "XYD_WEBHOOK_ALLOW_LOOPBACK") var webhookAllowLoopback: String?
    @Option(help: "XYD_WEBHOOK_LOOPBACK_PORTS") var webhookLoopbackPorts: String?

    var overrides: [String: String] {
        let pairs: [(String, String?)] = [
            ("XYD_DATABASE_URL", databaseUrl), ("XYD_DB_POOL_SIZE", dbPoolSize),
            ("XYD_DB_CONNECT_TIMEOUT_MS", dbConnectTimeoutMs), ("XYD_DB_STATEMENT_TIMEOUT_MS", dbStatementTimeoutMs),
            ("XYD_HTTP_HOST", httpHost), ("XYD_HTTP_PORT", httpPort), ("XYD_MAX_BODY_BYTES", maxBodyBytes),
            ("XYD_HTTP_IDLE_TIMEOUT_S", httpIdleTimeoutS), ("XYD_LOG_LEVEL", logLevel), ("XYD_LOG_FORMAT", logFormat),
            ("XYD_AUDIT_SEAL_INTERVAL_MS", auditSealIntervalMs), ("XYD_AUDIT_SEAL_BATCH", auditSealBatch),
            ("XYD_MIGRATIONS_DIR", migrationsDir), ("XYD_PROVIDERS_FILE", providersFile),
            ("XYD_INGEST_INTERVAL_S", ingestIntervalS), ("XYD_PROFILE_INTERVAL_MS", profileIntervalMs),
            ("XYD_PROFILE_BATCH", profileBatch), ("XYD_READ_BATCH", readBatch), ("XYD_READ_BATCHES", readBatches),
            ("XYD_READ_QUEUE", readQueue), ("XYD_READ_QUEUE_WAIT_MS", readQueueWaitMs),
            ("XYD_SIGNING_KEY_FILE", signingKeyFile), ("XYD_MARKET_SWEEP_S", marketSweepS), ("XYD_STATS_REFRESH_S", statsRefreshS),
            ("XYD_MAX_BANKS_PER_DEMAND", maxBanksPerDemand),
            ("XYD_PUBLIC_RATE_PER_MINUTE", publicRatePerMinute), ("XYD_PUBLIC_RATE_BURST", publicRateBurst),
            ("XYD_WEBHOOK_HOSTS", webhookHosts), ("XYD_WEBHOOK_ALLOW_LOOPBACK", webhookAllowLoopback),
            ("XYD_INGEST_TIMEOUT_S", ingestTimeoutS), ("XYD_INGEST_ATTEMPTS", ingestAttempts), ("XYD_SHUTDOWN_TIMEOUT_S", shutdownTimeoutS),
            ("XYD_DB_ACQUIRE_TIMEOUT_MS", dbAcquireTimeoutMs), ("XYD_AUTH_FAILURE_BURST", authFailureBurst),
            ("XYD_AUTH_FAILURES_PER_MINUTE", authFailuresPerMinute), ("XYD_WEBHOOK_LOOPBACK_PORTS", webhookLoopbackPorts),
            ("XYD_PASSWORD_SCRYPT_LOG_N", passwordScryptLogN),
        ]
        var result: [String: String] = [:]
        for (name, value) in pairs { if let value { result[name] = value } }
        return result
    }

    /// The configuration, or a clear refusal naming the variable to fix.
    func load(extra: [String: String] = [:]) throws -> AppConfig {
        do {
            let config = try AppConfig.load(
                environment: ProcessInfo.processInfo.environment.merging(extra) { _, e in e },
                overrides: overrides
            )
            // Commands that write audit rows need the key; the others run without it.
            if let key = config.auditKey { AuditKey.configure(key) }
            return config
        } catch let e as ConfigError {
            fail("configuration refused: \(e.description)", status: ExitStatus.configuration)
        }
    }
}

func fail(_ message: String, status: Int32 = ExitStatus.failure) -> Never {
    FileHandle.standardError.write(Data("xyd: \(message)\n".utf8))
    exit(status)
}

func quietLogger() -> Logger {
    var logger = Logger(label: "xyd")
    logger.logLevel = .error
    return logger
}

/// Runs `body` with a running pool for a one-shot command; errors end the command clearly.
func withDatabase<R: Sendable>(_ config: AppConfig, _ body: @Sendable (Database) async throws -> R) async -> R {
    let db = Database(settings: config.database, logger: quietLogger())
    do {
        return try await db.withRunning(body)
    } catch let e as RegisterError {
        fail(e.description)
    } catch let e as MigrationError {
        fail(e.description)
    } catch {
        fail("\(describeDatabaseError(error)) (database \(config.database.url))")
    }
}

/// Prints a value as the API would answer it (`JSON.encoder`'s key strategy: snake_case keys
/// from camelCase names, RFC 3339 times), optionally indented.
func printJSON(_ value: some Encodable, pretty: Bool = true) {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    encoder.dateEncodingStrategy = JSON.encoder.dateEncodingStrategy
    encoder.keyEncodingStrategy = JSON.encoder.keyEncodingStrategy
    guard let data = try? encoder.encode(value) else { return }
    print(String(decoding: data, as: UTF8.self))
}
