import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Store

/// What a handler gets: the request, its context, and the caller when the route needs a key.
public struct Call: Sendable {
    public let request: Request
    public let context: AppContext
    /// Present on every route whose access is `.roles`.
    public let principal: Principal?
    /// `METHOD /template`, for audit rows and logs.
    public let route: String
    /// The caller came from the key cache: the handler must check the key in its statement
    /// (or call `recheckKey`).
    public let keyFromCache: Bool
    let keys: KeyCache
    let db: Database
    /// Failed authentications, for the sign-in forms (the API's gate counts its own).
    var throttle: AuthThrottle? = nil
    /// The browser session, on `.session` routes.
    public var session: Sessions.Session? = nil

    /// The same call with its body read into memory (at most `limit` bytes), so that it can be
    /// read again: the body and the call that carries it.
    func withBodyRead(limit: Int) async throws -> (body: ByteBuffer, call: Call) {
        var request = self.request
        let body = try await request.body.collect(upTo: limit)
        request.body = RequestBody(buffer: body)
        var inner = Call(
            request: request,
            context: context,
            principal: principal,
            route: route,
            keyFromCache: keyFromCache,
            keys: keys,
            db: db
        )
        inner.session = session
        inner.throttle = throttle
        return (body, inner)
    }

    /// Looks the key up again (a cached caller on a path that does not check it itself).
    public func recheckKey() async throws {
        guard keyFromCache else { return }
        _ = try await API.authenticate(request, context: context, db: db)
    }

    /// The key was found revoked or expired by the handler's statement: forget it and refuse.
    public func keyNotLive() -> Problem {
        if let key = principal?.keyId { keys.evict(keyId: key) }
        return API.keyRefused
    }

    public var logger: Logger { context.logger }

    /// The caller on a route that requires a key.
    public var caller: Principal {
        guard let principal else { preconditionFailure("\(route) is open; it has no caller") }
        return principal
    }

    public func parameter(_ name: String) throws -> String {
        guard let value = context.parameters.get(name) else { throw Problem(.notFound) }
        return value
    }

    public func uuidParameter(_ name: String) throws -> UUID {
        guard let value = context.parameters.get(name), let id = UUID(uuidString: value) else {
            throw Problem(.notFound, "\(name) is not a known id")
        }
        return id
    }

