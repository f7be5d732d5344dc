import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Store

/// Registers routes under the access policy: authentication and the role check happen here,
/// before any handler runs, for every route alike.
public struct API {
    let router: Router<AppContext>
    let db: Database
    let keys = KeyCache()
    let throttle: AuthThrottle
    public static let defaultRequestTimeoutSeconds = 60
    /// Every request is answered within this (`Deadline`).
    var requestDeadline: Duration = .seconds(API.defaultRequestTimeoutSeconds)
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
        let deadline = self.requestDeadline
        router.on(RouterPath(path), method: method) { request, context in
            do {
                return try await Deadline.run(deadline) {
                    try await API.serve(
                        request,
                        context,
                        rule: rule,
                        method: method,
                        db: db,
                        keys: keys,
                        throttle: throttle,
                        handler: handler
                    )
                }
            } catch is Deadline.Expired {
                throw Problem(
                    .notReady,
                    "the service could not answer within \(deadline); retry shortly (a write with an Idempotency-Key is done at most once)",
                    headers: [.retryAfter: String(ProblemMiddleware.retryAfterSeconds)]
                )
            }
        }
    }

    /// One request of a route: access, the call, idempotency, the handler.
    static func serve(
        _ request: Request,
        _ context: AppContext,
        rule: RouteRule,
        method: HTTPRequest.Method,
        db: Database,
        keys: KeyCache,
        throttle: AuthThrottle,
        handler: @escaping Handler
    ) async throws -> Response {
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
                await API.auditRefusal(db, context: context, route: rule.key, principal: s.principal, why: "role_refused", keyPrefix: nil)
                throw Problem(
                    .forbidden,
                    "this page is not for \(API.whose(s.principal.kind).lowercased()) session (\(request.uri.path))"
                )
            }
            guard s.principal.reaches(rule.rank) else {
                await API.auditRefusal(db, context: context, route: rule.key, principal: s.principal, why: "rank_refused", keyPrefix: nil)
                throw API.rankRefused(s.principal, rule)
            }
            // A password an admin set is changed before anything else is done.
            let area = WebSession.area(of: request.uri.path)
            if s.mustChangePassword, ![area + "/password", area + "/logout"].contains(rule.path) {
                if method == .get {
                    return WebSession.redirect(area + "/password?next=" + PortalHtml.percent(request.uri.path))
                }
                throw Problem(.forbidden, "choose your own password first (\(area)/password): an administrator set this one")
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
                throw Problem(
                    .forbidden,
                    "\(API.whose(p.kind)) key may not use this route (\(rule.key.split(separator: " ").first ?? "") \(request.uri.path))"
                )
            }
            guard p.reaches(rule.rank) else {
                await API.auditRefusal(db, context: context, route: rule.key, principal: p, why: "rank_refused", keyPrefix: nil)
                throw API.rankRefused(p, rule)
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

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// Routes whose response holds a secret shown once (a new key, a webhook's signing secret):
    /// their response is never kept, so a retry is told the request was done instead of
    /// getting the secret again.
    static let responsesHoldSecrets: Set<String> = [
        "POST /v1/keys", "POST /v1/orgs/:orgId/keys", "POST /v1/webhooks", "POST /v1/users", "POST /v1/orgs/:orgId/users",
        "POST /v1/users/:userId/reset", "POST /v1/orgs/:orgId/users/:userId/reset", "POST /portal/users",
        "POST /portal/users/:userId/reset",
        "POST /console/orgs/:orgId/users", "POST /console/orgs/:orgId/users/:userId/reset", "POST /console/orgs/:orgId/keys",
    ]

    /// 403 for a caller whose role within the organisation is below the route's.
    static func rankRefused(_ p: Principal, _ rule: RouteRule) -> Problem {
        let needed = OrgRole.roles(of: p.kind).filter { $0.rank >= rule.rank }.map(\.rawValue).joined(separator: " or ")
        return Problem(
            .forbidden,
            "the role \(p.role.rawValue) may not use this route (\(rule.key)): it needs \(needed.isEmpty ? "a higher role" : needed)"
        )
    }

    /// "A bank's", "A business's", "An operator's"…: the kind of caller in a refusal's words.
    static func whose(_ kind: OrgKind) -> String {
        switch kind {
        case .enterprise: "A business's"
        case .operator: "An operator's"
        case .bank, .regulator, .procurement: "A \(kind.rawValue)'s"
        }
    }

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
        let (body, inner) = try await call.withBodyRead(limit: call.context.bodyLimit)
        let path = inner.request.uri.path
        let hash = Idempotency.bodyHash(body)
        let logger = call.logger
        return try await db.withAmbientTransaction { c in
            guard try await Idempotency.lock(c, logger: logger, org: org, key: key) else {
                throw Problem(.conflict, "a request with this Idempotency-Key is still in progress; retry later")
            }
            switch try await Idempotency.kept(c, logger: logger, org: org, key: key, route: call.route, path: path, bodyHash: hash) {
            case .replay(let status, let type, let kept, let location)?:
                var headers: HTTPFields = [API.replayed: "true"]
                if let type { headers[.contentType] = type }
                if let location { headers[.location] = location }
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
                // The secret is shown once, to this request; a retry learns only that it was done
                // (a page's form sent again: as a page).
                let problem = Problem(
                    .conflict,
                    "this request was done already (\(response.status.code)); the secret it answered with is shown once and not kept — list, revoke and create again if it was lost",
                    zh: "这份表单已经提交过。一次性密码或密钥只在当时显示一次，不再显示；如未保存，请重置密码，或吊销密钥后重新签发。"
                )
                let done =
                    ProblemMiddleware.page(problem, request: call.request, requestId: call.context.requestId)
                    ?? problem.render(path: path, requestId: call.context.requestId)
                try await Idempotency.record(
                    c,
                    logger: logger,
                    org: org,
                    key: key,
                    route: call.route,
                    path: path,
                    bodyHash: hash,
                    status: Int(done.status.code),
                    contentType: done.headers[.contentType] ?? "application/problem+json",
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
                    body: kept,
                    location: response.headers[.location]
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
            actorUserId: principal?.user?.id,
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
