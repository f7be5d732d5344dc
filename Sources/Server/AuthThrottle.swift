import Foundation
import Hummingbird
import Store

/// Failed authentications — bad bearer keys and refused sign-ins — counted per client address
/// and per presented key prefix (its first 12 characters, as shown in key lists: never the
/// secret). Past the budget the next attempt is answered 429 with `Retry-After` before the key is
/// even looked up, so keys cannot be guessed at speed from one address or spread over many.
final class AuthThrottle: Sendable {
    /// Failures allowed at once, then refilled at this many a minute (`XYD_AUTH_FAILURE_BURST`,
    /// `XYD_AUTH_FAILURES_PER_MINUTE`).
    static let defaultBurst = 20
    static let defaultPerMinute = 10
    static let prefixLength = 12

    let byAddress: RateLimiter
    let byPrefix: RateLimiter

    init(burst: Int = defaultBurst, perMinute: Int = defaultPerMinute) {
        byAddress = RateLimiter(perMinute: perMinute, burst: burst)
        byPrefix = RateLimiter(perMinute: perMinute, burst: burst)
    }

    static func prefix(_ key: String) -> String { "key:" + String(key.prefix(prefixLength)) }

    /// 429 when this address or this key prefix has used its failures up.
    func check(address: String?, key: String?) throws {
        let waits = [byAddress.pending(address ?? "unknown"), key.flatMap { byPrefix.pending(Self.prefix($0)) }].compactMap { $0 }
        if let wait = waits.max() {
            throw Problem(.tooManyRequests, "too many failed sign-ins or unknown keys; try again in \(wait) s", headers: [.retryAfter: String(wait)])
        }
    }

    /// Counts one failure against the address and the key prefix.
    func failed(address: String?, key: String?) {
        _ = byAddress.take(address ?? "unknown")
        if let key { _ = byPrefix.take(Self.prefix(key)) }
    }
}
