import CreditCore
import Feeds
import Foundation
import Logging
import Store

/// A configuration value that cannot be used: names the variable and what it expected.
public struct ConfigError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let value: String?
    public let expected: String

    public var description: String {
        let shown = value.map { "'\($0)'" } ?? "not set"
        return "\(variable) is \(shown): expected \(expected)"
    }
}

public enum LogFormat: String, Sendable { case text, json }

/// Every setting of the service, read from `XYD_*` environment variables; a command-line
/// flag overrides its variable. See the table in README.md.
public struct AppConfig: Sendable {
    public var database: DatabaseSettings
    /// A streaming replica for the read-only routes (`Reads`), used while it is within
    /// `readMaxLagMilliseconds` of the leader; nil: everything on `database`.
    public var readDatabase: DatabaseSettings?
    public var readMaxLagMilliseconds: Int
    /// Every request is answered within this (past it, 503 with Retry-After).
    public var requestTimeoutSeconds: Int
    /// scrypt's cost (log2 N) for new passwords (`XYD_PASSWORD_SCRYPT_LOG_N`; 17 is OWASP's).
    public var passwordScryptLogN: Int = PasswordHash.Parameters.current.logN
    public var httpHost: String
    public var httpPort: Int
    public var maxBodyBytes: Int
    public var httpIdleTimeoutSeconds: Int
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    public var auditSealIntervalMilliseconds: Int
    public var auditSealBatch: Int
    public var migrationsDirectory: String
    /// When set, `xyd serve` pulls the providers' datasets on a schedule.
    public var providersFile: String?
    public var ingestIntervalSeconds: Int
    /// A provider's page must arrive within this (each attempt), and is tried this many times.
    public var ingestTimeoutSeconds: Int
    public var ingestAttempts: Int
    /// SIGTERM: everything stops within this; what has not finished by then is cancelled.
    public var shutdownTimeoutSeconds: Int
    public var profileIntervalMilliseconds: Int
    public var profileBatch: Int
    public var readBatch: Int
    public var readBatches: Int
    public var readQueue: Int
    public var readQueueWaitMilliseconds: Int
    public var marketSweepSeconds: Int
    /// Banks that may hold one demand at once (each may make an offer); fixed on a demand when it is posted.
    public var maxBanksPerDemand: Int
    public var statsRefreshSeconds: Int
    public var publicRatePerMinute: Int
    public var publicRateBurst: Int
    /// Failed authentications (bad keys, refused sign-ins) one address or key prefix may make at
    /// once, and how many a minute are forgiven.
    public var authFailureBurst: Int
    public var authFailuresPerMinute: Int
    public var webhookPolicy: WebhookPolicy
    /// The service's Ed25519 signing key for credit reports (file holding it, base64).
    public var signingKeyFile: String?
    /// The audit key (`XYD_AUDIT_KEY_FILE` or `XYD_AUDIT_KEY`): `xyd serve` refuses to start
    /// without it; the commands that write audit rows need it too.
    public var auditKey: Data?
    /// Where the audit sealer anchors the chain's head outside the database (`XYD_AUDIT_ANCHOR_FILE`).
    public var auditAnchorFile: String?
    /// The environment, for provider secrets named by `app_secret_env` and the data key.
    public var environment: [String: String] = [:]

    public static let defaultHTTPPort = 8080
    public static let defaultMaxBodyBytes = 1 << 20
    public static let maxBodyBytesCeiling = 64 << 20
    public static let defaultHTTPIdleTimeoutSeconds = 60
    public static let defaultShutdownTimeoutSeconds = 25

    /// One documented setting: its variable, default and what a valid value is.
    public struct Setting: Sendable {
        public let variable: String
        public let flag: String
        public let defaultValue: String?
        public let help: String
    }