    /// Decodes the JSON body, within the body limit; errors become 400/413/415/422 problems.
    public func decode<T: Decodable>(_ type: T.Type) async throws -> T {
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw Problem(.unsupportedMediaType, "send application/json")
        }
        let buffer = try await request.body.collect(upTo: context.bodyLimit)
        if buffer.readableBytes == 0 { throw Problem(.badRequest, "a JSON body is required") }
        try Call.checkBody(buffer)
        return try Call.decodeBody(T.self, buffer)
    }

    /// RFC 3339 timestamps, with or without fractional seconds.
    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .custom(JSON.decodingKey)
        d.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            let plain = ISO8601DateFormatter()
            let fractional = ISO8601DateFormatter()
            fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            guard let date = plain.date(from: text) ?? fractional.date(from: text) else {
                throw DecodingError.dataCorrupted(
                    .init(codingPath: decoder.codingPath, debugDescription: "an RFC 3339 timestamp with offset")
                )
            }
            return date
        }
        return d
    }()

    /// Decodes an optional JSON body: nil when there is none.
    public func decodeIfPresent<T: Decodable>(_ type: T.Type) async throws -> T? {
        let buffer = try await request.body.collect(upTo: context.bodyLimit)
        if buffer.readableBytes == 0 { return nil }
        if let contentType = request.headers[.contentType], !contentType.lowercased().hasPrefix("application/json") {
            throw Problem(.unsupportedMediaType, "send application/json")
        }
        try Call.checkBody(buffer)
        return try Call.decodeBody(T.self, buffer)
    }

    /// The body as `T`. Foundation's decoder calls a number it cannot hold (`1e20` or `12.5` for a
    /// whole number) "not valid JSON": when the body is valid JSON, the answer says what is wrong.
    static func decodeBody<T: Decodable>(_ type: T.Type, _ buffer: ByteBuffer) throws -> T {
        do {
            return try decoder.decode(T.self, from: buffer)
        } catch DecodingError.dataCorrupted(let c)
            where c.codingPath.isEmpty && (try? JSONParser.parse(Array(buffer.readableBytesView))) != nil
        {
            throw Problem(
                .validationFailed,
                "a number in the body does not fit its field: whole numbers (amounts in fen, counts, days) within range, no fractions or exponents"
            )
        }
    }

    /// What the decoder would let through but no body may hold: U+0000, and a key given twice in
    /// one object (the decoder keeps one of them silently; a proxy in front may read the other).
    static func checkBody(_ buffer: ByteBuffer) throws {
        if jsonHoldsNul(buffer) { throw Problem(.badRequest, "the body holds a NUL character (U+0000), which no text may contain") }
        do {
            _ = try JSONParser.parse(Array(buffer.readableBytesView))
        } catch  where error.reason.hasPrefix("duplicate key") {
            throw Problem(.badRequest, "the body gives a key twice in one object (\(error.reason))")
        } catch {
            // Anything else malformed: the decoder says what, field by field.
        }
    }

    /// The audit entry for this call, with actor and route filled in.
    public func auditEntry(
        action: String,
        result: AuditEntry.Result,
        subjectUSCC: String? = nil,
        subjectId: String? = nil,
        purpose: String? = nil,
        detail: [String: String] = [:]
    ) -> AuditEntry {
        var detail = detail
        if let client = context.clientRequestId { detail["client_request_id"] = client }
        return AuditEntry(
            requestId: context.requestId,
            actorOrgId: principal?.orgId,
            actorKeyId: principal?.keyId,
            actorUserId: principal?.user?.id,
            actorKind: principal?.kind.rawValue ?? "anonymous",
            action: action,
            route: route,
            subjectUSCC: subjectUSCC,
            subjectId: subjectId,
            purpose: purpose,
            result: result,
            detail: detail
        )
    }
}

extension Call {
    /// The calling business's USCC (routes for enterprises only).
    public func ownUSCC() throws -> String {
        guard let uscc = caller.uscc else { throw Problem(.forbidden, "this key's organisation has no USCC") }
        return uscc
    }
}

extension Call {
    /// What an allowed action's audit row says of the value it produced.
    public struct AuditSubject: Sendable {
        public var uscc: String?
        public var id: String?
        public var purpose: String?
        public var detail: [String: String]
        public init(uscc: String? = nil, id: String? = nil, purpose: String? = nil, detail: [String: String] = [:]) {
            self.uscc = uscc
            self.id = id
            self.purpose = purpose
            self.detail = detail
        }
    }

    /// An action in one transaction together with its audit row (result `allowed`), written
    /// from the value the action produced: both commit or neither does.
    public func audited<T: Sendable>(
        _ db: Database,
        action: String,
        subject: @escaping @Sendable (T) -> AuditSubject,
        do body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await db.withTransaction { c in
            let v = try await body(c)
            let s = subject(v)
            try await Audit.record(
                on: c,
                logger: logger,
                auditEntry(action: action, result: .allowed, subjectUSCC: s.uscc, subjectId: s.id, purpose: s.purpose, detail: s.detail)
            )
            return v
        }
    }

    /// A change made in one transaction together with its audit row (subject: the changed
    /// thing's id and business), answered as JSON.
    public func auditedChange<T: Encodable & Sendable>(
        _ db: Database,
        action: String,
        subjectId: UUID,
        status: HTTPResponse.Status = .ok,
        subjectUSCC: @escaping @Sendable (T) -> String?,
        _ body: @Sendable (PostgresConnection) async throws -> T
    ) async throws -> Response {
        let value = try await audited(
            db,
            action: action,
            subject: { AuditSubject(uscc: subjectUSCC($0), id: subjectId.uuidString.lowercased()) },
            do: body
        )
        return try JSON.response(value, status: status)
    }
}
