import CreditCore
import Curl
import Foundation
import Logging
import ServiceLifecycle
import Store

/// Scheduled ingestion inside `xyd serve`: each dataset pulled on its own schedule — every
/// `interval` after its last pull ended — so that one provider that hangs or fails holds only
/// its own datasets, never the others'. Stops at graceful shutdown, cancelling transfers in
/// progress (the cursor is only ever moved with a stored page, so stopping anywhere is safe).
public struct IngestService: Service {
    let ingestor: Ingestor
    let interval: Duration
    let curl: CurlClient
    let gate: Gate?
    let logger: Logger

    public init(ingestor: Ingestor, interval: Duration, curl: CurlClient, startAfter gate: Gate?, logger: Logger) {
        self.ingestor = ingestor
        self.interval = interval
        self.curl = curl
        self.gate = gate
        self.logger = logger
    }

    public func run() async throws {
        let (ingestor, interval, gate, logger) = (self.ingestor, self.interval, self.gate, self.logger)
        await withTaskGroup(of: Void.self) { group in
            for dataset in ingestor.datasets {
                group.addTask {
                    try? await PeriodicService("ingestion of \(dataset.rawValue)", logger: logger, interval: interval, startAfter: gate) {
                        let r = await ingestor.runDataset(dataset)
                        if r.outcome != .caughtUp && r.outcome != .skipped {
                            logger.warning(
                                "ingestion did not catch up",
                                metadata: ["dataset": "\(r.dataset)", "outcome": "\(r.outcome.rawValue)", "reason": "\(r.reason ?? "-")"]
                            )
                        } else {
                            logger.debug(
                                "dataset pulled",
                                metadata: ["dataset": "\(r.dataset)", "received": "\(r.received)", "stored": "\(r.stored)"]
                            )
                        }
                        return .idle
                    }.run()
                }
            }
        }
        curl.shutdown()
    }
}

/// Loading the providers file and the personal-data key, with errors that name what to fix.
public enum FeedConfiguration {
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    public static func providers(path: String, environment: [String: String]) throws -> ProvidersFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Problem(description: "cannot read the providers file \(path)")
        }
        let file: ProvidersFile
        do { file = try JSONDecoder().decode(ProvidersFile.self, from: data) } catch {
            throw Problem(description: "\(path) is not a providers file: \(error)")
        }
        let problems = file.problems(environment: environment)
        guard problems.isEmpty else { throw Problem(description: "\(path):\n  " + problems.joined(separator: "\n  ")) }
        return file
    }

    /// The key from XYD_DATA_KEY (base64) or the file XYD_DATA_KEY_FILE names; nil when neither is set.
    public static func dataKey(environment: [String: String]) throws -> PersonalDataProtector? {
        var text = environment["XYD_DATA_KEY"]
        if text == nil, let path = environment["XYD_DATA_KEY_FILE"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Problem(description: "XYD_DATA_KEY_FILE is '\(path)': expected a readable file holding a base64 32-byte key")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        guard let text else { return nil }
        do { return try PersonalDataProtector(base64: text) } catch {
            throw Problem(description: "the personal-data key (XYD_DATA_KEY or XYD_DATA_KEY_FILE): \(error)")
        }
    }

    /// Provider clients by dataset.
    public static func clients(
        _ file: ProvidersFile,
        environment: [String: String],
        curl: CurlClient,
        settings: FeedSettings,
        logger: Logger
    ) -> [Dataset: ProviderClient] {
        var clients: [Dataset: ProviderClient] = [:]
        for account in file.providers {
            guard let secret = ProvidersFile.secret(of: account, environment: environment) else { continue }
            let client = ProviderClient(account: account, secret: secret, curl: curl, settings: settings, logger: logger)
            for d in account.datasets { if let dataset = Dataset(rawValue: d) { clients[dataset] = client } }
        }
        return clients
    }

    /// Today in the providers' time zone (UTC+8): event dates after it are refused.
    public static func todayInChina() -> Day { Day.todayInChina() }
}
