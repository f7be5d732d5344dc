import Crypto
import Foundation
import _CryptoExtras

/// How people prove who they are (issue 22): a password stored as a scrypt hash, and a TOTP
/// code (RFC 6238) as the second factor. Pure: the clock is given.
///
/// scrypt (RFC 7914, from swift-crypto's `_CryptoExtras`, i.e. BoringSSL) is memory-hard: each
/// guess costs 128 MiB as well as time, which is what makes graphics cards and custom hardware
/// poor at cracking a stolen table — PBKDF2, the other maintained choice there, is only
/// iterated. The parameters are OWASP's for scrypt (N = 2^17, r = 8, p = 1) and are stored with
/// each hash, so they can be raised later without locking anyone out (`needsRehash`).
public enum PasswordHash {
    public struct Parameters: Sendable, Equatable {
        /// log2 of scrypt's N (the cost in memory and time).
        public var logN: Int
        public var r: Int
        public var p: Int
        public init(logN: Int, r: Int, p: Int) {
            self.logN = logN
            self.r = r
            self.p = p
        }
        /// 128 × N × r bytes: 128 MiB.
        public static let current = Parameters(logN: 17, r: 8, p: 1)
        /// Memory one hash needs, in bytes.
        public var memoryBytes: Int { 128 * (1 << logN) * r * p + 128 * r * p }
    }

    static let saltBytes = 16
    static let hashBytes = 32
    /// The most a stored hash may ask for (a tampered row must not make us allocate gigabytes).
    static let maxLogN = 20

    /// `scrypt$17$8$1$<salt>$<hash>` (base64url).
    public static func make(_ password: String, parameters: Parameters = .current) throws -> String {
        let salt = secureRandomBytes(saltBytes)
        let derived = try derive(password, salt: salt, parameters)
        return "scrypt$\(parameters.logN)$\(parameters.r)$\(parameters.p)$\(Data(salt).base64URLString)$\(derived.base64URLString)"
    }

    /// Whether `password` is the one `stored` was made from (compared in constant time).
    public static func verify(_ password: String, stored: String) throws -> Bool {
        guard let (parameters, salt, expected) = parse(stored) else { return false }
        let derived = try derive(password, salt: salt, parameters)
        guard derived.count == expected.count else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(derived, expected) { diff |= a ^ b }
        return diff == 0
    }

    /// A stored hash made with weaker parameters than today's (rehash at the next sign-in).
    public static func needsRehash(_ stored: String) -> Bool {
        guard let (p, _, _) = parse(stored) else { return true }
        return p != .current
    }

    static func parse(_ stored: String) -> (Parameters, [UInt8], [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let logN = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
            (10...maxLogN).contains(logN), (1...16).contains(r), (1...4).contains(p),
            let salt = Data(base64URLEncoded: String(parts[4])), let hash = Data(base64URLEncoded: String(parts[5])),
            salt.count == saltBytes, hash.count == hashBytes
        else { return nil }
        return (Parameters(logN: logN, r: r, p: p), Array(salt), Array(hash))
    }

    static func derive(_ password: String, salt: [UInt8], _ p: Parameters) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: Array(password.utf8),
            salt: salt,
            outputByteCount: hashBytes,
            rounds: 1 << p.logN,
            blockSize: p.r,
            parallelism: p.p,
            maxMemory: p.memoryBytes + 1024 * 1024
        )
        return key.withUnsafeBytes { Array($0) }
    }
}

/// What a password must be: long rather than clever (NIST SP 800-63B): 12 to 128 characters,
/// not the login, not one character repeated, no control characters.
public enum PasswordPolicy {
    public static let minCharacters = 12
    public static let maxCharacters = 128