    public static let settings: [Setting] = [
        .init(
            variable: "XYD_DATABASE_URL",
            flag: "--database-url",
            defaultValue: nil,
            help: "PostgreSQL URL the service connects with (the `xyd_app` role)"
        ),
        .init(
            variable: "XYD_DB_POOL_SIZE",
            flag: "--db-pool-size",
            defaultValue: "\(DatabaseSettings.defaultPoolSize)",
            help: "most connections in the pool, 1–200"
        ),
        .init(
            variable: "XYD_DB_CONNECT_TIMEOUT_MS",
            flag: "--db-connect-timeout-ms",
            defaultValue: "\(DatabaseSettings.defaultConnectTimeoutMilliseconds)",
            help: "connect time-out, 100–60000 ms"
        ),
        .init(
            variable: "XYD_DB_STATEMENT_TIMEOUT_MS",
            flag: "--db-statement-timeout-ms",
            defaultValue: "\(DatabaseSettings.defaultStatementTimeoutMilliseconds)",
            help: "server-side statement time-out, 100–3600000 ms"
        ),
        .init(
            variable: "XYD_DB_ACQUIRE_TIMEOUT_MS",
            flag: "--db-acquire-timeout-ms",
            defaultValue: "\(DatabaseSettings.defaultAcquireTimeoutMilliseconds)",
            help: "longest wait for a pooled connection (database down or every connection busy): then 503 with Retry-After, 100–60000 ms"
        ),
        .init(
            variable: "XYD_READ_DATABASE_URL",
            flag: "--read-database-url",
            defaultValue: nil,
            help:
                "a streaming replica (the `xyd_app` role) for the read-only routes — public disclosure, product catalogue, scorecard, signing key, report verification, the regulators' tables and dashboard — used while it has replayed what the leader had `XYD_READ_MAX_LAG_MS` ago; unset: every route on XYD_DATABASE_URL"
        ),
        .init(
            variable: "XYD_READ_MAX_LAG_MS",
            flag: "--read-max-lag-ms",
            defaultValue: "\(Reads.defaultMaxLagMilliseconds)",
            help:
                "how far behind the leader the replica may be and still serve reads, 100–60000 ms (checked every \(Reads.checkIntervalMilliseconds) ms; past it reads go to the leader)"
        ),
        .init(
            variable: "XYD_REQUEST_TIMEOUT_S",
            flag: "--request-timeout-s",
            defaultValue: "\(API.defaultRequestTimeoutSeconds)",
            help: "every API and page request is answered within this: past it 503 with Retry-After (the work is cancelled), 5–600 s"
        ),
        .init(
            variable: "XYD_PASSWORD_SCRYPT_LOG_N",
            flag: "--password-scrypt-log-n",
            defaultValue: "\(PasswordHash.Parameters.current.logN)",
            help:
                "scrypt's cost for new passwords as log2 N (r = 8, p = 1): 17 is 128 MiB a hash, OWASP's minimum; lower only for tests and demos, 10–20 (each hash keeps its own cost, so a change needs no migration)"
        ),
        .init(variable: "XYD_HTTP_HOST", flag: "--http-host", defaultValue: "127.0.0.1", help: "address to listen on"),
        .init(variable: "XYD_HTTP_PORT", flag: "--http-port", defaultValue: "\(defaultHTTPPort)", help: "port, 0–65535 (0: any free port)"),
        .init(
            variable: "XYD_MAX_BODY_BYTES",
            flag: "--max-body-bytes",
            defaultValue: "\(defaultMaxBodyBytes)",
            help: "largest request body accepted, 1 KiB–64 MiB"
        ),
        .init(
            variable: "XYD_HTTP_IDLE_TIMEOUT_S",
            flag: "--http-idle-timeout-s",
            defaultValue: "\(defaultHTTPIdleTimeoutSeconds)",
            help: "idle keep-alive connections are closed after this, 1–3600 s"
        ),
        .init(
            variable: "XYD_LOG_LEVEL",
            flag: "--log-level",
            defaultValue: "info",
            help: "trace, debug, info, notice, warning, error or critical"
        ),
        .init(variable: "XYD_LOG_FORMAT", flag: "--log-format", defaultValue: "text", help: "text, or json (one object a line)"),
        .init(
            variable: "XYD_AUDIT_SEAL_INTERVAL_MS",
            flag: "--audit-seal-interval-ms",
            defaultValue: "\(AuditSealer.defaultIntervalMilliseconds)",
            help: "how often the audit chain is sealed, 10–60000 ms"
        ),
        .init(
            variable: "XYD_AUDIT_SEAL_BATCH",
            flag: "--audit-seal-batch",
            defaultValue: "\(AuditSealer.defaultBatch)",
            help: "audit rows sealed per transaction, 1–10000"
        ),
        .init(
            variable: "XYD_MIGRATIONS_DIR",
            flag: "--migrations-dir",
            defaultValue: "db/migrations",
            help: "folder of the numbered SQL migrations"
        ),
        .init(
            variable: "XYD_PROVIDERS_FILE",
            flag: "--providers-file",
            defaultValue: nil,
            help: "providers file; when set, serve pulls every dataset on a schedule"
        ),
        .init(
            variable: "XYD_INGEST_INTERVAL_S",
            flag: "--ingest-interval-s",
            defaultValue: "300",
            help: "seconds between scheduled pulls, 5–86400"
        ),
        .init(
            variable: "XYD_INGEST_TIMEOUT_S",
            flag: "--ingest-timeout-s",
            defaultValue: "\(FeedSettings.defaultTotalTimeoutSeconds)",
            help: "a provider's page must arrive within this, each attempt, 1–600 s"
        ),
        .init(
            variable: "XYD_INGEST_ATTEMPTS",
            flag: "--ingest-attempts",
            defaultValue: "\(FeedSettings.defaultMaxAttempts)",
            help: "attempts of a page on transient failures before the dataset is failing until its next pull, 1–100"
        ),
        .init(
            variable: "XYD_SHUTDOWN_TIMEOUT_S",
            flag: "--shutdown-timeout-s",
            defaultValue: "\(AppConfig.defaultShutdownTimeoutSeconds)",
            help: "on SIGTERM everything stops within this; work still running then is cancelled, 1–300 s"
        ),
        .init(
            variable: "XYD_PROFILE_INTERVAL_MS",
            flag: "--profile-interval-ms",
            defaultValue: "\(ProfileService.defaultIntervalMilliseconds)",
            help: "how often the profile service looks for changed enterprises when idle, 50–60000 ms"
        ),
        .init(
            variable: "XYD_PROFILE_BATCH",
            flag: "--profile-batch",
            defaultValue: "\(ProfileStore.defaultBatch)",
            help: "enterprises recomputed per transaction, 1–\(ProfileStore.maxBatch)"
        ),
        .init(
            variable: "XYD_READ_BATCH",
            flag: "--read-batch",
            defaultValue: "\(ProfileReadBatcher.defaultMaxBatch)",
            help: "banks' profile reads answered by one statement at most, 1–\(ProfileReadBatcher.maxBatchCeiling)"
        ),
        .init(
            variable: "XYD_READ_BATCHES",
            flag: "--read-batches",
            defaultValue: "\(ProfileReadBatcher.defaultMaxConcurrentBatches)",
            help: "such statements running at once, 1–64 (each holds a pool connection; about the database's cores)"
        ),
        .init(
            variable: "XYD_READ_QUEUE",
            flag: "--read-queue",
            defaultValue: "\(ProfileReadBatcher.defaultMaxQueued)",
            help: "profile reads waiting for a statement at most (more are answered 503), 1–100000"
        ),
        .init(
            variable: "XYD_READ_QUEUE_WAIT_MS",
            flag: "--read-queue-wait-ms",
            defaultValue: "\(ProfileReadBatcher.defaultMaxWaitMilliseconds)",
            help: "while the oldest waiting profile read has waited this long, new ones are answered 503 at once, 10–60000 ms"
        ),
        .init(
            variable: "XYD_MARKET_SWEEP_S",
            flag: "--market-sweep-s",
            defaultValue: "\(MarketService.defaultIntervalSeconds)",
            help: "how often expired demands and lapsed take-ups are settled, 1–3600 s"
        ),
        .init(
            variable: "XYD_MAX_BANKS_PER_DEMAND",
            flag: "--max-banks-per-demand",
            defaultValue: "\(Demands.defaultMaxBanks)",
            help: "banks that may take up one demand at once, each making an offer the business may accept, 1–10"
        ),
        .init(
            variable: "XYD_STATS_REFRESH_S",
            flag: "--stats-refresh-s",
            defaultValue: "\(StatsService.defaultIntervalSeconds)",
            help: "how often the regulators' summary tables are rebuilt, 5–86400 s"
        ),
        .init(
            variable: "XYD_PUBLIC_RATE_PER_MINUTE",
            flag: "--public-rate-per-minute",
            defaultValue: "\(RateLimiter.publicPerMinute)",
            help: "requests a minute one client address may make to the public routes, 1–6000"
        ),
        .init(
            variable: "XYD_PUBLIC_RATE_BURST",
            flag: "--public-rate-burst",
            defaultValue: "\(RateLimiter.publicBurst)",
            help: "requests at once one client address may make to the public routes, 1–1000"
        ),
        .init(
            variable: "XYD_AUTH_FAILURE_BURST",
            flag: "--auth-failure-burst",
            defaultValue: "\(AuthThrottle.defaultBurst)",
            help: "failed authentications (unknown keys, refused sign-ins) one address or key prefix may make before 429, 1–100000"
        ),
        .init(
            variable: "XYD_AUTH_FAILURES_PER_MINUTE",
            flag: "--auth-failures-per-minute",
            defaultValue: "\(AuthThrottle.defaultPerMinute)",
            help: "failed authentications forgiven a minute per address or key prefix, 1–100000"
        ),
        .init(
            variable: "XYD_WEBHOOK_HOSTS",
            flag: "--webhook-hosts",
            defaultValue: nil,
            help: "comma-separated host names banks' webhook endpoints may point at"
        ),
        .init(
            variable: "XYD_WEBHOOK_ALLOW_LOOPBACK",
            flag: "--webhook-allow-loopback",
            defaultValue: "false",
            help: "true lets endpoints point at 127.0.0.1 or localhost (tests, demos)"
        ),
        .init(
            variable: "XYD_WEBHOOK_LOOPBACK_PORTS",
            flag: "--webhook-loopback-ports",
            defaultValue: nil,
            help: "with XYD_WEBHOOK_ALLOW_LOOPBACK, the only loopback ports webhooks may reach, comma-separated (required then)"
        ),
        .init(
            variable: "XYD_SIGNING_KEY_FILE",
            flag: "--signing-key-file",
            defaultValue: nil,
            help: "file holding the base64 Ed25519 private key that signs credit reports (created by ops/)"
        ),
        .init(
            variable: "XYD_AUDIT_KEY_FILE",
            flag: "",
            defaultValue: nil,
            help: "file holding the base64 32-byte key that authenticates audit rows and seals (or XYD_AUDIT_KEY); xyd serve requires it"
        ),
        .init(
            variable: "XYD_AUDIT_ANCHOR_FILE",
            flag: "",
            defaultValue: nil,
            help: "file the audit sealer appends the chain's head to (outside the database), for xyd audit verify"
        ),
        .init(
            variable: "XYD_DATA_KEY_FILE",
            flag: "",
            defaultValue: nil,
            help: "file holding the base64 32-byte key that encrypts resident ID numbers (or XYD_DATA_KEY)"
        ),
    ]

