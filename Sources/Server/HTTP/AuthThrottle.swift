import CreditCore
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
    /// Sign-ins under way per address (each hashes a password): at most `maxInFlightPerAddress`.
    let inFlight = Locked<[String: Int]>([:])
    static let maxInFlightPerAddress = 4

    init(burst: Int = defaultBurst, perMinute: Int = defaultPerMinute) {
        byAddress = RateLimiter(perMinute: perMinute, burst: burst)
        byPrefix = RateLimiter(perMinute: perMinute, burst: burst)
    }

    static func prefix(_ key: String) -> String { "key:" + String(key.prefix(prefixLength)) }

    /// 429 before any look-up when this address has used its failures up. (A key prefix is
    /// checked only after its key failed: key prefixes are not secret, so a prefix's budget must
    /// never refuse the genuine key.)
    func check(address: String?) throws {
        if let wait = byAddress.pending(address ?? "unknown") { throw Self.refusal(wait) }
    }

    /// Counts one failure against the address and the key prefix; once the prefix's budget is
    /// spent the answer to its failed keys is 429 rather than 401 (guesses at one key slow down
    /// from any number of addresses).
    /// A refused sign-in counts against its login the same way (guesses at one person's password
    /// slow down from any number of addresses; the user's own lock-out stops them after 5).
    func failed(address: String?, key: String?, login: String? = nil) -> Problem? {
        _ = byAddress.take(address ?? "unknown")
        if let login { return byPrefix.take("login:" + login).map(Self.refusal) }
        guard let key else { return nil }
        return byPrefix.take(Self.prefix(key)).map(Self.refusal)
    }

    /// One more sign-in under way from this address, or 429 when it has `maxInFlightPerAddress`
    /// already: failures are counted only once answered, so without this a burst sent at once
    /// would all be heard.
    func enter(address: String?) throws {
        let key = address ?? "unknown"
        let admitted = inFlight.withLock { m -> Bool in
            guard m[key, default: 0] < Self.maxInFlightPerAddress else { return false }
            m[key, default: 0] += 1
            return true
        }
        if !admitted { throw Self.refusal(2) }
    }

    func leave(address: String?) {
        let key = address ?? "unknown"
        inFlight.withLock { m in
            let n = m[key, default: 1] - 1
            m[key] = n > 0 ? n : nil
        }
    }

    static func refusal(_ wait: Int) -> Problem {
        Problem(.tooManyRequests, "too many failed sign-ins or unknown keys; try again in \(wait) s", headers: [.retryAfter: String(wait)])
    }
}
