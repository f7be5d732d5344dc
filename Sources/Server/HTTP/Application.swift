import CreditCore
import Curl
import Feeds
import Foundation
import Hummingbird
import Logging
import Prometheus
import Store

/// The wired service: the router with every route, and the services it needs running.
public struct Dependencies: Sendable {
    public let config: AppConfig
    public let db: Database
    public let migrator: Migrator
    public let registry: PrometheusCollectorRegistry
    /// Signs credit reports; without it report routes answer 503.
    public var signer: ReportSigner? = nil
    /// Product changes ask for open demands to be matched again, in the background.
    public var rematch = RematchRequests()
    /// Where the read-only routes read (a fresh replica, else `db`).
    public var reads: Reads
    /// Password hashing for sign-in and user management (`XYD_PASSWORD_SCRYPT_LOG_N`).
    public var passwords: Passwords

    public init(
        config: AppConfig,
        db: Database,
        migrator: Migrator,
        registry: PrometheusCollectorRegistry,
        signer: ReportSigner? = nil,
        reads: Reads? = nil
    ) {
        self.config = config
        self.db = db
        self.migrator = migrator
        self.registry = registry
        self.signer = signer
        self.reads = reads ?? Reads(primary: db, replica: nil)
        self.passwords = Passwords(logN: config.passwordScryptLogN)
    }
}

/// The routes of the service, registered under the access policy. Returns the router and
/// the `METHOD /template` of every route it holds (the spec test compares them).
public func buildRouter(_ deps: Dependencies) -> (router: Router<AppContext>, routes: [String]) {
    let router = Router(context: AppContext.self)
    // Order matters: middleware applies to routes added after it.
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: SecurityHeadersMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ProblemMiddleware())
    router.add(middleware: BodyLimitMiddleware(limit: deps.config.maxBodyBytes))
    router.add(middleware: NulGuardMiddleware())
    let api = API(
        router: router,
        db: deps.db,
        throttle: AuthThrottle(burst: deps.config.authFailureBurst, perMinute: deps.config.authFailuresPerMinute),
        requestDeadline: .seconds(deps.config.requestTimeoutSeconds)
    )
    HealthRoutes(
        db: deps.db,
        migrator: deps.migrator,
        registry: deps.registry,
        ingestStaleSeconds: 3 * deps.config.ingestIntervalSeconds + deps.config.ingestTimeoutSeconds * deps.config.ingestAttempts,
        statsIntervalSeconds: deps.config.statsRefreshSeconds
    ).register(api)
    OrgRoutes(db: deps.db).register(api)
    UserRoutes(db: deps.db, users: UserActions(db: deps.db, passwords: deps.passwords)).register(api)
    AuditRoutes(db: deps.db, anchors: deps.config.auditAnchorFile.map(AuditAnchors.init(path:))).register(api)
    // The routes anyone may call share one budget per client address.
    let publicLimiter = RateLimiter(perMinute: deps.config.publicRatePerMinute, burst: deps.config.publicRateBurst)
    let credit = CreditRoutes(
        db: deps.db,
        replica: deps.reads,
        signer: deps.signer,
        publicLimiter: publicLimiter,
        reads: ProfileReadBatcher(
            db: deps.db,
            maxBatch: deps.config.readBatch,
            maxConcurrentBatches: deps.config.readBatches,
            maxQueued: deps.config.readQueue,
            maxWait: .milliseconds(deps.config.readQueueWaitMilliseconds)
        )
    )
    credit.register(api)
    ProductRoutes(db: deps.db, rematch: deps.rematch).register(api)
    WebhookRoutes(db: deps.db, policy: deps.config.webhookPolicy).register(api)
    DemandRoutes(db: deps.db, maxBanks: deps.config.maxBanksPerDemand).register(api)
    let statCache = StatCache()
    RegulatorRoutes(db: deps.db, reads: deps.reads, cache: statCache).register(api)
    DashboardRoutes(
        db: deps.db,
        reads: deps.reads,
        cache: statCache,
        statsIntervalSeconds: deps.config.statsRefreshSeconds,
        passwords: deps.passwords
    ).register(api)
    DisclosureRoutes(db: deps.db, reads: deps.reads, signer: deps.signer, limiter: publicLimiter).register(api)
    ObjectionRoutes(db: deps.db).register(api)
    RepairRoutes(db: deps.db).register(api)
    CommitmentRoutes(db: deps.db).register(api)
    PortalRoutes(
        db: deps.db,
        reads: deps.reads,
        credit: credit.actions,
        demands: DemandActions(db: deps.db, maxBanks: deps.config.maxBanksPerDemand),
        objections: ObjectionActions(db: deps.db),
        repairs: RepairActions(db: deps.db),
        commitments: CommitmentActions(db: deps.db),
        passwords: deps.passwords
    ).register(api)
    ConsoleRoutes(db: deps.db, passwords: deps.passwords, statsIntervalSeconds: deps.config.statsRefreshSeconds).register(api)
    return (router, api.registered.withLock { $0 })
}

/// How many connect time-outs the start-up schema check may take before the server gives up.
let startupCheckAttempts: Int64 = 3