    /// Reads the settings from `environment`, with `overrides` (from flags, keyed by variable) winning.
    public static func load(environment: [String: String], overrides: [String: String] = [:]) throws -> AppConfig {
        let reader = Reader(values: environment.merging(overrides) { _, flag in flag })
        let url: DatabaseURL
        let rawURL = try reader.required("XYD_DATABASE_URL", expected: "a URL such as postgres://xyd_app:PASSWORD@127.0.0.1:54329/xyd")
        do { url = try DatabaseURL(rawURL) } catch let e as DatabaseURL.Invalid {
            throw ConfigError(variable: "XYD_DATABASE_URL", value: "(hidden)", expected: e.reason)
        }
        var database = DatabaseSettings(
            url: url,
            poolSize: try reader.int("XYD_DB_POOL_SIZE", 1...200, DatabaseSettings.defaultPoolSize),
            connectTimeoutMilliseconds: try reader.int(
                "XYD_DB_CONNECT_TIMEOUT_MS",
                100...60_000,
                DatabaseSettings.defaultConnectTimeoutMilliseconds
            ),
            statementTimeoutMilliseconds: try reader.int(
                "XYD_DB_STATEMENT_TIMEOUT_MS",
                100...3_600_000,
                DatabaseSettings.defaultStatementTimeoutMilliseconds
            )
        )
        database.acquireTimeoutMilliseconds = try reader.int(
            "XYD_DB_ACQUIRE_TIMEOUT_MS",
            100...60_000,
            DatabaseSettings.defaultAcquireTimeoutMilliseconds
        )
        var readDatabase: DatabaseSettings?
        if let rawRead = reader.string("XYD_READ_DATABASE_URL"), !rawRead.isEmpty {
            do {
                var read = database
                read.url = try DatabaseURL(rawRead)
                read.applicationName = "xyd-read"
                readDatabase = read
            } catch let e as DatabaseURL.Invalid {
                throw ConfigError(variable: "XYD_READ_DATABASE_URL", value: "(hidden)", expected: e.reason)
            }
        }
        let readMaxLag = try reader.int("XYD_READ_MAX_LAG_MS", 100...60_000, Reads.defaultMaxLagMilliseconds)
        let requestTimeout = try reader.int("XYD_REQUEST_TIMEOUT_S", 5...600, API.defaultRequestTimeoutSeconds)
        let levelText = reader.string("XYD_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ConfigError(
                variable: "XYD_LOG_LEVEL",
                value: levelText,
                expected: "trace, debug, info, notice, warning, error or critical"
            )
        }
        let formatText = reader.string("XYD_LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: formatText) else {
            throw ConfigError(variable: "XYD_LOG_FORMAT", value: formatText, expected: "text or json")
        }
        let host = reader.string("XYD_HTTP_HOST") ?? "127.0.0.1"
        guard !host.isEmpty, host.allSatisfy({ $0.isLetter || $0.isNumber || ".:-".contains($0) }) else {
            throw ConfigError(variable: "XYD_HTTP_HOST", value: host, expected: "a host name or IP address")
        }
        let scrypt = try reader.int("XYD_PASSWORD_SCRYPT_LOG_N", 10...20, PasswordHash.Parameters.current.logN)
        var config = AppConfig(
            database: database,
            readDatabase: readDatabase,
            readMaxLagMilliseconds: readMaxLag,
            requestTimeoutSeconds: requestTimeout,
            httpHost: host,
            httpPort: try reader.int("XYD_HTTP_PORT", 0...65535, defaultHTTPPort),
            maxBodyBytes: try reader.int("XYD_MAX_BODY_BYTES", 1024...maxBodyBytesCeiling, defaultMaxBodyBytes),
            httpIdleTimeoutSeconds: try reader.int("XYD_HTTP_IDLE_TIMEOUT_S", 1...3600, defaultHTTPIdleTimeoutSeconds),
            logLevel: level,
            logFormat: format,
            auditSealIntervalMilliseconds: try reader.int(
                "XYD_AUDIT_SEAL_INTERVAL_MS",
                10...60_000,
                AuditSealer.defaultIntervalMilliseconds
            ),
            auditSealBatch: try reader.int("XYD_AUDIT_SEAL_BATCH", 1...10_000, AuditSealer.defaultBatch),
            migrationsDirectory: reader.string("XYD_MIGRATIONS_DIR") ?? "db/migrations",
            providersFile: reader.string("XYD_PROVIDERS_FILE"),
            ingestIntervalSeconds: try reader.int("XYD_INGEST_INTERVAL_S", 5...86_400, 300),
            ingestTimeoutSeconds: try reader.int("XYD_INGEST_TIMEOUT_S", 1...600, FeedSettings.defaultTotalTimeoutSeconds),
            ingestAttempts: try reader.int("XYD_INGEST_ATTEMPTS", 1...100, FeedSettings.defaultMaxAttempts),
            shutdownTimeoutSeconds: try reader.int("XYD_SHUTDOWN_TIMEOUT_S", 1...300, AppConfig.defaultShutdownTimeoutSeconds),
            profileIntervalMilliseconds: try reader.int("XYD_PROFILE_INTERVAL_MS", 50...60_000, ProfileService.defaultIntervalMilliseconds),
            profileBatch: try reader.int("XYD_PROFILE_BATCH", 1...ProfileStore.maxBatch, ProfileStore.defaultBatch),
            readBatch: try reader.int("XYD_READ_BATCH", 1...ProfileReadBatcher.maxBatchCeiling, ProfileReadBatcher.defaultMaxBatch),
            readBatches: try reader.int("XYD_READ_BATCHES", 1...64, ProfileReadBatcher.defaultMaxConcurrentBatches),
            readQueue: try reader.int("XYD_READ_QUEUE", 1...100_000, ProfileReadBatcher.defaultMaxQueued),
            readQueueWaitMilliseconds: try reader.int("XYD_READ_QUEUE_WAIT_MS", 10...60_000, ProfileReadBatcher.defaultMaxWaitMilliseconds),
            marketSweepSeconds: try reader.int("XYD_MARKET_SWEEP_S", 1...3600, MarketService.defaultIntervalSeconds),
            maxBanksPerDemand: try reader.int("XYD_MAX_BANKS_PER_DEMAND", Demands.maxBanksRange, Demands.defaultMaxBanks),
            statsRefreshSeconds: try reader.int("XYD_STATS_REFRESH_S", 5...86_400, StatsService.defaultIntervalSeconds),
            publicRatePerMinute: try reader.int("XYD_PUBLIC_RATE_PER_MINUTE", 1...6_000, RateLimiter.publicPerMinute),
            publicRateBurst: try reader.int("XYD_PUBLIC_RATE_BURST", 1...1_000, RateLimiter.publicBurst),
            authFailureBurst: try reader.int("XYD_AUTH_FAILURE_BURST", 1...100_000, AuthThrottle.defaultBurst),
            authFailuresPerMinute: try reader.int("XYD_AUTH_FAILURES_PER_MINUTE", 1...100_000, AuthThrottle.defaultPerMinute),
            webhookPolicy: try webhookPolicy(reader),
            signingKeyFile: reader.string("XYD_SIGNING_KEY_FILE"),
            auditKey: try auditKey(reader),
            auditAnchorFile: reader.string("XYD_AUDIT_ANCHOR_FILE"),
            environment: environment
        )
        config.passwordScryptLogN = scrypt
        return config
    }

    static func auditKey(_ reader: Reader) throws -> Data? {
        do {
            return try AuditKey.load(environment: reader.values.filter { $0.key == "XYD_AUDIT_KEY" || $0.key == "XYD_AUDIT_KEY_FILE" })
        } catch is AuditKey.Missing {
            return nil
        } catch let e as AuditKey.Invalid {
            throw ConfigError(
                variable: reader.string("XYD_AUDIT_KEY") == nil ? "XYD_AUDIT_KEY_FILE" : "XYD_AUDIT_KEY",
                value: reader.string("XYD_AUDIT_KEY_FILE"),
                expected: e.description
            )
        }
    }

    static func webhookPolicy(_ reader: Reader) throws -> WebhookPolicy {
        let hosts = (reader.string("XYD_WEBHOOK_HOSTS") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }
        .filter { !$0.isEmpty }
        for h in hosts where !h.allSatisfy({ $0.isLetter || $0.isNumber || ".-".contains($0) }) {
            throw ConfigError(variable: "XYD_WEBHOOK_HOSTS", value: h, expected: "host names separated by commas")
        }
        let loopbackText = reader.string("XYD_WEBHOOK_ALLOW_LOOPBACK") ?? "false"
        guard let loopback = Bool(loopbackText) else {
            throw ConfigError(variable: "XYD_WEBHOOK_ALLOW_LOOPBACK", value: loopbackText, expected: "true or false")
        }
        let portsText = reader.string("XYD_WEBHOOK_LOOPBACK_PORTS") ?? ""
        var ports: Set<Int> = []
        for part in portsText.split(separator: ",") {
            guard let p = Int(part.trimmingCharacters(in: .whitespaces)), (1...65535).contains(p) else {
                throw ConfigError(variable: "XYD_WEBHOOK_LOOPBACK_PORTS", value: portsText, expected: "port numbers separated by commas")
            }
            ports.insert(p)
        }
        if loopback && ports.isEmpty {
            throw ConfigError(
                variable: "XYD_WEBHOOK_LOOPBACK_PORTS",
                value: nil,
                expected: "the loopback ports webhooks may reach (XYD_WEBHOOK_ALLOW_LOOPBACK is true), e.g. 9099"
            )
        }
        return WebhookPolicy(hosts: Set(hosts), allowLoopback: loopback, loopbackPorts: ports)
    }

    struct Reader {
        let values: [String: String]

        func string(_ name: String) -> String? {
            guard let v = values[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }

        func required(_ name: String, expected: String) throws -> String {
            guard let v = string(name) else { throw ConfigError(variable: name, value: nil, expected: expected) }
            return v
        }

        func int(_ name: String, _ range: ClosedRange<Int>, _ fallback: Int) throws -> Int {
            guard let text = string(name) else { return fallback }
            guard let v = Int(text), range.contains(v) else {
                throw ConfigError(variable: name, value: text, expected: "an integer from \(range.lowerBound) to \(range.upperBound)")
            }
            return v
        }
    }
}
