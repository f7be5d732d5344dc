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

    /// Looks the key up again (a cached caller on a path that does not check it itself).
    public func recheckKey() async throws {
        guard keyFromCache else { return }
        _ = try await API.authenticate(request, context: context, db: db)
    }

    /// The key was found revoked or expired by the handler's statement: forget it and refuse.
    public func keyNotLive() -> Problem {
        if let principal { keys.evict(keyId: principal.keyId) }
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
        return try Call.decoder.decode(T.self, from: buffer)
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
        return try Call.decoder.decode(T.self, from: buffer)
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

/// One page of a list route: the items and where the next page starts (nil: the last page).
public struct Page<T: Encodable>: Encodable {
    public let items: [T]
    public let next: String?

    public init(items: [T], next: String?) {
        self.items = items
        self.next = next
    }
}

extension Call {
    /// The calling business's USCC (routes for enterprises only).
    public func ownUSCC() throws -> String {
        guard let uscc = caller.uscc else { throw Problem(.forbidden, "this key's organisation has no USCC") }
        return uscc
    }
}

/// Page sizes for list routes.
public enum PageLimits {
    public static let defaultSize = 100
    public static let maxSize = 500

    public static func size(_ request: Request) throws -> Int {
        guard let text = request.uri.queryParameters.get("limit") else { return defaultSize }
        guard let n = Int(text), (1...maxSize).contains(n) else {
            throw Problem.invalid("limit", "an integer from 1 to \(maxSize)")
        }
        return n
    }
}

/// JSON responses, encoded the same way everywhere (sorted keys, ISO 8601 dates).
public enum JSON {
    /// The API's one key strategy: Swift names in camelCase, JSON keys in snake_case, converted
    /// by the encoder (`amountFen` ↔ `amount_fen`); explicit keys only where a file format or
    /// stored JSON fixes them. Sorted keys, RFC 3339 times.
    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }()

    /// A request body's key as the decoder matches it: `amount_fen` → `amountFen`. A key written
    /// in camelCase (`amountFen`) is not the contract's and matches nothing, as before: it cannot
    /// stand in for, or shadow, the snake_case key.
    static func decodingKey(_ path: [CodingKey]) -> CodingKey {
        let key = path.last!.stringValue
        guard !key.contains(where: \.isUppercase) else { return AnyKey("\u{1}" + key) }
        let parts = key.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count > 1, !parts.contains(where: \.isEmpty) else { return AnyKey(key) }
        return AnyKey(String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined())
    }

    struct AnyKey: CodingKey {
        let stringValue: String
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }

    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

/// Registers routes under the access policy: authentication and the role check happen here,
/// before any handler runs, for every route alike.
public struct API {
    let router: Router<AppContext>
    let db: Database
    let keys = KeyCache()
    let throttle: AuthThrottle
    /// `METHOD /template` of every route registered, in order.
    let registered = Locked<[String]>([])

    public typealias Handler = @Sendable (Call) async throws -> Response

    public func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping Handler) {
        guard let rule = AccessPolicy.rule(method, path) else {
            preconditionFailure("\(method.rawValue) \(path) has no rule in AccessPolicy.rules")
        }
        let db = self.db
        registered.withLock { $0.append(rule.key) }
        let keys = self.keys
        let throttle = self.throttle
        router.on(RouterPath(path), method: method) { request, context in
            let principal: Principal?
            var session: Sessions.Session?
            var cached = false
            switch rule.access {
            case .open:
                principal = nil
            case .session(let kinds):
                guard let token = WebSession.token(request),
                    let s = try await db.withConnection({ c in try await Sessions.find(c, logger: context.logger, token: token) })
                else {
                    if method == .get { return WebSession.toSignIn(next: request.uri.path) }
                    throw Problem(.unauthorized, "sign in first: the session is missing or has ended")
                }
                guard kinds.contains(s.principal.kind) else {
                    throw Problem(.forbidden, "a \(s.principal.kind.rawValue) session may not open \(rule.key)")
                }
                session = s
                principal = s.principal
            case .roles(let kinds):
                // A route whose handler checks the key again in its own statement may take the
                // caller from the cache; every other route looks the key up each time. A refused
                // key or role is audited; failed keys are throttled per address and key prefix.
                let presented = request.headers[.authorization].map { String($0.dropFirst(min($0.count, API.bearerPrefix.count))) }
                try throttle.check(address: context.clientAddress)
                let p: Principal
                do {
                    if rule.handlerChecksKey {
                        (p, cached) = try await API.authenticate(request, context: context, db: db, cache: keys)
                    } else {
                        p = try await API.authenticate(request, context: context, db: db)
                    }
                } catch let refused as Problem where refused.kind == .unauthorized {
                    let slowed = throttle.failed(address: context.clientAddress, key: presented)
                    await API.auditRefusal(
                        db,
                        context: context,
                        route: rule.key,
                        principal: nil,
                        why: "key_refused",
                        keyPrefix: presented.map { String($0.prefix(AuthThrottle.prefixLength)) }
                    )
                    throw slowed ?? refused
                }
                guard kinds.contains(p.kind) else {
                    await API.auditRefusal(db, context: context, route: rule.key, principal: p, why: "role_refused", keyPrefix: nil)
                    throw Problem(.forbidden, "a \(p.kind.rawValue) key may not call \(rule.key)")
                }
                principal = p
            }
            var context = context
            if let principal { context.logger[metadataKey: "org_id"] = .string(principal.orgId.uuidString) }
            var call = Call(
                request: request,
                context: context,
                principal: principal,
                route: rule.key,
                keyFromCache: cached,
                keys: keys,
                db: db
            )
            call.session = session
            call.throttle = throttle
            if method == .post, let principal, let key = request.headers[API.idempotencyKey] {
                return try await API.idempotent(call, key: key, org: principal.orgId, db: db, handler: handler)
            }
            return try await handler(call)
        }
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// Routes whose response holds a secret shown once (a new key, a webhook's signing secret):
    /// their response is never kept, so a retry is told the request was done instead of
    /// getting the secret again.
    static let responsesHoldSecrets: Set<String> = ["POST /v1/keys", "POST /v1/orgs/:orgId/keys", "POST /v1/webhooks"]

    /// A POST with an `Idempotency-Key`: the request runs in one transaction holding the key's
    /// lock — its work, its audit rows and the record of its response commit together — so a
    /// retry with the same key and body gets the kept response and changes nothing, and a request
    /// that failed or died before its commit left nothing and may simply run again. The same key
    /// with another body is 422; while the first runs, 409. A 4xx answer is kept like a success;
    /// a 5xx rolls everything back.
    static func idempotent(_ call: Call, key: String, org: UUID, db: Database, handler: Handler) async throws -> Response {
        guard Idempotency.isValidKey(key) else {
            throw Problem(.badRequest, "Idempotency-Key: 1 to \(Idempotency.maxKeyLength) visible ASCII characters")
        }
        var request = call.request
        let body = try await request.body.collect(upTo: call.context.bodyLimit)
        request.body = RequestBody(buffer: body)
        let path = request.uri.path
        let hash = Idempotency.bodyHash(body)
        let logger = call.logger
        var inner = Call(
            request: request,
            context: call.context,
            principal: call.principal,
            route: call.route,
            keyFromCache: call.keyFromCache,
            keys: call.keys,
            db: db
        )
        inner.session = call.session
        inner.throttle = call.throttle
        return try await db.withAmbientTransaction { c in
            guard try await Idempotency.lock(c, logger: logger, org: org, key: key) else {
                throw Problem(.conflict, "a request with this Idempotency-Key is still in progress; retry later")
            }
            switch try await Idempotency.kept(c, logger: logger, org: org, key: key, route: call.route, path: path, bodyHash: hash) {
            case .replay(let status, let type, let kept)?:
                var headers: HTTPFields = [API.replayed: "true"]
                if let type { headers[.contentType] = type }
                return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: kept))
            case .mismatch?:
                throw Problem.invalid("Idempotency-Key", "already used for another request (another route or body)")
            case nil:
                break
            }
            let response: Response
            do {
                response = try await handler(inner)
            } catch let problem as Problem where problem.status.code < 500 {
                response = problem.render(path: path, requestId: call.context.requestId)
            }
            let kept = try await collect(response)
            if responsesHoldSecrets.contains(call.route), response.status.code < 300 {
                // The secret is shown once, to this request; a retry learns only that it was done.
                let done = Problem(
                    .conflict,
                    "this request was done already (\(response.status.code)); the secret it answered with is shown once and not kept — list, revoke and create again if it was lost"
                )
                .render(path: path, requestId: call.context.requestId)
                try await Idempotency.record(
                    c,
                    logger: logger,
                    org: org,
                    key: key,
                    route: call.route,
                    path: path,
                    bodyHash: hash,
                    status: Int(done.status.code),
                    contentType: "application/problem+json",
                    body: try await collect(done)
                )
            } else {
                try await Idempotency.record(
                    c,
                    logger: logger,
                    org: org,
                    key: key,
                    route: call.route,
                    path: path,
                    bodyHash: hash,
                    status: Int(response.status.code),
                    contentType: response.headers[.contentType],
                    body: kept
                )
            }
            return Response(status: response.status, headers: response.headers, body: .init(byteBuffer: kept))
        }
    }

    /// A response's body, read into one buffer (the routes that create or move things answer small JSON).
    static func collect(_ response: Response) async throws -> ByteBuffer {
        let sink = BodySink()
        try await response.body.write(Collector(sink: sink))
        return sink.buffer.withLock { $0 }
    }

    final class BodySink: Sendable {
        let buffer = Locked(ByteBuffer())
    }

    struct Collector: ResponseBodyWriter {
        let sink: BodySink
        mutating func write(_ buffer: ByteBuffer) async throws {
            var b = buffer
            sink.buffer.withLock { _ = $0.writeBuffer(&b) }
        }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }

    static let bearerPrefix = "bearer "

    static var challenge: HTTPFields {
        var fields = HTTPFields()
        fields[.wwwAuthenticate] = "Bearer realm=\"xyd\""
        return fields
    }

    static func presentedKey(_ request: Request) throws -> String {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix(bearerPrefix) else {
            throw Problem(.unauthorized, "send Authorization: Bearer <key>", headers: challenge)
        }
        return String(header.dropFirst(bearerPrefix.count)).trimmingCharacters(in: .whitespaces)
    }

    /// The caller from the cache when there, else from the database (and then cached).
    static func authenticate(
        _ request: Request,
        context: AppContext,
        db: Database,
        cache: KeyCache
    ) async throws -> (Principal, cached: Bool) {
        let hash = Register.hashKey(try presentedKey(request))
        if let p = cache.get(hash) { return (p, true) }
        let p = try await authenticate(request, context: context, db: db)
        cache.put(hash, p)
        return (p, false)
    }

    static func authenticate(_ request: Request, context: AppContext, db: Database) async throws -> Principal {
        let key = try presentedKey(request)
        let result = try await db.withConnection { c in
            try await Register.authenticate(on: c, logger: context.logger, key: key)
        }
        switch result {
        case .success(let principal):
            return principal
        case .failure(let why):
            context.logger.info("key refused", metadata: ["why": .string(why.rawValue)])
            throw API.keyRefused
        }
    }

    /// Writes the audit row of a refused call (an unknown, revoked or expired key; a role that may
    /// not call the route). Best effort: the refusal stands even when the row cannot be written.
    static func auditRefusal(
        _ db: Database,
        context: AppContext,
        route: String,
        principal: Principal?,
        why: String,
        keyPrefix: String?
    ) async {
        var detail = ["why": why]
        if let keyPrefix, keyPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) {
            detail["key_prefix"] = keyPrefix
        }
        if let client = context.clientRequestId { detail["client_request_id"] = client }
        let entry = AuditEntry(
            requestId: context.requestId,
            actorOrgId: principal?.orgId,
            actorKeyId: principal?.keyId,
            actorKind: principal?.kind.rawValue ?? "anonymous",
            action: "access.refused",
            route: route,
            result: .denied,
            detail: detail
        )
        do {
            try await db.withConnection { c in try await Audit.record(on: c, logger: context.logger, entry) }
        } catch {
            context.logger.warning(
                "the refusal's audit row could not be written",
                metadata: ["error": .string(describeDatabaseError(error))]
            )
        }
    }

    static var keyRefused: Problem { Problem(.unauthorized, "the key is unknown, revoked or expired", headers: challenge) }
}

/// Callers by key hash, for the hot routes whose statement checks the key again (so a
/// revoked or expired key is refused at once all the same). Bounded in size and age.
public final class KeyCache: Sendable {
    public static let capacity = 10_000
    public static let maxAgeSeconds: Double = 30

    let entries = Locked<[Data: (principal: Principal, at: Date)]>([:])

    public init() {}

    func get(_ hash: Data) -> Principal? {
        entries.withLock { e in
            guard let hit = e[hash] else { return nil }
            guard Date().timeIntervalSince(hit.at) < Self.maxAgeSeconds else {
                e[hash] = nil
                return nil
            }
            return hit.principal
        }
    }

    func put(_ hash: Data, _ p: Principal) {
        entries.withLock { e in
            if e.count >= Self.capacity { e.removeAll(keepingCapacity: true) }
            e[hash] = (p, Date())
        }
    }

    /// Forgets every entry of a key (after its statement found it revoked or expired).
    func evict(keyId: UUID) {
        entries.withLock { e in e = e.filter { $0.value.principal.keyId != keyId } }
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
