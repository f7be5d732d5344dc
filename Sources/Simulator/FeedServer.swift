import CompressNIO
import CreditCore
import Crypto
import Foundation
import Hummingbird
import Logging
import NIOCore

/// The simulator's settings.
public struct FeedServerSettings: Sendable {
    public var faultRate: Double
    /// zlib level of gzip answers (1 fastest … 9 smallest; 0 never compresses).
    public var gzipLevel: Int32 = 1
    /// Cursors older than this answer 410 `cursor_expired` (providers.md: 7 days).
    public var cursorLifetimeSeconds: Int = 7 * 86_400
    public var credentials: [ProviderName: (key: String, secret: String)]
    /// The clock for authentication (timestamps, nonces).
    public var now: @Sendable () -> Date = { Date() }
    /// The clock cursors are issued and expired by (tests move it to expire cursors).
    public var cursorNow: @Sendable () -> Date = { Date() }

    public init(seed: UInt64, faultRate: Double) {
        self.faultRate = faultRate
        var credentials: [ProviderName: (key: String, secret: String)] = [:]
        for p in ProviderName.allCases {
            let secret = Data(SHA256.hash(data: Data("xyd-sim-\(seed)-\(p.rawValue)".utf8))).hexString
            credentials[p] = ("sim-\(p.rawValue)-\(seed)", secret)
        }
        self.credentials = credentials
    }

    /// The providers file for a simulator listening at `baseURL`.
    public func providersFile(baseURL: String) -> ProvidersFile {
        ProvidersFile(
            providers: ProviderName.allCases.map { p in
                ProviderAccount(
                    name: p.rawValue,
                    baseURL: "\(baseURL)/\(p.rawValue)",
                    appKey: credentials[p]!.key,
                    appSecret: credentials[p]!.secret,
                    datasets: p.datasets.map(\.rawValue)
                )
            }
        )
    }
}

/// Remembers nonces for the replay window, bounded.
final class NonceBook: @unchecked Sendable {
    static let capacity = 1_000_000
    private var seen: [String: Date] = [:]
    private let lock = NSLock()

    /// False when the nonce was used within the window.
    func use(_ nonce: String, now: Date) -> Bool {
        lock.withLock {
            if seen.count >= NonceBook.capacity {
                seen = seen.filter { now.timeIntervalSince($0.value) < Double(ProviderSigning.nonceReuseWindowSeconds) }
            }
            if let at = seen[nonce], now.timeIntervalSince(at) < Double(ProviderSigning.nonceReuseWindowSeconds) { return false }
            seen[nonce] = now
            return true
        }
    }
}

