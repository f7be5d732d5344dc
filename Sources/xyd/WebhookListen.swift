import ArgumentParser
import CreditCore
import Foundation
import Hummingbird
import Logging
import Server
import Store

/// A receiver for a bank's webhooks, for trying them out: prints each event as it arrives and
/// whether its signature verifies with the endpoint's secret; answers 204.
struct WebhookListen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook-listen",
        abstract: "Receive webhook events on 127.0.0.1:PORT/hook and print them (signatures checked when --secret is given)."
    )

    /// Bodies larger than this are refused (the service's events are a few hundred bytes).
    static let maxBodyBytes = 1 << 20
    /// A signature older than this many seconds is reported as stale (replayed by someone else?).
    static let toleranceSeconds = 300

    @Option(help: "port to listen on") var port: Int = 9099
    @Option(help: "the endpoint's secret (whsec_…), shown once when it was registered") var secret: String?

    func run() async throws {
        let secret = self.secret
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = Array(buffer: try await request.body.collect(upTo: Self.maxBodyBytes))
            let id = request.headers[WebhookHeader.eventId] ?? "?"
            let header = request.headers[WebhookHeader.signature] ?? ""
            // Unbuffered: each event shows as it comes, even into a pipe.
            let line =
                "event \(id)  signature: \(Self.check(header, body: body, secret: secret))\n  \(String(decoding: body, as: UTF8.self))\n"
            FileHandle.standardOutput.write(Data(line.utf8))
            return Response(status: .noContent)
        }
        var logger = Logger(label: "xyd.webhook-listen")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: logger)
        print("listening on http://127.0.0.1:\(port)/hook (Ctrl-C stops)")
        try await app.runService()
    }

    static func check(_ header: String, body: [UInt8], secret: String?) -> String {
        guard let secret else { return "not checked (no --secret)" }
        let parts = Dictionary(
            header.split(separator: ",").compactMap { p -> (String, String)? in
                let kv = p.split(separator: "=", maxSplits: 1)
                return kv.count == 2 ? (String(kv[0]), String(kv[1])) : nil
            },
            uniquingKeysWith: { a, _ in a }
        )
        guard let t = parts["t"].flatMap(Int.init) else { return "MISSING" }
        guard Webhooks.signature(secret: secret, timestamp: t, body: body) == header else { return "INVALID" }
        let age = Int(Date().timeIntervalSince1970) - t
        return abs(age) <= toleranceSeconds ? "valid" : "valid but \(age) s old"
    }
}
