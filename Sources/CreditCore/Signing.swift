import Crypto
import Foundation

/// Request signing of `providers.md`: HMAC-SHA256 over
/// `METHOD \n PATH \n CANONICAL_QUERY \n TIMESTAMP \n NONCE`, lowercase hex.
public enum ProviderSigning {
    public static let nonceAlphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
    public static let nonceLength = 32
    public static let maxClockSkewSeconds = 300
    public static let nonceReuseWindowSeconds = 900

    /// RFC 3986 percent-encoding: unreserved `A-Z a-z 0-9 - . _ ~` as is, every other byte as `%XX`.
    public static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case 0x41...0x5A, 0x61...0x7A, 0x30...0x39, 0x2D, 0x2E, 0x5F, 0x7E:
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(b & 0x0F)]))
            }
        }
        return out
    }

    /// Parameters sorted by name (byte order), each `name=value` percent-encoded, joined by `&`.
    public static func canonicalQuery(_ parameters: [(String, String)]) -> String {
        parameters
            .map { (percentEncode($0.0), percentEncode($0.1)) }
            .sorted { a, b in a.0.utf8.lexicographicallyPrecedes(b.0.utf8) || (a.0 == b.0 && a.1.utf8.lexicographicallyPrecedes(b.1.utf8)) }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    public static func stringToSign(method: String, path: String, query: [(String, String)], timestamp: String, nonce: String) -> String {
        "\(method)\n\(path)\n\(canonicalQuery(query))\n\(timestamp)\n\(nonce)"
    }

    public static func signature(
        secret: String,
        method: String,
        path: String,
        query: [(String, String)],
        timestamp: String,
        nonce: String
    ) -> String {
        let message = stringToSign(method: method, path: path, query: query, timestamp: timestamp, nonce: nonce)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Data(mac).hexString
    }

    public static func makeNonce() -> String {
        let bytes = secureRandomBytes(nonceLength)
        return String(decoding: bytes.map { nonceAlphabet[Int($0) % nonceAlphabet.count] }, as: UTF8.self)
    }

    public static func isValidNonce(_ s: String) -> Bool {
        (16...64).contains(s.utf8.count) && s.utf8.allSatisfy { nonceAlphabet.contains($0) }
    }

    /// Constant-time comparison of two signatures.
    public static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var diff: UInt8 = 0
        for i in 0..<x.count { diff |= x[i] ^ y[i] }
        return diff == 0
    }
}
