import ArgumentParser
import CreditCore
import Crypto
import Foundation
import _CryptoExtras

/// `ops/bench password`: what one sign-in's password check costs — scrypt at the production
/// parameters (N = 2^17, r = 8, p = 1: 128 MiB) and at the demo's 2^15 — against PBKDF2-HMAC-SHA256
/// at OWASP's 600,000 rounds (the iterated alternative the same library offers), in the same run.
struct PasswordBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password-bench",
        abstract: "Benchmark: one password hash with scrypt (2^17 and 2^15) against PBKDF2-SHA256 at 600,000 rounds (prints figures)."
    )
    @Option(help: "Hashes per kind (the median is printed).") var rounds = 5

    static let pbkdf2Rounds = 600_000

    func run() async throws {
        guard rounds > 0 else { throw ValidationError("rounds must be positive") }
        let clock = ContinuousClock()
        let password = "correct horse battery staple"
        let salt = Array("sixteen byte slt".utf8)
        func ms(_ d: Duration) -> Double {
            let (s, a) = d.components
            return Double(s) * 1e3 + Double(a) / 1e15
        }
        var scrypt17: [Double] = []
        var scrypt15: [Double] = []
        var pbkdf2: [Double] = []
        for r in 1...rounds {
            scrypt17.append(ms(try clock.measure { _ = try PasswordHash.make(password, parameters: .current) }))
            scrypt15.append(ms(try clock.measure { _ = try PasswordHash.make(password, parameters: .init(logN: 15, r: 8, p: 1)) }))
            pbkdf2.append(
                ms(
                    try clock.measure {
                        _ = try KDF.Insecure.PBKDF2.deriveKey(
                            from: Array(password.utf8),
                            salt: salt,
                            using: .sha256,
                            outputByteCount: 32,
                            rounds: Self.pbkdf2Rounds
                        )
                    }
                )
            )
            print(
                String(
                    format: "round %d: scrypt 2^17 %.0f ms, scrypt 2^15 %.0f ms, PBKDF2-SHA256 600k %.0f ms",
                    r,
                    scrypt17.last!,
                    scrypt15.last!,
                    pbkdf2.last!
                )
            )
        }
        func median(_ xs: [Double]) -> Double { xs.sorted()[xs.count / 2] }
        let (a, b, c) = (median(scrypt17), median(scrypt15), median(pbkdf2))
        print(
            String(
                format:
                    "median of %d: scrypt 2^17 (128 MiB) %.0f ms, scrypt 2^15 (32 MiB) %.0f ms, PBKDF2-SHA256 600,000 rounds %.0f ms; scrypt 2^17 / PBKDF2 %.2fx",
                rounds,
                a,
                b,
                c,
                a / c
            )
        )
    }
}