/// The composition root: configuration → database pool, migrator, sealer, router → application.
/// The server refuses to start while migrations are pending.
public func buildApplication(_ config: AppConfig, logger: Logger? = nil) throws -> some ApplicationProtocol {
    var logger = logger ?? Logger(label: "xyd")
    logger.logLevel = config.logLevel
    let missing = ChinaCalendar.missingYears(today: Day.todayInChina())
    if !missing.isEmpty {
        logger.warning(
            "the working-day calendar lacks China's public holidays for \(missing.map(String.init).joined(separator: ", ")): deadlines in those years count weekdays only; add the State Council's notice to Sources/CreditCore/ChinaCalendar.swift"
        )
    }
    guard let auditKey = config.auditKey else {
        throw ConfigError(
            variable: "XYD_AUDIT_KEY_FILE",
            value: nil,
            expected: "the file of the base64 32-byte audit key that authenticates audit rows (ops/ creates .data/keys/audit.key)"
        )
    }
    AuditKey.configure(auditKey)
    if config.auditAnchorFile == nil {
        logger.warning(
            "XYD_AUDIT_ANCHOR_FILE is not set: the audit chain's head is not anchored outside the database, so a chain cut back or wiped would not be found"
        )
    }
    let registry = Observability.registry  // bootstrap metrics before anything makes a metric
    let db = Database(settings: config.database, logger: logger)
    let replica = config.readDatabase.map { Database(settings: $0, logger: logger) }
    let reads = Reads(primary: db, replica: replica, maxLagMilliseconds: config.readMaxLagMilliseconds)
    let migrator = try Migrator(folder: config.migrationsDirectory)
    let deps = Dependencies(
        config: config,
        db: db,
        migrator: migrator,
        registry: registry,
        signer: try loadSigner(config),
        reads: reads
    )
    let (router, _) = buildRouter(deps)
    var app = Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .seconds(Int64(config.httpIdleTimeoutSeconds)))),
        configuration: .init(address: .hostname(config.httpHost, port: config.httpPort), serverName: "xyd"),
        logger: logger
    )
    // Services stop in reverse order: the server drains first, then the sealer seals what
    // is left, then the pool closes.
    app.addServices(db.client)
    if let replica {
        app.addServices(replica.client)
    }
    // Background work waits for the start-up checks: a pool that shuts down under a pending
    // query after a failed check must have nothing else to wait for.
    let started = Gate()
    app.addServices(
        AuditSealer(
            db: db,
            intervalMilliseconds: config.auditSealIntervalMilliseconds,
            batch: config.auditSealBatch,
            anchors: config.auditAnchorFile.map(AuditAnchors.init(path:)),
            startAfter: started
        )
    )
    app.addServices(
        ProfileService(db: db, intervalMilliseconds: config.profileIntervalMilliseconds, batch: config.profileBatch, startAfter: started)
    )
    app.addServices(MarketService.service(db: db, intervalSeconds: config.marketSweepSeconds, startAfter: started))
    app.addServices(deps.rematch.service(db: db, startAfter: started))
    app.addServices(StatsService.service(db: db, intervalSeconds: config.statsRefreshSeconds, startAfter: started))
    app.addServices(WebhookService(db: db, curl: CurlClient(), policy: config.webhookPolicy, startAfter: started))
    if replica != nil { app.addServices(reads.service(startAfter: started)) }
    app.addServices(PoolWatch.service(pools: [db] + (replica.map { [$0] } ?? []), logger: logger, startAfter: started))
    let startupLimit = Duration.milliseconds(Int64(config.database.connectTimeoutMilliseconds) * startupCheckAttempts)
    if let path = config.providersFile {
        app.addServices(try ingestService(config, path: path, db: db, startAfter: started, logger: logger))
    }
    app.beforeServerStarts {
        try await withTimeout(startupLimit, "reaching the database at \(config.database.url)") {
            try await migrator.checkCurrent(db)
        }
        started.open()
    }
    return app
}

/// The report signing key named by XYD_SIGNING_KEY_FILE (refused at start-up when unusable).
public func loadSigner(_ config: AppConfig) throws -> ReportSigner? {
    guard let path = config.signingKeyFile else { return nil }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ConfigError(variable: "XYD_SIGNING_KEY_FILE", value: path, expected: "a readable file (ops/ creates .data/keys/signing.key)")
    }
    do {
        return try ReportSigner(base64: String(decoding: data, as: UTF8.self))
    } catch {
        throw ConfigError(
            variable: "XYD_SIGNING_KEY_FILE",
            value: path,
            expected: "a file holding the base64 of a 32-byte Ed25519 private key"
        )
    }
}

/// Scheduled ingestion from the providers file (refused at start-up when the file or key is unusable).
func ingestService(_ config: AppConfig, path: String, db: Database, startAfter gate: Gate, logger: Logger) throws -> IngestService {
    let file = try FeedConfiguration.providers(path: path, environment: config.environment)
    let protector = try FeedConfiguration.dataKey(environment: config.environment)
    if protector == nil, file.providers.contains(where: { $0.datasets.contains(Dataset.enterpriseRegistry.rawValue) }) {
        throw FeedConfiguration.Problem(
            description: "XYD_DATA_KEY_FILE is not set: the register carries resident ID numbers, which are stored encrypted"
        )
    }
    var settings = FeedSettings()
    settings.totalTimeoutMilliseconds = config.ingestTimeoutSeconds * 1_000
    settings.maxAttempts = config.ingestAttempts
    let curl = CurlClient()
    let clients = FeedConfiguration.clients(file, environment: config.environment, curl: curl, settings: settings, logger: logger)
    let ingestor = Ingestor(db: db, clients: clients, protector: protector, settings: settings, today: { FeedConfiguration.todayInChina() })
    return IngestService(
        ingestor: ingestor,
        interval: .seconds(Int64(config.ingestIntervalSeconds)),
        curl: curl,
        startAfter: gate,
        logger: logger
    )
}
