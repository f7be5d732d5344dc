import CreditCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Store

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
    static let xydRequestID = Self("X-Xyd-Request-Id")!
}

/// Gives every request the service's own id, in every log line and audit row and in
/// `X-Xyd-Request-Id`. A caller's `X-Request-Id`, when it is a short token, is kept beside it
/// (logged, in audit rows as `client_request_id`) and echoed in `X-Request-Id`; otherwise that
/// header carries the service's id too. A caller cannot choose the id the audit log files it under.
struct RequestIDMiddleware: RouterMiddleware {
    static let maxIncomingLength = 64

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.generate()
        let clients = Self.acceptable(request.headers[.requestID])
        context.requestId = id
        context.clientRequestId = clients
        context.logger[metadataKey: "request_id"] = .string(id)
        if let clients { context.logger[metadataKey: "client_request_id"] = .string(clients) }
        context.logger[metadataKey: "hb.request.id"] = nil
        let started = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = clients ?? id
        response.headers[.xydRequestID] = id
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "-"),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.1f", Double(elapsed / .microseconds(1)) / 1000)),
            ]
        )
        return response
    }

    static func acceptable(_ value: String?) -> String? {
        guard let value, !value.isEmpty, value.count <= maxIncomingLength,
            value.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) })
        else { return nil }
        return value
    }

    static func generate() -> String {
        String(UInt64.random(in: .min ... .max), radix: 16).leftPadded(to: 16)
    }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Refuses a declared body over the limit before reading it, and sets the limit that
/// body collection enforces for chunked bodies.
struct BodyLimitMiddleware: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var context = context
        context.bodyLimit = limit
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > limit {
            throw Problem(.payloadTooLarge, "the body is \(length) bytes; at most \(limit) are accepted")
        }
        return try await next(request, context)
    }
}

/// Headers every response carries: credit data is never kept by a browser or a proxy
/// (`Cache-Control: no-store` unless the route chose its own, as the style sheets do), no
/// content type is guessed, and no address leaks to another site through `Referer`.
struct SecurityHeadersMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        return response
    }
}

extension HTTPField.Name {
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}

/// Refuses U+0000 anywhere in the path or query (`%00`): no text the service stores or
/// searches may hold it (PostgreSQL's text cannot), so it is a client error, never a 500.
/// Bodies are checked where they are decoded (`Call.decode`, `WebSession.form`).
struct NulGuardMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        if request.uri.description.range(of: "%00", options: .caseInsensitive) != nil {
            throw Problem(.badRequest, "the address holds a NUL character (%00), which no text may contain")
        }
        return try await next(request, context)
    }
}

/// U+0000 in JSON text: a raw NUL byte or the escape `\u0000` (not a literal backslash before it).
func jsonHoldsNul(_ buffer: ByteBuffer) -> Bool {
    let bytes = buffer.readableBytesView
    var i = bytes.startIndex
    while i < bytes.endIndex {
        let b = bytes[i]
        if b == 0 { return true }
        if b == UInt8(ascii: "\\") {
            let next = bytes.index(after: i)
            guard next < bytes.endIndex else { return false }
            if bytes[next] == UInt8(ascii: "u"), bytes.distance(from: next, to: bytes.endIndex) >= 5,
                bytes[(next + 1)..<(next + 5)].allSatisfy({ $0 == UInt8(ascii: "0") })
            {
                return true
            }
            i = bytes.index(after: next)  // skip the escaped character (`\\` included)
            continue
        }
        i = bytes.index(after: i)
    }
    return false
}

