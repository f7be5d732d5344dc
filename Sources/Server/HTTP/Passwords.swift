import CreditCore
import Foundation
import NIOPosix

/// Password hashing for sign-in and user management, off the event loops and the cooperative
/// pool: each scrypt call takes 128 MiB and a noticeable fraction of a second (N = 2^17), so
/// at most `maxConcurrent` run at once on NIO's blocking thread pool, and past `maxWaiting`
/// waiting a sign-in is answered 503 rather than queued without bound.
public final class Passwords: Sendable {
    public static let maxConcurrent = 2
    public static let maxWaiting = 32
    /// scrypt's log2 N (`XYD_PASSWORD_SCRYPT_LOG_N`); below 17 only for tests and demos.
    public let parameters: PasswordHash.Parameters
    private let state = Locked<(running: Int, waiting: [CheckedContinuation<Void, any Error>])>((0, []))

    public init(logN: Int = PasswordHash.Parameters.current.logN) {
        parameters = PasswordHash.Parameters(logN: logN, r: PasswordHash.Parameters.current.r, p: PasswordHash.Parameters.current.p)
    }

    public struct Busy: Error, CustomStringConvertible {
        public var description: String { "too many sign-ins at once: try again in a few seconds" }
    }

    private func acquire() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let outcome: Bool? = state.withLock { s in
                if s.running < Self.maxConcurrent {
                    s.running += 1
                    return true
                }
                guard s.waiting.count < Self.maxWaiting else { return nil }
                s.waiting.append(c)
                return false
            }
            switch outcome {
            case true?: c.resume()
            case nil: c.resume(throwing: Busy())
            case false?: break
            }
        }
    }

    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            if s.waiting.isEmpty {
                s.running -= 1
                return nil
            }
            return s.waiting.removeFirst()
        }
        next?.resume()
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await NIOThreadPool.singleton.runIfActive(work)
    }

    /// The stored form of a new password.
    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await run { try PasswordHash.make(password, parameters: parameters) }
    }

    /// Whether the password matches the stored hash.
    public func verify(_ password: String, stored: String) async throws -> Bool {
        try await run { try PasswordHash.verify(password, stored: stored) }
    }

    /// A password to give a new user once (they change it at the first sign-in): 20 characters
    /// of an alphabet without look-alikes.
    public static func generate() -> String {
        let alphabet = Array("abcdefghijkmnpqrstuvwxyzACDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        let chars = (0..<20).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }
        return String(chars[0..<5]) + "-" + String(chars[5..<10]) + "-" + String(chars[10..<15]) + "-" + String(chars[15..<20])
    }
}
