import ArgumentParser
import CreditCore
import Curl
import Feeds
import Foundation
import Logging
import Server
import Store

/// The personal-data key, or a refusal naming the variable to fix.
func loadDataKey(required: Bool) -> PersonalDataProtector? {
    do {
        let key = try FeedConfiguration.dataKey(environment: ProcessInfo.processInfo.environment)
        if key == nil && required {
            fail(
                "XYD_DATA_KEY_FILE is not set: expected the file of the personal-data key (ops/ creates .data/keys/data.key)",
                status: ExitStatus.configuration
            )
        }
        return key
    } catch {
        fail("\(error)", status: ExitStatus.configuration)
    }
}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pull every dataset of the providers file through libcurl into PostgreSQL.",
        discussion: "Exit status with --once: 0 all caught up, 2 a dataset stopped on an error that retrying cannot fix, 1 retries ran out."
    )

    @OptionGroup var settings: SettingOptions
    @Option(help: "The providers file (JSON).") var providers: String
    @Flag(help: "Pull until caught up, then exit.") var once = false
    @Flag(help: "Print a JSON summary as the last line.") var json = false
    @Option(help: "Items per page, 1 to 1000.") var pageLimit = 500
    @Option(help: "Datasets pulled at once, 1 to 9.") var concurrency = 4
    @Option(help: "Seconds between pulls without --once.") var intervalSeconds = 300

    func validate() throws {
        guard (1...1000).contains(pageLimit) else { throw ValidationError("--page-limit: 1 to 1000") }
        guard (1...9).contains(concurrency) else { throw ValidationError("--concurrency: 1 to 9") }
        guard (1...86_400).contains(intervalSeconds) else { throw ValidationError("--interval-seconds: 1 to 86400") }
    }

    func run() async throws {
        let config = try settings.load()
        let env = ProcessInfo.processInfo.environment
        let file = Self.loadProviders(providers, environment: env)
        let needsKey = file.providers.contains { $0.datasets.contains(Dataset.enterpriseRegistry.rawValue) }
        let protector = loadDataKey(required: needsKey)
        var feed = FeedSettings()
        feed.totalTimeoutMilliseconds = config.ingestTimeoutSeconds * 1_000
        feed.maxAttempts = config.ingestAttempts
        feed.pageLimit = pageLimit
        feed.maxConcurrentDatasets = concurrency
        var logger = Logger(label: "xyd.ingest")
        logger.logLevel = .warning
        let curl = CurlClient()
        defer { curl.shutdown() }
        let clients = FeedConfiguration.clients(file, environment: env, curl: curl, settings: feed, logger: logger)
        let printer = ProgressPrinter(enabled: isatty(STDERR_FILENO) == 1 || !json)
        let (once, json, interval) = (self.once, self.json, intervalSeconds)
        let (clientsByDataset, feedSettings) = (clients, feed)
        let status: Int32 = await withDatabase(config) { db in
            let ingestor = Ingestor(
                db: db,
                clients: clientsByDataset,
                protector: protector,
                settings: feedSettings,
                today: { FeedConfiguration.todayInChina() },
                progress: { printer.show($0) }
            )
            // A foreground command, not a service: a plain loop stopped by Ctrl-C, which is safe
            // anywhere (a dataset's cursor only moves with a stored page). `xyd serve` pulls
            // through IngestService, on PeriodicService.
            while true {
                let started = ContinuousClock.now
                let reports = await ingestor.runOnce()
                printer.summary(reports, elapsed: ContinuousClock.now - started)
                if json { printJSON(IngestSummary(datasets: reports), pretty: false) }
                if once {
                    if reports.contains(where: { $0.outcome == .stopped }) { return 2 }
                    return reports.contains(where: { $0.outcome == .failing }) ? 1 : 0
                }
                try await Task.sleep(for: .seconds(interval))
            }
        }
        if status != 0 { throw ExitCode(status) }
    }

    struct IngestSummary: Encodable {
        let datasets: [DatasetReport]
    }

    static func loadProviders(_ path: String, environment: [String: String]) -> ProvidersFile {
        do { return try FeedConfiguration.providers(path: path, environment: environment) } catch {
            fail("--providers \(error)", status: ExitStatus.configuration)
        }
    }
}

/// The received … live columns of the ingestion tables, right-aligned under their headings.
func countColumns(_ counts: [Int64]) -> String {
    let widths = [10, 10, 8, 11, 13, 10]
    return zip(counts, widths).map { n, w in
        let text = String(n)
        return String(repeating: " ", count: max(0, w - text.count)) + text
    }.joined()
}

/// Progress on standard error: a line per dataset every so often, then a table.
final class ProgressPrinter: Sendable {
    let enabled: Bool
    private let lastShown = Locked([String: Int]())
    static let step = 20_000

    init(enabled: Bool) { self.enabled = enabled }

    func show(_ r: DatasetReport) {
        guard enabled else { return }
        let due = lastShown.withLock { shown -> Bool in
            let last = shown[r.dataset] ?? 0
            if r.received - last >= Self.step || r.received == 0 && last == 0 {
                shown[r.dataset] = r.received
                return true
            }
            return false
        }
        if due {
            FileHandle.standardError.write(
                Data("  \(r.dataset): \(r.received) received, \(r.stored) stored, \(r.quarantined) quarantined…\n".utf8)
            )
        }
    }

    func summary(_ reports: [DatasetReport], elapsed: Duration) {
        guard enabled else { return }
        var out = "\n  dataset                   received    stored   stale  withdrawn  quarantined      live  outcome\n"
        for r in reports {
            out += "  " + r.dataset.padding(toLength: 24, withPad: " ", startingAt: 0)
            out += countColumns([r.received, r.stored, r.stale, r.withdrawn, r.quarantined, r.live].map(Int64.init))
            out += "  " + r.outcome.rawValue + (r.reason.map { " (\($0))" } ?? "") + "\n"
        }
        let total = reports.reduce(0) { $0 + $1.received }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        out += "  \(total) items in \(String(format: "%.1f", seconds)) s (\(seconds > 0 ? Int(Double(total) / seconds) : 0) items/s)\n"
        FileHandle.standardError.write(Data(out.utf8))
    }
}
