import CreditCore
import Curl
import Feeds
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Simulator
import Store
import TestSupport

/// A simulator served over real HTTP on loopback, for one test.
struct SimHarness: Sendable {
    let base: String
    let city: City
    let index: FeedIndex
    let settings: FeedServerSettings
    let clock: Locked<TimeInterval>

    static let asOf = Day("2026-11-20")!

    static func with<R: Sendable>(
        enterprises: Int,
        seed: UInt64,
        faults: Double = 0,
        _ body: @Sendable (SimHarness) async throws -> R
    ) async throws -> R {
        let city = City(seed: seed, enterprises: enterprises, asOf: asOf)
        let index = await FeedIndex(city: city, faultRate: faults)
        let clock = Locked<TimeInterval>(0)
        var settings = FeedServerSettings(seed: seed, faultRate: faults)
        settings.cursorNow = { Date().addingTimeInterval(clock.withLock { $0 }) }
        let router = FeedServer.router(index: index, settings: settings)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), backlog: 512))
        let frozen = settings
        return try await app.test(.live) { client in
            try await body(SimHarness(base: "http://127.0.0.1:\(client.port!)", city: city, index: index, settings: frozen, clock: clock))
        }
    }

    var providers: ProvidersFile { settings.providersFile(baseURL: base) }

    static let dataKey = PersonalDataProtector.newKeyBase64()

    /// An ingestor for these providers; back-off sleeps are shortened so fault runs stay quick.
    func ingestor(
        _ db: Database,
        file: ProvidersFile? = nil,
        curl: CurlClient,
        adjust: (inout FeedSettings) -> Void = { _ in }
    ) throws -> Ingestor {
        var feed = FeedSettings()
        feed.pageLimit = 300
        adjust(&feed)
        var clients: [Dataset: ProviderClient] = [:]
        var logger = Logger(label: "test.feeds")
        logger.logLevel = .error
        for account in (file ?? providers).providers {
            let client = ProviderClient(
                account: account,
                secret: account.appSecret!,
                curl: curl,
                settings: feed,
                logger: logger,
                sleep: { _ in try await Task.sleep(for: .milliseconds(2)) }
            )
            for d in account.datasets { clients[Dataset(rawValue: d)!] = client }
        }
        return Ingestor(
            db: db,
            clients: clients,
            protector: try PersonalDataProtector(base64: Self.dataKey),
            settings: feed,
            today: { Self.asOf }
        )
    }
}

/// What the database holds per dataset: live records, the sum of their money fields, quarantined items.
struct Held: Equatable, CustomStringConvertible {
    var live: Int
    var moneyFen: Int64
    var quarantined: Int
    var description: String { "live \(live), money \(moneyFen), quarantined \(quarantined)" }
}

func held(_ db: Database) async throws -> [String: Held] {
    try await db.withConnection { c in
        var result: [String: Held] = [:]
        for d in Dataset.allCases { result[d.rawValue] = Held(live: 0, moneyFen: 0, quarantined: 0) }
        for try await (d, n, money) in try await c.query(
            """
            SELECT r.dataset, count(*)::int, coalesce(sum(x.v), 0)::bigint FROM current_record r
            LEFT JOIN LATERAL (SELECT sum(value::text::bigint) AS v FROM jsonb_each(r.data)
                               WHERE key LIKE '%\\_fen' AND jsonb_typeof(value) = 'number') x ON true
            WHERE r.op = 'upsert' GROUP BY r.dataset
            """,
            logger: db.logger
        ).decode((String, Int, Int64).self) {
            result[d]!.live = n
            result[d]!.moneyFen = money
        }
        for try await (d, n) in try await c.query("SELECT dataset, count(*)::int FROM quarantine GROUP BY 1", logger: db.logger)
            .decode((String, Int).self)
        {
            result[d]!.quarantined = n
        }
        return result
    }
}

func truth(_ sim: SimHarness) -> [String: Held] {
    var result: [String: Held] = [:]
    for d in Dataset.allCases {
        let t = sim.city.truth(d, faultRate: sim.index.faultRate)
        result[d.rawValue] = Held(live: t.live, moneyFen: t.liveMoneyFen, quarantined: t.invalid)
    }
    return result
}
