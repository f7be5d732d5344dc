import CreditCore
import Foundation
import Hummingbird

/// A token bucket per client address for the routes anyone may call: `burst` requests at
/// once, refilled at `perMinute`; at most `maxAddresses` tracked (the least recently seen
/// forgotten first).
public final class RateLimiter: Sendable {
    public static let publicPerMinute = 60
    public static let publicBurst = 20
    public static let maxAddresses = 10_000

    let perMinute: Int
    let burst: Int
    struct Bucket {
        var tokens: Double
        var at: Double
    }
    let buckets = Locked<[String: Bucket]>([:])

    public init(perMinute: Int = publicPerMinute, burst: Int = publicBurst) {
        precondition(perMinute > 0 && burst > 0)
        self.perMinute = perMinute
        self.burst = burst
    }

    /// Refuses the call with 429 and `Retry-After` when its address has no request left; the
    /// message names this limiter's own rate.
    func check(_ call: Call) throws {
        if let wait = take(call.context.clientAddress ?? "unknown") {
            throw Problem(
                .tooManyRequests,
                "at most \(perMinute) requests a minute from one address (a burst of \(burst))",
                headers: [.retryAfter: String(wait)]
            )
        }
    }

    /// Nil when a request would be allowed now (nothing is taken); otherwise the seconds to wait.
    public func pending(_ address: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { b in
            guard let bucket = b[address] else { return nil }
            let tokens = min(Double(burst), bucket.tokens + (now - bucket.at) * Double(perMinute) / 60)
            return tokens >= 1 ? nil : Int(((1 - tokens) * 60 / Double(perMinute)).rounded(.up))
        }
    }

    /// Nil when allowed; otherwise the seconds to wait.
    public func take(_ address: String, now: Double = Date().timeIntervalSince1970) -> Int? {
        buckets.withLock { b in
            if b[address] == nil, b.count >= Self.maxAddresses {
                // Forget the tenth least recently seen.
                for (k, _) in b.sorted(by: { $0.value.at < $1.value.at }).prefix(Self.maxAddresses / 10) { b[k] = nil }
            }
            var bucket = b[address] ?? Bucket(tokens: Double(burst), at: now)
            bucket.tokens = min(Double(burst), bucket.tokens + (now - bucket.at) * Double(perMinute) / 60)
            bucket.at = now
            defer { b[address] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return Int(((1 - bucket.tokens) * 60 / Double(perMinute)).rounded(.up))
        }
    }
}
