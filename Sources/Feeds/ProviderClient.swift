import CreditCore
import Curl
import Foundation
import Logging

/// Limits of the provider client, each named once.
public struct FeedSettings: Sendable {
    public var pageLimit = 500
    public var connectTimeoutMilliseconds = 5_000
    /// A provider may take up to 30 s for a page.
    public var totalTimeoutMilliseconds = FeedSettings.defaultTotalTimeoutSeconds * 1_000
    public var maxResponseBytes = 32 << 20
    /// Attempts of one page on transient failures (5xx, resets, time-outs, truncated bodies).
    public var maxAttempts = FeedSettings.defaultMaxAttempts
    public var backoffBaseMilliseconds = 200
    public var backoffMaxMilliseconds = 30_000
    /// 429 answers honoured per page before giving up for this run.
    public var maxRateLimitedWaits = 50
    public var maxRetryAfterSeconds = 300
    public var maxConcurrentDatasets = 4
    /// A dataset's lease: renewed every third of it while a worker pulls; a worker that dies
    /// holds the dataset at most this long.
    public var leaseSeconds = 60
    /// Storing one page (its COPY and merge) must finish within this, or the pull fails and
    /// gives its lease back: a connection that died under a COPY never answers.
    public var storeTimeoutSeconds = 120

    public static let defaultTotalTimeoutSeconds = 45
    public static let defaultMaxAttempts = 8

    public init() {}
}

/// A page as the provider sent it.
public struct FetchedPage: Sendable {
    public let items: [JSONValue]
    public let nextCursor: String
    public let hasMore: Bool
}

/// Why a dataset (or its whole provider) stopped: an answer retrying cannot fix.
public struct FeedStop: Error, Sendable, CustomStringConvertible {
    public enum Scope: String, Sendable { case dataset, provider }
    public let scope: Scope
    public let status: Int
    public let code: String
    public let message: String

    public var description: String { "HTTP \(status) \(code): \(message)" }
}

/// Transient failures persisted past the attempt limit: try again on the next run.
public struct FeedGaveUp: Error, Sendable, CustomStringConvertible {
    public let attempts: Int
    public let last: String
    public var description: String { "gave up after \(attempts) attempts; last: \(last)" }
}

/// 410 `cursor_expired`: restart the dataset from no cursor.
public struct CursorExpired: Error, Sendable {}

/// One provider's feed over libcurl: signing, paging, retries with back-off and jitter.
public struct ProviderClient: Sendable {
    public let account: ProviderAccount
    let secret: String
    let curl: CurlClient
    let settings: FeedSettings
    let logger: Logger
    /// Sleeps; injected so that tests of the retry policy need not wait.
    let sleep: @Sendable (Duration) async throws -> Void

    public init(
        account: ProviderAccount,
        secret: String,
        curl: CurlClient,
        settings: FeedSettings,
        logger: Logger,
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.account = account
        self.secret = secret
        self.curl = curl
        self.settings = settings
        self.logger = logger
        self.sleep = sleep
    }

    /// The signed request for one page.
    func request(dataset: Dataset, cursor: String?, now: Date = Date()) -> CurlRequest {
        var base = account.baseURL
        while base.hasSuffix("/") { base.removeLast() }
        let basePath = URLComponents(string: base)?.percentEncodedPath ?? ""
        let path = basePath + "/v1/datasets/\(dataset.rawValue)/changes"
        var query: [(String, String)] = [("limit", String(settings.pageLimit))]
        if let cursor { query.append(("cursor", cursor)) }
        let timestamp = String(Int(now.timeIntervalSince1970))
        let nonce = ProviderSigning.makeNonce()
        let signature = ProviderSigning.signature(
            secret: secret,
            method: "GET",
            path: path,
            query: query,
            timestamp: timestamp,
            nonce: nonce
        )
        let queryText = ProviderSigning.canonicalQuery(query)
        return CurlRequest(
            url: base + "/v1/datasets/\(dataset.rawValue)/changes?" + queryText,
            headers: [
                ("X-App-Key", account.appKey), ("X-Timestamp", timestamp), ("X-Nonce", nonce), ("X-Signature", signature),
                ("Accept", "application/json"),
            ],
            connectTimeoutMilliseconds: settings.connectTimeoutMilliseconds,
            totalTimeoutMilliseconds: settings.totalTimeoutMilliseconds,
            maxResponseBytes: settings.maxResponseBytes,
            acceptGzip: true
        )
    }

    /// Fetches one page, retrying what providers.md says to retry, never skipping a page.
    /// `onRetry` hears of each failed attempt (its number and why) before the back-off.
    public func fetch(
        dataset: Dataset,
        cursor: String?,
        onRetry: @Sendable (_ attempt: Int, _ why: String) async -> Void = { _, _ in }
    ) async throws -> FetchedPage {
        var attempts = 0
        var waits = 0
        var last = ""
        while true {
            try Task.checkCancellation()
            attempts += 1
            do {
                let response = try await curl.perform(request(dataset: dataset, cursor: cursor))
                switch response.status {
                case 200:
                    if let page = Self.parse(response.body) { return page }
                    last = "a malformed page body"
                case 429:
                    waits += 1
                    attempts -= 1
                    guard waits <= settings.maxRateLimitedWaits else { throw FeedGaveUp(attempts: waits, last: "rate limited") }
                    let seconds = min(max(Int(response.headers["retry-after"] ?? "") ?? 1, 1), settings.maxRetryAfterSeconds)
                    logger.info("rate limited", metadata: ["dataset": "\(dataset.rawValue)", "retry_after_s": "\(seconds)"])
                    try await sleep(.seconds(seconds))
                    continue
                case 500, 502, 503, 504:
                    last = "HTTP \(response.status)"
                case 410:
                    throw CursorExpired()
                default:
                    throw Self.stop(status: response.status, body: response.body)
                }
            } catch let e as CurlError where e.isTransient {
                last = e.description
            } catch let e as CurlError {
                throw FeedStop(scope: .dataset, status: 0, code: "client_error", message: e.description)
            }
            guard attempts < settings.maxAttempts else { throw FeedGaveUp(attempts: attempts, last: last) }
            let delay = backoff(attempt: attempts)
            logger.info(
                "retrying",
                metadata: ["dataset": "\(dataset.rawValue)", "attempt": "\(attempts)", "why": "\(last)", "delay_ms": "\(delay)"]
            )
            await onRetry(attempts, last)
            try await sleep(.milliseconds(delay))
        }
    }

    /// Exponential back-off with full jitter, capped.
    func backoff(attempt: Int) -> Int {
        let ceiling = min(settings.backoffMaxMilliseconds, settings.backoffBaseMilliseconds << min(attempt - 1, 20))
        return Int.random(in: (ceiling / 2)...max(ceiling / 2, ceiling))
    }

    static func parse(_ body: [UInt8]) -> FetchedPage? {
        guard let value = try? JSONParser.parse(body), case .array(let items)? = value["items"],
            let next = value["next_cursor"]?.stringValue, case .bool(let more)? = value["has_more"],
            items.count <= 1_000
        else { return nil }
        return FetchedPage(items: items, nextCursor: next, hasMore: more)
    }

    static func stop(status: Int, body: [UInt8]) -> FeedStop {
        let parsed = try? JSONParser.parse(body)
        let code = parsed?["error"]?.stringValue ?? "http_\(status)"
        let message = parsed?["message"]?.stringValue ?? "unexpected answer"
        return FeedStop(scope: status == 401 ? .provider : .dataset, status: status, code: code, message: message)
    }
}