/// Errors as providers.md words them: `{"error": code, "message": text}`.
struct FeedError: Error {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    var response: Response {
        var body = "{\"error\":\"\(code)\",\"message\":"
        JSONValue.writeString(message, into: &body)
        body += "}"
        var h = headers
        h[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

public enum FeedServer {
    static let defaultLimit = 500
    static let maxLimit = 1000

    /// The provider routes (`/{provider}/v1/datasets/{dataset}/changes`) and `/_sim/truth`.
    public static func router(index: FeedIndex, settings: FeedServerSettings) -> Router<BasicRequestContext> {
        let router = Router()
        let nonces = NonceBook()
        let faults = Locked(SplitMix64(seed: index.city.seed, Stream.faults.rawValue, 0xFEED))
        router.get("/:provider/v1/datasets/:dataset/changes") { request, context in
            do {
                return try serve(request, context, index: index, settings: settings, nonces: nonces, faults: faults)
            } catch let e as FeedError {
                return e.response
            }
        }
        router.get("/_sim/truth") { request, _ in
            guard let name = request.uri.queryParameters.get("dataset"), let dataset = Dataset(rawValue: name) else {
                return FeedError(status: .badRequest, code: "bad_request", message: "dataset=?").response
            }
            let truth = index.city.truth(dataset, faultRate: index.faultRate)
            let data = try JSONEncoder().encode(truth)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // The hidden outcome of a loan made at the end of the history, per enterprise: only
        // for validating a model built from what the providers publish (CSV: uscc,default).
        router.get("/_sim/outcomes") { _, _ in
            var csv = "uscc,default\n"
            for i in 0..<index.city.enterpriseCount {
                let e = index.city.enterprise(i)
                csv += e.uscc + (e.wouldDefault ? ",1\n" : ",0\n")
            }
            return Response(status: .ok, headers: [.contentType: "text/csv"], body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        return router
    }

    static func serve(
        _ request: Request,
        _ context: BasicRequestContext,
        index: FeedIndex,
        settings: FeedServerSettings,
        nonces: NonceBook,
        faults: Locked<SplitMix64>
    ) throws -> Response {
        guard let provider = ProviderName(rawValue: context.parameters.get("provider") ?? "") else {
            throw FeedError(status: .notFound, code: "unknown_dataset", message: "no such provider")
        }
        try authenticate(request, provider: provider, settings: settings, nonces: nonces)
        guard let dataset = Dataset(rawValue: context.parameters.get("dataset") ?? "") else {
            throw FeedError(status: .notFound, code: "unknown_dataset", message: "no such dataset")
        }
        guard dataset.provider == provider else {
            throw FeedError(status: .forbidden, code: "dataset_not_granted", message: "\(dataset.rawValue) is not granted here")
        }
        let query = request.uri.queryParameters
        var limit = defaultLimit
        if let text = query.get("limit") {
            guard let n = Int(text), (1...maxLimit).contains(n) else {
                throw FeedError(status: .badRequest, code: "bad_request", message: "limit must be 1 to \(maxLimit)")
            }
            limit = n
        }
        let now = settings.cursorNow()
        var position = 0
        if let cursor = query.get("cursor") {
            guard let (d, p, issued) = Cursor.decode(cursor), d == dataset, p <= index.total(dataset) else {
                throw FeedError(status: .badRequest, code: "bad_request", message: "cursor is not one of ours")
            }
            if Int(now.timeIntervalSince1970) - issued > settings.cursorLifetimeSeconds {
                throw FeedError(
                    status: .gone,
                    code: "cursor_expired",
                    message: "cursors live \(settings.cursorLifetimeSeconds / 86_400) days"
                )
            }
            position = p
        }
        // Transport faults, at the configured rate.
        var truncate = false
        if settings.faultRate > 0 {
            let x = faults.withLock { $0.unit() }
            let third = settings.faultRate / 3
            if x < third { throw FeedError(status: .serviceUnavailable, code: "unavailable", message: "try again") }
            if x < 2 * third {
                throw FeedError(status: .tooManyRequests, code: "rate_limited", message: "slow down", headers: [.retryAfter: "1"])
            }
            truncate = x < settings.faultRate
        }
        let (itemsJSON, count) = index.pageJSON(dataset, from: position, limit: limit)
        let next = position + count
        var buffer = ByteBuffer()
        buffer.reserveCapacity(itemsJSON.count + 200)
        buffer.writeString("{\"dataset\":\"\(dataset.rawValue)\",\"items\":[")
        buffer.writeBytes(itemsJSON)
        buffer.writeString(
            "],\"next_cursor\":\"\(Cursor.encode(dataset: dataset, position: next, issued: Int(now.timeIntervalSince1970)))\""
        )
        buffer.writeString(",\"has_more\":\(next < index.total(dataset))}")
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if settings.gzipLevel > 0, request.headers[.acceptEncoding]?.contains("gzip") == true {
            buffer = try buffer.compress(with: .gzip(configuration: .init(compressionLevel: settings.gzipLevel)))
            headers[.contentEncoding] = "gzip"
        }
        headers[.contentLength] = String(buffer.readableBytes)
        if truncate {
            let half = buffer.getSlice(at: buffer.readerIndex, length: buffer.readableBytes / 2)!
            return Response(
                status: .ok,
                headers: headers,
                body: .init { writer in
                    try await writer.write(half)
                    throw FeedError(status: .internalServerError, code: "truncated", message: "connection dropped")
                }
            )
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }

    static func authenticate(_ request: Request, provider: ProviderName, settings: FeedServerSettings, nonces: NonceBook) throws {
        let h = request.headers
        guard let key = h[.init("X-App-Key")!], let ts = h[.init("X-Timestamp")!], let nonce = h[.init("X-Nonce")!],
            let signature = h[.init("X-Signature")!]
        else { throw FeedError(status: .unauthorized, code: "missing_credentials", message: "sign every request") }
        guard let account = settings.credentials[provider], account.key == key else {
            throw FeedError(status: .unauthorized, code: "unknown_app_key", message: "unknown app key")
        }
        let now = settings.now()
        guard let t = Int(ts), abs(Int(now.timeIntervalSince1970) - t) <= ProviderSigning.maxClockSkewSeconds else {
            throw FeedError(status: .unauthorized, code: "stale_timestamp", message: "X-Timestamp is off by more than 300 s")
        }
        guard ProviderSigning.isValidNonce(nonce) else {
            throw FeedError(status: .unauthorized, code: "missing_credentials", message: "X-Nonce must be 16 to 64 letters and digits")
        }
        let query = Cursor.rawQueryPairs(request.uri.query)
        let expected = ProviderSigning.signature(
            secret: account.secret,
            method: request.method.rawValue,
            path: request.uri.path,
            query: query,
            timestamp: ts,
            nonce: nonce
        )
        guard ProviderSigning.equal(expected, signature) else {
            throw FeedError(status: .unauthorized, code: "bad_signature", message: "signature does not match")
        }
        guard nonces.use(nonce, now: now) else {
            throw FeedError(status: .unauthorized, code: "replayed_nonce", message: "nonce used within 900 s")
        }
    }
}

/// Cursor: base64url of `dataset:position:issued`.
enum Cursor {
    static func encode(dataset: Dataset, position: Int, issued: Int) -> String {
        Array("\(dataset.hashValueStable):\(position):\(issued)".utf8).base64URLString
    }

    static func decode(_ text: String) -> (Dataset, Int, Int)? {
        guard
            text.utf8.allSatisfy({
                ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F
            })
        else { return nil }
        var b64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while b64.count % 4 != 0 { b64 += "=" }
        guard let data = Data(base64Encoded: b64), let s = String(data: data, encoding: .utf8) else { return nil }
        let parts = s.split(separator: ":").compactMap { Int($0) }
        guard parts.count == 3, parts[0] >= 1, parts[0] <= Dataset.allCases.count, parts[1] >= 0 else { return nil }
        return (Dataset.allCases[parts[0] - 1], parts[1], parts[2])
    }

    /// The query's name/value pairs, percent-decoded, in order.
    static func rawQueryPairs(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(kv[0]).removingPercentEncoding ?? String(kv[0])
            let value = kv.count > 1 ? (String(kv[1]).removingPercentEncoding ?? String(kv[1])) : ""
            return (name, value)
        }
    }
}
