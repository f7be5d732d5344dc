import CreditCore
import Curl
import Foundation
import HTTPTypes
import Logging
import ServiceLifecycle
import Store

/// Delivers webhook events through libcurl inside `xyd serve`: signed, retried with back-off
/// for up to a day, in order per enterprise (see `Webhooks.deliverDue`).
public struct WebhookService: Service {
    public static let intervalMilliseconds = 500
    public static let connectTimeoutMilliseconds = 3_000
    public static let totalTimeoutMilliseconds = 10_000
    public static let maxResponseBytes = 64 << 10

    let db: Database
    let curl: CurlClient
    let gate: Gate?

    public init(db: Database, curl: CurlClient, startAfter gate: Gate? = nil) {
        self.db = db
        self.curl = curl
        self.gate = gate
    }

    /// One request for one due delivery.
    public static func send(_ d: Webhooks.Due, curl: CurlClient) async throws -> Int {
        let timestamp = Int(Date().timeIntervalSince1970)
        let request = CurlRequest(
            url: d.url, method: "POST",
            headers: [("Content-Type", "application/json"), (WebhookHeader.eventId.rawName, d.eventId.uuidString.lowercased()),
                      (WebhookHeader.signature.rawName, Webhooks.signature(secret: d.secret, timestamp: timestamp, body: d.body))],
            body: d.body, connectTimeoutMilliseconds: connectTimeoutMilliseconds, totalTimeoutMilliseconds: totalTimeoutMilliseconds,
            maxResponseBytes: maxResponseBytes, acceptGzip: false)
        return try await curl.perform(request).status
    }

    public func run() async throws {
        let curl = self.curl
        await cancelWhenGracefulShutdown {
            await gate?.wait()
            while !Task.isCancelled {
                var busy = false
                do {
                    let (delivered, failed) = try await Webhooks.deliverDue(db) { try await Self.send($0, curl: curl) }
                    busy = delivered > 0
                    if failed > 0 { db.logger.warning("webhook deliveries given up after a day", metadata: ["count": "\(failed)"]) }
                } catch where isShutdown(error) {
                    break
                } catch {
                    db.logger.error("webhook delivery failed; will retry", metadata: ["error": "\(describeDatabaseError(error))"])
                }
                if !busy { try? await Task.sleep(for: .milliseconds(Self.intervalMilliseconds)) }
            }
        }
        curl.shutdown()
    }
}

/// The headers of a webhook request.
public enum WebhookHeader {
    public static let eventId = HTTPField.Name("X-Xyd-Event-Id")!
    public static let signature = HTTPField.Name("X-Xyd-Signature")!
}

/// Where webhook endpoints may point: http(s) to an allow-listed host (`XYD_WEBHOOK_HOSTS`),
/// loopback only when `XYD_WEBHOOK_ALLOW_LOOPBACK` says so (tests, demos).
public struct WebhookPolicy: Sendable {
    public let hosts: Set<String>
    public let allowLoopback: Bool

    public init(hosts: Set<String>, allowLoopback: Bool) {
        self.hosts = hosts
        self.allowLoopback = allowLoopback
    }

    public func check(_ text: String) -> String? {
        guard text.count <= 500, let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host?.lowercased(), url.user == nil
        else { return "an http(s) URL of at most 500 characters" }
        let loopback = host == "127.0.0.1" || host == "localhost" || host == "::1"
        if loopback { return allowLoopback ? nil : "loopback addresses are not allowed here" }
        return hosts.contains(host) ? nil : "the host \(host) is not in XYD_WEBHOOK_HOSTS"
    }
}