/// Turns every error into `application/problem+json`. Domain errors choose their own status;
/// anything else is a bug: logged at error level in full, answered as a plain 500.
struct ProblemMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, request: request, context: context)
            if problem.kind == .internalError {
                // A database error is logged by its code and message only: its detail and the
                // statement's parameters would carry a row's contents (codes, free text).
                context.logger.error(
                    "unhandled error",
                    metadata: ["error": .string(Self.loggable(error)), "route": .string(context.endpointPath ?? "-")]
                )
            } else if Self.clientWentAway(error) {
                context.logger.debug("the client went away", metadata: ["route": .string(context.endpointPath ?? "-")])
            }
            if let page = Self.page(problem, request: request, requestId: context.requestId) { return page }
            return problem.render(path: request.uri.path, requestId: context.requestId)
        }
    }

    /// A person's browser on the portal or the dashboard gets the problem as a page in its
    /// language, with the same status (a program asking for JSON still gets problem+json).
    static func page(_ p: Problem, request: Request, requestId: String) -> Response? {
        let path = request.uri.path
        let area = ["/portal", "/dashboard", "/console"].first { path == $0 || path.hasPrefix($0 + "/") }
        guard let area, request.headers[values: .accept].contains(where: { $0.contains("text/html") }) else { return nil }
        let lang = Lang(request)
        let title = lang.english ? p.kind.title : p.kind.titleZh
        let body = """
            <p class="flash err" role="alert">\(Html.escape(PortalRoutes.problemText(p, lang)))</p>
            <p><a class="btn" href="\(area)">\(lang.t("返回首页", "Back to the start"))</a></p>
            <p class="muted">\(lang.t("如需帮助，请提供请求编号", "If you need help, quote the request number")) \(Html.escape(requestId))</p>
            """
        let html =
            area != "/dashboard"
            ? PortalHtml.page(title: title, current: "", session: nil, lang: lang, body: body)
            : Html.page(title: title, current: "", session: nil, lang: lang, body: "<h1>\(Html.escape(title))</h1>" + body)
        var headers = p.headers
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: p.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func problem(for error: any Error, request: Request, context: AppContext) -> Problem {
        switch error {
        case let p as Problem:
            return p
        case let t as PostgresTransactionError:
            if let inner = t.closureError { return problem(for: inner, request: request, context: context) }
            // BEGIN or COMMIT failed: the connection went (a failover) — whether a COMMIT that lost
            // its answer took effect is unknown, so the answer is "retry" (with the same
            // Idempotency-Key a retried write is done at most once).
            if let inner = t.beginError ?? t.commitError { return problem(for: inner, request: request, context: context) }
            return Problem(.internalError)
        case let e as HTTPError:
            return fromHTTPError(e, request: request, context: context)
        case let e as DecodingError:
            return fromDecodingError(e)
        case let e as RegisterError:
            return fromRegisterError(e)
        case let e as DatabaseUnavailable:
            return Problem(
                .notReady,
                "the service cannot reach its database just now (\(e.why)); retry shortly",
                headers: [.retryAfter: String(ProblemMiddleware.retryAfterSeconds)]
            )
        case is NIOTooManyBytesError:
            return Problem(.payloadTooLarge, "at most \(context.bodyLimit) bytes are accepted")
        case let e as PSQLError:
            // Text the checks let through but the database refuses (a value out of range, too
            // long, or not storable): the client's input, not a fault of the service.
            if let state = e.sqlState, state.hasPrefix("22") || state == "23514" {
                return Problem(.validationFailed, "a value is too long, out of range or holds characters that cannot be stored")
            }
            // The database went away under the request (restarted, shut down, connection lost;
            // SQLSTATE class 08, 57P01–57P03 or no server answer at all): unavailable, not broken.
            // 25006: a write reached a node that is no longer the leader (a failover under way).
            if e.sqlState.map({ $0.hasPrefix("08") || ["57P01", "57P02", "57P03", "53300", "25006"].contains($0) })
                ?? Self.connectionLost(e)
            {
                return Problem(
                    .notReady,
                    "the service lost its database connection; retry shortly",
                    headers: [.retryAfter: String(ProblemMiddleware.retryAfterSeconds)]
                )
            }
            return Problem(.internalError)
        default:
            return clientWentAway(error) ? Problem(.badRequest, "the request was not received whole") : Problem(.internalError)
        }
    }

    /// What `Retry-After` says when the database is unavailable.
    static let retryAfterSeconds = 5

    /// A PostgresNIO error without a server answer: the connection failed or closed.
    static func connectionLost(_ e: PSQLError) -> Bool {
        [PSQLError.Code.connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown].contains(e.code)
    }

    /// The connection closed or reset while the request was read: the client left.
    static func clientWentAway(_ error: any Error) -> Bool {
        if let e = error as? ChannelError { return e == .ioOnClosedChannel || e == .alreadyClosed || e == .eof || e == .inputClosed }
        if let e = error as? IOError { return [ECONNRESET, EPIPE].contains(e.errnoCode) }
        return false
    }

    /// What of an error may be logged: a database error's code and message, nothing of its row.
    static func loggable(_ error: any Error) -> String {
        if let t = error as? PostgresTransactionError {
            return [t.beginError, t.closureError, t.rollbackError, t.commitError].compactMap { $0.map(loggable) }.joined(separator: "; ")
        }
        if error is PSQLError { return describeDatabaseError(error) }
        return String(reflecting: error)
    }

    static func fromHTTPError(_ e: HTTPError, request: Request, context: AppContext) -> Problem {
        switch e.status {
        case .notFound:
            let allowed = AccessPolicy.methods(matching: request.uri.path)
            if context.endpointPath == "NotFound", !allowed.isEmpty {
                var headers = HTTPFields()
                headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
                return Problem(.methodNotAllowed, "\(request.method.rawValue) is not allowed here", headers: headers)
            }
            return Problem(.notFound, "no route \(request.method.rawValue) \(request.uri.path)")
        case .contentTooLarge:
            return Problem(.payloadTooLarge, "at most \(context.bodyLimit) bytes are accepted")
        case .badRequest: return Problem(.badRequest, e.body)
        case .unauthorized: return Problem(.unauthorized, e.body)
        case .forbidden: return Problem(.forbidden, e.body)
        case .methodNotAllowed: return Problem(.methodNotAllowed, e.body)
        case .unsupportedMediaType: return Problem(.unsupportedMediaType, e.body)
        default:
            return e.status.code >= 500 ? Problem(.internalError) : Problem(.badRequest, e.body)
        }
    }

    static func fromDecodingError(_ e: DecodingError) -> Problem {
        // The field as the client wrote it: the decoder reads snake_case into Swift's camelCase
        // names, and a problem names the JSON field (`first_loan_attested`, not `firstLoanAttested`).
        func snake(_ name: String) -> String {
            var out = ""
            for ch in name {
                if ch.isUppercase, !out.isEmpty { out.append("_") }
                out += ch.lowercased()
            }
            return out
        }
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? snake($0.stringValue) }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case .dataCorrupted(let c) where c.codingPath.isEmpty:
            return Problem(.badRequest, "the body is not valid JSON")
        case .dataCorrupted(let c) where c.debugDescription.contains("UUID"):
            return .invalid(path(c.codingPath), "expected an id (a UUID)")
        case .dataCorrupted(let c):
            return .invalid(path(c.codingPath), c.debugDescription)
        case .keyNotFound(let key, let c):
            return .invalid(path(c.codingPath + [key]), "is required")
        case .typeMismatch(let type, let c):
            return .invalid(path(c.codingPath), "expected \(Self.jsonTypeName(type))")
        case .valueNotFound(let type, let c):
            return .invalid(path(c.codingPath), "expected \(Self.jsonTypeName(type)), found null")
        @unknown default:
            return Problem(.badRequest, "the body could not be read")
        }
    }

    static func jsonTypeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Bool.Type: "true or false"
        default: "a value of another type"
        }
    }

    static func fromRegisterError(_ e: RegisterError) -> Problem {
        switch e {
        case .invalidName(let why): .invalid("name", why, zh: "名称须为 1 至 \(OrganisationLimits.nameMaxCharacters) 个字符，不含控制字符")
        case .usccRequired: .invalid("uscc", "an enterprise organisation needs its USCC", zh: "企业须填写统一社会信用代码")
        case .usccNotAllowed: .invalid("uscc", "only an enterprise organisation has a USCC", zh: "只有企业填写统一社会信用代码")
        case .invalidUSCC(let why): .invalid("uscc", why, zh: "统一社会信用代码无效（18 位，校验位须正确）")
        case .invalidLabel(let why): .invalid("label", why, zh: "用途说明至多 \(OrganisationLimits.keyLabelMaxCharacters) 个字符，不含控制字符")
        case .invalidSystemName(let why):
            .invalid("system_name", why, zh: "系统名称须为 1 至 \(KeyOwner.systemNameMaxCharacters) 个字符，不含控制字符")
        case .invalidExpiry(let why): .invalid("expires_at", why)
        case .duplicateOrganisation: Problem(.conflict, e.description, zh: "已有同名的同类机构。")
        case .duplicateUSCC: Problem(.conflict, e.description, zh: "该统一社会信用代码已登记。")
        case .orgNotFound: Problem(.notFound, e.description, zh: "没有找到这个机构。")
        case .keyNotFound: Problem(.notFound, e.description, zh: "没有找到这个密钥。")
        case .tooManyKeys(let n): Problem(.conflict, e.description, zh: "该机构的有效密钥已达上限（\(n) 个）：请先吊销不用的密钥。")
        // Only a key's owner names a user (a field of the body): 422, like any bad field.
        case .userNotFound: .invalid("user_id", e.description, zh: "没有这个人员")
        case .roleNotOfKind: .invalid("role", e.description, zh: "该角色不属于此类机构")
        }
    }
}
