import CreditCore
import Crypto
import Foundation
import Logging

/// The audit key: a secret held outside the database (`XYD_AUDIT_KEY_FILE`, made by `ops/`),
/// without which nobody who can write the database's tables — a superuser included — can
/// forge an audit row or recompute the chain:
/// - every audit row carries a code (`mac`, HMAC-SHA256) over what it records (when, request,
///   actor, action, route, subject, purpose), written with the row by the service;
/// - every seal is `HMAC(key, previous hash ‖ canonical row ‖ verdict)`;
/// - the sealer writes the chain's head to an anchor file outside the database every so often,
///   each line with its own code, so that a chain cut back or wiped is found against it.
/// Set once when a process starts (`configure`); tests set a key of their own.
public enum AuditKey {
    /// The key's bytes (a `SymmetricKey` is made from them when used).
    static let current = Locked<Data?>(nil)

    public struct Missing: Error, CustomStringConvertible {
        public var description: String {
            "no audit key is configured: set XYD_AUDIT_KEY_FILE to the file of the base64 32-byte audit key (ops/ creates .data/keys/audit.key)"
        }
    }

    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
    }

    /// Sets the process's audit key (32 bytes).
    public static func configure(_ key: Data) {
        precondition(key.count == 32, "the audit key is 32 bytes")
        current.withLock { $0 = key }
    }

    static func require() throws -> SymmetricKey {
        guard let key = current.withLock({ $0 }) else { throw Missing() }
        return SymmetricKey(data: key)
    }

    /// The key from `XYD_AUDIT_KEY` (base64) or the file `XYD_AUDIT_KEY_FILE` names.
    public static func load(environment: [String: String]) throws -> Data {
        var text = environment["XYD_AUDIT_KEY"]
        if text == nil, let path = environment["XYD_AUDIT_KEY_FILE"] {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw Invalid(description: "XYD_AUDIT_KEY_FILE is '\(path)': expected a readable file holding a base64 32-byte key")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        guard let text else { throw Missing() }
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32 else {
            throw Invalid(description: "the audit key (XYD_AUDIT_KEY or XYD_AUDIT_KEY_FILE) must be 32 bytes, base64")
        }
        return bytes
    }

    static func mac(_ message: Data) throws -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: message, using: try require()))
    }

    static func verify(_ code: Data, _ message: Data) throws -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(code, authenticating: message, using: try require())
    }
}

extension Audit {
    /// A moment as the audit log stores it: whole microseconds since 1970.
    static func micros(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1_000_000).rounded()) }

    /// What a row's code covers, in an unambiguous form (each field length-prefixed, absent ones `-`).
    static func rowMessage(
        occurredMicros: Int64,
        requestId: String?,
        actorOrgId: UUID?,
        actorKeyId: UUID?,
        actorUserId: UUID? = nil,
        actorKind: String,
        action: String,
        route: String?,
        subjectUSCC: String?,
        subjectId: String?,
        purpose: String?
    ) -> Data {
        var fields: [String?] = [
            String(occurredMicros), requestId, actorOrgId?.uuidString.lowercased(), actorKeyId?.uuidString.lowercased(), actorKind, action,
            route, subjectUSCC, subjectId, purpose,
        ]
        // A row naming a user (issue 22) covers the user too; rows before users keep v1.
        if let actorUserId { fields.append(actorUserId.uuidString.lowercased()) }
        var text = actorUserId == nil ? "xyd-audit-row-v1" : "xyd-audit-row-v2"
        for f in fields { text += f.map { "|\($0.utf8.count):\($0)" } ?? "|-" }
        return Data(text.utf8)
    }

    /// Random bytes that start each row's code: two rows recording the same thing at the same
    /// microsecond (reads batched in one statement) still get codes of their own.
    static let nonceBytes = 16

    /// The code an audit row is written with: a fresh nonce, then HMAC(key, nonce ‖ what it records).
    static func rowCode(_ e: AuditEntry, occurredMicros: Int64) throws -> Data {
        let nonce = Data(secureRandomBytes(nonceBytes))
        let message = rowMessage(
            occurredMicros: occurredMicros,
            requestId: e.requestId,
            actorOrgId: e.actorOrgId,
            actorKeyId: e.actorKeyId,
            actorUserId: e.actorUserId,
            actorKind: e.actorKind,
            action: e.action,
            route: e.route,
            subjectUSCC: e.subjectUSCC,
            subjectId: e.subjectId,
            purpose: e.purpose
        )
        return nonce + (try AuditKey.mac(nonce + message))
    }

    /// Whether `code` is a row code over `message` made with the audit key.
    static func rowCodeVerifies(_ code: Data, _ message: Data) throws -> Bool {
        guard code.count == nonceBytes + 32 else { return false }
        return try AuditKey.verify(code.suffix(32), code.prefix(nonceBytes) + message)
    }

    /// A seal: the previous hash, the row as PostgreSQL prints it, and whether its code verified.
    static func sealHash(previous: Data, canonical: String, genuine: Bool) throws -> Data {
        var message = previous
        message.append(Data(canonical.utf8))
        message.append(genuine ? 1 : 0)
        return try AuditKey.mac(message)
    }
}