    /// Why `password` is refused, or nil.
    public static func problem(_ password: String, login: String) -> String? {
        if password.count < minCharacters { return "a password has at least \(minCharacters) characters" }
        if password.count > maxCharacters { return "a password has at most \(maxCharacters) characters" }
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            return "a password may not contain control characters"
        }
        if Set(password).count < 4 { return "a password needs at least 4 different characters" }
        if password.lowercased().contains(login.lowercased()) { return "a password may not contain the login" }
        return nil
    }
}

/// Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1, 30-second steps,
/// 6 digits — what every authenticator app reads from an `otpauth://` link.
public enum TOTP {
    public static let stepSeconds: Int64 = 30
    public static let digits = 6
    /// Steps either side of now a code is still taken in (clock drift, a code typed slowly).
    public static let window: Int64 = 1
    public static let secretBytes = 20

    public static func newSecret() -> [UInt8] { secureRandomBytes(secretBytes) }

    public static func step(at date: Date) -> Int64 { Int64(date.timeIntervalSince1970.rounded(.down)) / stepSeconds }

    /// The code of one step (RFC 4226 §5.3 dynamic truncation), `digits` long.
    public static func code(secret: [UInt8], step: Int64, digits: Int = digits) -> String {
        var counter = UInt64(bitPattern: step).bigEndian
        let message = withUnsafeBytes(of: &counter) { Array($0) }
        let mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: secret)))
        let offset = Int(mac[mac.count - 1] & 0x0f)
        let value =
            (UInt32(mac[offset] & 0x7f) << 24) | (UInt32(mac[offset + 1]) << 16) | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let text = String(value % modulus)
        return String(repeating: "0", count: digits - text.count) + text
    }

    /// The step a code matches within the window around `date`, later than `after` (a code once
    /// used is not taken again: replay), or nil.
    public static func verify(_ code: String, secret: [UInt8], at date: Date, after used: Int64?) -> Int64? {
        let code = code.filter { !$0.isWhitespace }
        guard code.count == digits, code.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        let now = step(at: date)
        var found: Int64?
        // Every step of the window is computed (no early return: the time taken tells nothing).
        for s in (now - window)...(now + window) {
            let expected = TOTP.code(secret: secret, step: s)
            var diff: UInt8 = 0
            for (a, b) in zip(expected.utf8, code.utf8) { diff |= a ^ b }
            if diff == 0, found == nil, s > (used ?? Int64.min) { found = s }
        }
        return found
    }

    /// The link an authenticator app reads (as a QR code or pasted).
    public static func uri(secret: [UInt8], login: String, issuer: String = "Xinyidai") -> String {
        let allowed = CharacterSet.alphanumerics.union(.init(charactersIn: "-._"))
        let label = (issuer + ":" + login).addingPercentEncoding(withAllowedCharacters: allowed.union(.init(charactersIn: ":"))) ?? login
        let iss = issuer.addingPercentEncoding(withAllowedCharacters: allowed) ?? issuer
        return "otpauth://totp/\(label)?secret=\(Base32.encode(secret))&issuer=\(iss)&algorithm=SHA1&digits=\(digits)&period=\(stepSeconds)"
    }
}

/// RFC 4648 base32 without padding (how authenticator apps take a TOTP secret).
public enum Base32 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.uppercased().utf8 where c != UInt8(ascii: "=") && c != UInt8(ascii: " ") {
            guard let v = alphabet.firstIndex(of: c) else { return nil }
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8((buffer >> UInt32(bits - 8)) & 0xff))
                bits -= 8
            }
        }
        return out
    }
}

/// Logins: 3 to 40 of lower-case letters, digits, `.`, `_`, `-`, starting with a letter or digit.
public enum Login {
    public static let maxCharacters = 40

    public static func problem(_ login: String) -> String? {
        guard (3...maxCharacters).contains(login.count) else { return "a login has 3 to \(maxCharacters) characters" }
        guard login.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-") }),
            let first = login.first, first.isLetter || first.isNumber
        else { return "a login is lower-case letters, digits, '.', '_' and '-', starting with a letter or digit" }
        return nil
    }
}
