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
    let policy: WebhookPolicy
    let gate: Gate?

    public init(db: Database, curl: CurlClient, policy: WebhookPolicy, startAfter gate: Gate? = nil) {
        self.db = db
        self.curl = curl
        self.policy = policy
        self.gate = gate
    }

    /// One request for one due delivery, to the address the policy checked (pinned); an
    /// address the policy refuses now fails the attempt (`refused_address`) without a request.
    public static func send(_ d: Webhooks.Due, curl: CurlClient, policy: WebhookPolicy) async throws -> Int {
        let pins = try policy.pins(for: d.url)
        let timestamp = Int(Date().timeIntervalSince1970)
        var request = CurlRequest(
            url: d.url,
            method: "POST",
            headers: [
                ("Content-Type", "application/json"), (WebhookHeader.eventId.rawName, d.eventId.uuidString.lowercased()),
                (WebhookHeader.signature.rawName, Webhooks.signature(secret: d.secret, timestamp: timestamp, body: d.body)),
            ],
            body: d.body,
            connectTimeoutMilliseconds: connectTimeoutMilliseconds,
            totalTimeoutMilliseconds: totalTimeoutMilliseconds,
            maxResponseBytes: maxResponseBytes,
            acceptGzip: false
        )
        request.pinned = pins
        return try await curl.perform(request).status
    }

    public func run() async throws {
        let (db, curl, policy) = (self.db, self.curl, self.policy)
        try await PeriodicService(
            "webhook delivery",
            logger: db.logger,
            interval: .milliseconds(Self.intervalMilliseconds),
            startAfter: gate,
            work: {
                let (delivered, failed) = try await Webhooks.deliverDue(db, classify: Webhooks.errorClass) {
                    try await Self.send($0, curl: curl, policy: policy)
                }
                if failed > 0 { db.logger.warning("webhook deliveries given up after a day", metadata: ["count": "\(failed)"]) }
                return delivered > 0 ? .busy : .idle
            },
            finally: { curl.shutdown() },
            turnLimit: Webhooks.turnLimit
        ).run()
    }
}

/// The headers of a webhook request.
public enum WebhookHeader {
    public static let eventId = HTTPField.Name("X-Xyd-Event-Id")!
    public static let signature = HTTPField.Name("X-Xyd-Signature")!
}

/// Where webhook endpoints may point: http(s) to an allow-listed host (`XYD_WEBHOOK_HOSTS`);
/// loopback only when `XYD_WEBHOOK_ALLOW_LOOPBACK` says so, and then only to the ports in
/// `XYD_WEBHOOK_LOOPBACK_PORTS` (tests, demos). The URL is read as libcurl reads it, and at each
/// delivery the host is resolved and every address checked — never a link-local (cloud
/// metadata), unspecified or multicast address, loopback only under the rule above — then
/// pinned, so libcurl connects to exactly the address checked.
public struct WebhookPolicy: Sendable {
    public let hosts: Set<String>
    public let allowLoopback: Bool
    public let loopbackPorts: Set<Int>

    public init(hosts: Set<String>, allowLoopback: Bool, loopbackPorts: Set<Int> = []) {
        self.hosts = hosts
        self.allowLoopback = allowLoopback
        self.loopbackPorts = loopbackPorts
    }

    static let loopbackNames: Set<String> = ["127.0.0.1", "localhost", "::1"]

    /// Why the URL may not be registered, or nil (checked when a bank registers it).
    public func check(_ text: String) -> String? {
        guard text.unicodeScalars.count <= 500, let target = CurlTarget.parse(text), target.scheme == "http" || target.scheme == "https",
            !target.hasCredentials
        else { return "an http(s) URL of at most 500 characters, without a user name or password" }
        let literal = CurlTarget.kind(of: target.host)
        if Self.loopbackNames.contains(target.host) || literal == .loopback {
            return loopbackRefusal(port: target.port)
        }
        if let literal, literal != .global && literal != .privateNetwork {
            return "that address is not allowed here"
        }
        return hosts.contains(target.host)
            ? nil : "the host \(target.host) is not on the operator's list of hosts webhooks may reach: ask the operator to add it"
    }

    func loopbackRefusal(port: Int) -> String? {
        guard allowLoopback else { return "loopback addresses are not allowed here" }
        return loopbackPorts.contains(port) ? nil : "loopback only to the ports in XYD_WEBHOOK_LOOPBACK_PORTS"
    }

    /// Why a delivery to this URL is refused now.
    public struct Refused: Error, CustomStringConvertible {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The `CURLOPT_RESOLVE` pins for a delivery: the URL checked again as at registration, its
    /// host resolved, and every address checked; throws `Refused` otherwise.
    public func pins(for url: String, resolve: (CurlTarget) -> [String] = { $0.addresses() }) throws -> [String] {
        if let why = check(url) { throw Refused(description: why) }
        guard let target = CurlTarget.parse(url) else { throw Refused(description: "unreadable URL") }
        let addresses = resolve(target)
        guard !addresses.isEmpty else { throw Refused(description: "the host does not resolve") }
        for address in addresses {
            switch CurlTarget.kind(of: address) {
            case .loopback:
                if let why = loopbackRefusal(port: target.port) { throw Refused(description: why) }
            case .linkLocal, .unspecified, .multicast, nil:
                throw Refused(description: "the host resolves to an address that is not allowed")
            case .privateNetwork, .global:
                break
            }
        }
        return addresses.map(target.pin)
    }
}

extension Webhooks {
    /// What a bank's delivery log may say of a failed attempt: a class, never the upstream's
    /// own error text (which would tell what answers where).
    public static func errorClass(_ error: any Error) -> String {
        switch error {
        case is WebhookPolicy.Refused: "refused_address"
        case let e as CurlError:
            switch e {
            case .timedOut: "timeout"
            case .transport: "connection_failed"
            case .responseTooLarge: "response_too_large"
            case .invalidRequest: "invalid_request"
            case .shutDown: "shut_down"
            }
        default: "error"
        }
    }
}
