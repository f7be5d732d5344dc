import Foundation
import Testing

@testable import CreditCore

@Suite struct CredentialsTests {
    /// RFC 6238 appendix B, SHA-1, secret "12345678901234567890": the 8-digit codes, and the
    /// 6-digit codes an authenticator shows (their last six digits).
    @Test func totpMatchesRFC6238() {
        let secret = Array("12345678901234567890".utf8)
        let vectors: [(Int64, String)] = [
            (59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130"),
        ]
        for (time, expected) in vectors {
            let step = TOTP.step(at: Date(timeIntervalSince1970: TimeInterval(time)))
            #expect(TOTP.code(secret: secret, step: step, digits: 8) == expected)
            #expect(TOTP.code(secret: secret, step: step) == String(expected.suffix(6)))
        }
    }

    @Test func totpTakesTheWindowOnceAndRefusesReplay() {
        let secret = TOTP.newSecret()
        let now = Date(timeIntervalSince1970: 1_800_000_015)
        let step = TOTP.step(at: now)
        let code = TOTP.code(secret: secret, step: step)
        #expect(TOTP.verify(code, secret: secret, at: now, after: nil) == step)
        #expect(TOTP.verify(String(code.prefix(3)) + " " + String(code.suffix(3)), secret: secret, at: now, after: nil) == step)
        // Used once: not again.
        #expect(TOTP.verify(code, secret: secret, at: now, after: step) == nil)
        // The previous and next steps are taken; two away are not.
        #expect(TOTP.verify(TOTP.code(secret: secret, step: step - 1), secret: secret, at: now, after: nil) == step - 1)
        #expect(TOTP.verify(TOTP.code(secret: secret, step: step + 1), secret: secret, at: now, after: nil) == step + 1)
        #expect(TOTP.verify(TOTP.code(secret: secret, step: step - 2), secret: secret, at: now, after: nil) == nil)
        #expect(TOTP.verify(TOTP.code(secret: secret, step: step + 2), secret: secret, at: now, after: nil) == nil)
        // An earlier step of the window is not taken once a later one was used.
        #expect(TOTP.verify(TOTP.code(secret: secret, step: step - 1), secret: secret, at: now, after: step) == nil)
        for bad in ["", "12345", "1234567", "abcdef", "１２３４５６"] {
            #expect(TOTP.verify(bad, secret: secret, at: now, after: nil) == nil)
        }
    }

    /// RFC 4648 §10 test vectors, and the link an authenticator app reads.
    @Test func base32AndTheAuthenticatorLink() {
        let vectors = ["": "", "f": "MY", "fo": "MZXQ", "foo": "MZXW6", "foob": "MZXW6YQ", "fooba": "MZXW6YTB", "foobar": "MZXW6YTBOI"]
        for (plain, encoded) in vectors {
            #expect(Base32.encode(Array(plain.utf8)) == encoded)
            #expect(Base32.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base32.decode("MZ1") == nil)
        let uri = TOTP.uri(secret: Array("12345678901234567890".utf8), login: "li.na")
        #expect(
            uri == "otpauth://totp/Xinyidai:li.na?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Xinyidai&algorithm=SHA1&digits=6&period=30"
        )
    }

    /// RFC 7914 §12's second vector (N = 1024, r = 8, p = 16), the first 32 bytes of it.
    @Test func scryptMatchesRFC7914() throws {
        let derived = try PasswordHash.derive("password", salt: Array("NaCl".utf8), .init(logN: 10, r: 8, p: 16))
        #expect(derived.hexString == "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162")
    }

    /// The stored form, with parameters cheap enough for a test; today's parameters once.
    @Test func scryptHashesVerifyAndCarryTheirParameters() throws {
        let cheap = PasswordHash.Parameters(logN: 10, r: 8, p: 1)
        let stored = try PasswordHash.make("correct horse battery", parameters: cheap)
        #expect(stored.hasPrefix("scrypt$10$8$1$"))
        #expect(try PasswordHash.verify("correct horse battery", stored: stored))
        #expect(try !PasswordHash.verify("correct horse batterY", stored: stored))
        #expect(PasswordHash.needsRehash(stored))
        // Two hashes of one password differ (salted).
        #expect(try PasswordHash.make("correct horse battery", parameters: cheap) != stored)
        // Tampered or foreign forms are refused, not trusted: a cost past the bound too.
        for bad in ["", "bcrypt$x", "scrypt$30$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + String(repeating: "A", count: 43), stored + "x"] {
            #expect(try !PasswordHash.verify("correct horse battery", stored: bad))
        }
        let current = try PasswordHash.make("correct horse battery")
        #expect(!PasswordHash.needsRehash(current))
        #expect(try PasswordHash.verify("correct horse battery", stored: current))
    }

    @Test func passwordsAndLoginsHaveRules() {
        #expect(PasswordPolicy.problem("short", login: "li.na") != nil)
        #expect(PasswordPolicy.problem("aaaaaaaaaaaaaaaa", login: "li.na") != nil)
        #expect(PasswordPolicy.problem("my-li.na-password", login: "li.na") != nil)
        #expect(PasswordPolicy.problem("tab\there-is-bad1", login: "li.na") != nil)
        #expect(PasswordPolicy.problem(String(repeating: "ab1-", count: 33), login: "li.na") != nil)
        #expect(PasswordPolicy.problem("river-stone-lamp-42", login: "li.na") == nil)
        #expect(Login.problem("li.na") == nil)
        for bad in ["li", "Li.na", ".lina", "li na", "李娜", String(repeating: "a", count: 41)] {
            #expect(Login.problem(bad) != nil)
        }
    }
}