/// The anchor file: the chain's head written outside the database, one JSON line each time
/// (`{"database", "chain_seq", "hash", "at", "mac"}`, the code over the other four), so that a
/// chain cut back or wiped and restarted is found: the database must still hold the anchored
/// seal. One file may serve several databases (a test run's, a demo's): each checks its own lines.
public struct AuditAnchors: Sendable {
    public let path: String
    /// Lines kept when the file is trimmed (it is rewritten keeping the newest).
    public static let maxLines = 10_000
    public static let keptLines = 1_000

    public init(path: String) { self.path = path }

    public struct Anchor: Sendable, Equatable {
        public let database: String
        public let chainSeq: Int64
        public let hash: Data
        public let at: String
    }

    static func message(_ database: String, _ seq: Int64, _ hash: Data, _ at: String) -> Data {
        Data("xyd-audit-anchor-v2|\(database.utf8.count):\(database)|\(seq)|\(hex(hash))|\(at)".utf8)
    }

    /// Appends the head of `database`'s chain (and makes it durable before returning).
    public func append(database: String, chainSeq: Int64, hash: Data, at: Date = Date()) throws {
        let stamp = ISO8601DateFormatter().string(from: at)
        let code = try AuditKey.mac(Self.message(database, chainSeq, hash, stamp))
        let name = String(decoding: try JSONEncoder().encode(database), as: UTF8.self)  // a JSON string
        let line =
            "{\"database\":\(name),\"chain_seq\":\(chainSeq),\"hash\":\"\(hex(hash))\",\"at\":\"\(stamp)\",\"mac\":\"\(hex(code))\"}\n"
        let url = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: path),
            !FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600])
        {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(line.utf8))
        try handle.synchronize()
        try trimIfLong()
    }

    func trimIfLong() throws {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return }
        let lines = text.split(separator: "\n")
        guard lines.count > Self.maxLines else { return }
        let kept = lines.suffix(Self.keptLines).joined(separator: "\n") + "\n"
        let temporary = path + ".tmp"
        _ = FileManager.default.createFile(atPath: temporary, contents: Data(kept.utf8), attributes: [.posixPermissions: 0o600])
        _ = try FileManager.default.replaceItemAt(URL(fileURLWithPath: path), withItemAt: URL(fileURLWithPath: temporary))
    }

    public struct Forged: Error, CustomStringConvertible {
        public let line: Int
        public var description: String { "anchor line \(line) does not verify with the audit key (the anchor file was altered)" }
    }

    /// The newest anchor of `database` whose code verifies; any line that does not verify is an
    /// error (the file was altered). Nil when there is no file or no line for it yet.
    public func latest(database: String) throws -> Anchor? {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return nil }
        var best: Anchor?
        for (n, line) in text.split(separator: "\n").enumerated() where !line.isEmpty {
            guard case .object(let o)? = try? JSONParser.parse(Array(line.utf8)), let name = o["database"]?.stringValue,
                let seqText = o["chain_seq"].flatMap({ v -> String? in if case .number(let n) = v { return n } else { return nil } }),
                let seq = Int64(seqText), let hashHex = o["hash"]?.stringValue, let at = o["at"]?.stringValue,
                let macHex = o["mac"]?.stringValue, let hash = unhex(hashHex), let code = unhex(macHex),
                try AuditKey.verify(code, Self.message(name, seq, hash, at))
            else { throw Forged(line: n + 1) }
            guard name == database else { continue }
            if best == nil || seq >= best!.chainSeq { best = Anchor(database: name, chainSeq: seq, hash: hash, at: at) }
        }
        return best
    }
}

func hex(_ d: Data) -> String { d.map { String(format: "%02x", $0) }.joined() }

func unhex(_ s: String) -> Data? {
    guard s.count % 2 == 0 else { return nil }
    var out = Data(capacity: s.count / 2)
    var i = s.startIndex
    while i < s.endIndex {
        let j = s.index(i, offsetBy: 2)
        guard let b = UInt8(s[i..<j], radix: 16) else { return nil }
        out.append(b)
        i = j
    }
    return out
}
