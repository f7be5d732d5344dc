import ArgumentParser
import CreditCore
import Feeds
import Foundation
import Hummingbird
import Logging
import Simulator

struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve a deterministic simulated city as the six providers of providers.md, from one port."
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port (0: any free port).") var port = 9300
    @Option(help: "Seed of the city: the same seed gives the same city.") var seed: UInt64 = 1
    @Option(help: "Number of enterprises.") var enterprises = 2_000
    @Option(help: "Rate of faults (0 to 0.5): 503/429, truncated bodies, re-deliveries, stale versions, withdrawals, invalid items.")
    var faults: Double = 0
    @Option(help: "The last day of the history, YYYY-MM-DD (default: today).") var asOf: String?
    @Option(help: "gzip level of answers to clients that accept it: 1 fastest … 9 smallest, 0 never.") var gzipLevel: Int32 = 1
    @Option(help: "Write the providers file (JSON, for `xyd ingest --providers`) here once listening.") var writeConfig: String?

    static let maxEnterprises = 1_000_000

    func validate() throws {
        guard (1...Self.maxEnterprises).contains(enterprises) else { throw ValidationError("--enterprises: 1 to \(Self.maxEnterprises)") }
        guard (0...0.5).contains(faults) else { throw ValidationError("--faults: 0 to 0.5") }
        guard (0...65535).contains(port) else { throw ValidationError("--port: 0 to 65535") }
        guard (0...9).contains(gzipLevel) else { throw ValidationError("--gzip-level: 0 to 9") }
        if let asOf, Day(asOf) == nil { throw ValidationError("--as-of: a date YYYY-MM-DD") }
    }

    func run() async throws {
        let day = asOf.flatMap(Day.init) ?? FeedConfiguration.todayInChina()
        let city = City(seed: seed, enterprises: enterprises, asOf: day)
        let started = ContinuousClock.now
        FileHandle.standardError.write(
            Data("simulate: indexing a city of \(enterprises) enterprises (seed \(seed), history to \(day))…\n".utf8)
        )
        let index = await FeedIndex(city: city, faultRate: faults)
        let total = Dataset.allCases.map { index.total($0) }.reduce(0, +)
        FileHandle.standardError.write(Data("simulate: \(total) feed items in \(ContinuousClock.now - started)\n".utf8))
        for d in Dataset.allCases {
            FileHandle.standardError.write(
                Data("  \(d.rawValue.padding(toLength: 24, withPad: " ", startingAt: 0)) \(index.total(d))\n".utf8)
            )
        }
        var configured = FeedServerSettings(seed: seed, faultRate: faults)
        configured.gzipLevel = gzipLevel
        let settings = configured
        let router = FeedServer.router(index: index, settings: settings)
        var logger = Logger(label: "simulate")
        logger.logLevel = .warning
        let host = self.host
        let writeConfig = self.writeConfig
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "xyd-simulator", backlog: 1024),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? 0
                let base = "http://\(host):\(bound)"
                if let writeConfig {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                    if let data = try? encoder.encode(settings.providersFile(baseURL: base)) {
                        _ = FileManager.default.createFile(atPath: writeConfig, contents: data, attributes: [.posixPermissions: 0o600])
                    }
                }
                FileHandle.standardError.write(
                    Data("simulate: serving the six providers at \(base)/{amr,tax,hrss,utilities,contracts,credit}\n".utf8)
                )
            },
            logger: logger
        )
        try await app.runService()
    }
}
