import Crypto
import Foundation

/// The JSON Canonicalization Scheme (RFC 8785) for the values this service signs: object
/// members sorted by their names' UTF-16 code units, no whitespace, strings escaped only where
/// JSON requires it (`"`, `\`, control characters: the short forms \b \t \n \f \r, otherwise
/// \u00xx in lower case), numbers in their shortest form. Signed documents hold integers only
/// (money in fen, counts, basis points), which keeps number formatting exact: a number that is
/// not an integer within ±2^53 is refused rather than approximated.
public enum CanonicalJSON {
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    public static func encode(_ value: JSONValue) throws -> String {
        var out = ""
        try write(value, into: &out)
        return out
    }

    static let maxSafeInteger: Int64 = 9_007_199_254_740_991

    static func write(_ value: JSONValue, into out: inout String) throws {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let text):
            guard let n = Int64(text), abs(n) <= maxSafeInteger else {
                throw Unsupported(description: "number \(text) is not an integer within ±2^53")
            }
            out += String(n)
        case .string(let s): writeString(s, into: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                try write(item, into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            let sorted = o.pairs.sorted { $0.key.utf16.lexicographicallyPrecedes($1.key.utf16) }
            for (i, pair) in sorted.enumerated() {
                if i > 0 {
                    guard pair.key != sorted[i - 1].key else { throw Unsupported(description: "duplicate member \(pair.key)") }
                    out += ","
                }
                writeString(pair.key, into: &out)
                out += ":"
                try write(pair.value, into: &out)
            }
            out += "}"
        }
    }

    static func writeString(_ s: String, into out: inout String) { JSONValue.writeString(s, into: &out) }
}

/// Ed25519 signatures over canonical JSON: the service signs credit reports with its private
/// key; anyone with the public key checks them.
public struct ReportSigner: Sendable {
    /// The private key's 32 bytes (the key type itself is not Sendable).
    let raw: Data
    var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: raw) }

    public struct InvalidKey: Error, CustomStringConvertible {
        public let description: String
    }

    /// From the base64 of the 32-byte private key (the file `ops/` creates).
    public init(base64: String) throws {
        guard let raw = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)), raw.count == 32 else {
            throw InvalidKey(description: "the signing key must be the base64 of 32 bytes")
        }
        _ = try Curve25519.Signing.PrivateKey(rawRepresentation: raw)
        self.raw = raw
    }

    public init(key: Curve25519.Signing.PrivateKey) { raw = key.rawRepresentation }

    public var publicKeyBase64: String { key.publicKey.rawRepresentation.base64EncodedString() }
    /// A short stable name of the public key: the first 16 hex digits of its SHA-256.
    public var keyId: String { ReportSigner.keyId(key.publicKey.rawRepresentation) }

    public static func keyId(_ publicKey: Data) -> String {
        SHA256.hash(data: publicKey).prefix(8).map { String(format: "%02x", $0) }.joined()
    }

    public func sign(_ canonical: String) throws -> String {
        try key.signature(for: Data(canonical.utf8)).base64EncodedString()
    }

    /// Checks a signature (base64) over canonical text with a public key (base64 of 32 bytes).
    public static func verify(canonical: String, signature: String, publicKeyBase64: String) -> Bool {
        guard let raw = Data(base64Encoded: publicKeyBase64), let pk = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            let sig = Data(base64Encoded: signature)
        else { return false }
        return pk.isValidSignature(sig, for: Data(canonical.utf8))
    }

    /// Checks a signed report document: `{"report": {…}, "signature": {"alg": "Ed25519", "key_id": …, "value": …}}`.
    /// The report member is canonicalised again, so any change to its content fails.
    public static func verifyDocument(_ bytes: [UInt8], publicKeyBase64: String) -> (valid: Bool, reason: String) {
        guard let doc = try? JSONParser.parse(bytes) else { return (false, "not JSON") }
        guard let report = doc["report"], case .object = report else { return (false, "no report member") }
        guard let sig = doc["signature"]?["value"]?.stringValue else { return (false, "no signature.value") }
        guard doc["signature"]?["alg"]?.stringValue == "Ed25519" else { return (false, "signature.alg is not Ed25519") }
        guard let canonical = try? CanonicalJSON.encode(report) else { return (false, "the report holds a value outside canonical JSON") }
        return verify(canonical: canonical, signature: sig, publicKeyBase64: publicKeyBase64)
            ? (true, "the signature matches the report") : (false, "the signature does not match the report")
    }
}
