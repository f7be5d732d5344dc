import Crypto
import Foundation

/// Protects resident ID numbers at rest: AES-GCM ciphertext for the rare lawful read, a keyed
/// hash (HMAC-SHA256) for look-ups, and the masked form for display. Both keys are derived
/// from one 32-byte master key (HKDF), which comes from configuration and is never stored
/// beside the data.
public struct PersonalDataProtector: Sendable {
    // Kept as bytes (SymmetricKey is not Sendable); a key object is made per use.
    let encryptionKeyBytes: Data
    let hashKeyBytes: Data
    var encryptionKey: SymmetricKey { SymmetricKey(data: encryptionKeyBytes) }
    var hashKey: SymmetricKey { SymmetricKey(data: hashKeyBytes) }

    public struct BadKey: Error, CustomStringConvertible {
        public var description: String { "the data key must be 32 bytes, base64-encoded" }
    }

    public init(masterKey: Data) throws {
        guard masterKey.count == 32 else { throw BadKey() }
        let master = SymmetricKey(data: masterKey)
        let e = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("xyd personal data encryption".utf8), outputByteCount: 32)
        let h = HKDF<SHA256>.deriveKey(inputKeyMaterial: master, info: Data("xyd personal data lookup".utf8), outputByteCount: 32)
        encryptionKeyBytes = e.withUnsafeBytes { Data($0) }
        hashKeyBytes = h.withUnsafeBytes { Data($0) }
    }

    /// From the base64 text of a key file or variable.
    public init(base64: String) throws {
        guard let data = Data(base64Encoded: base64.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw BadKey() }
        try self.init(masterKey: data)
    }

    public static func newKeyBase64() -> String { Data(secureRandomBytes(32)).base64EncodedString() }

    /// Base64 of nonce ‖ ciphertext ‖ tag.
    public func encrypt(_ plaintext: String) throws -> String {
        try AES.GCM.seal(Data(plaintext.utf8), using: encryptionKey).combined!.base64EncodedString()
    }

    public func decrypt(_ sealed: String) throws -> String {
        guard let data = Data(base64Encoded: sealed) else { throw BadKey() }
        let box = try AES.GCM.SealedBox(combined: data)
        return String(decoding: try AES.GCM.open(box, using: encryptionKey), as: UTF8.self)
    }

    /// The look-up hash, lowercase hex.
    public func lookupHash(_ plaintext: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(plaintext.utf8), using: hashKey)).hexString
    }
}
