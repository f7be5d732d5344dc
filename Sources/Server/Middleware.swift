import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import Store

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!
}

/// Gives every request an id: the caller's `X-Request-Id` when it is a short token,
/// otherwise a new one. It goes into every log line and back in the response header.
struct RequestIDMiddleware: RouterMiddleware {
    static let maxIncomingLength = 64

    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var context = context
        let id = Self.acceptable(request.headers[.requestID]) ?? Self.generate()
        context.requestId = id
        context.logger[metadataKey: "request_id"] = .string(id)
        context.logger[metadataKey: "hb.request.id"] = nil
        let started = ContinuousClock.now
        var response = try await next(request, context)
        response.headers[.requestID] = id
        let elapsed = ContinuousClock.now - started
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue), "route": .string(context.endpointPath ?? "-"),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.1f", Double(elapsed / .microseconds(1)) / 1000)),
            ])
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

/// Turns every error into `application/problem+json`. Domain errors choose their own status;
/// anything else is a bug: logged at error level in full, answered as a plain 500.
struct ProblemMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: AppContext, next: (Request, AppContext) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let problem = Self.problem(for: error, request: request, context: context)
            if problem.kind == .internalError {
                context.logger.error(
                    "unhandled error", metadata: ["error": .string(String(reflecting: error)), "route": .string(context.endpointPath ?? "-")])
            }
            return problem.render(path: request.uri.path, requestId: context.requestId)
        }
    }

    static func problem(for error: any Error, request: Request, context: AppContext) -> Problem {
        switch error {
        case let p as Problem:
            return p
        case let t as PostgresTransactionError:
            if let inner = t.closureError { return problem(for: inner, request: request, context: context) }
            return Problem(.internalError)
        case let e as HTTPError:
            return fromHTTPError(e, request: request, context: context)
        case let e as DecodingError:
            return fromDecodingError(e)
        case let e as RegisterError:
            return fromRegisterError(e)
        default:
            return Problem(.internalError)
        }
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
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
                .replacingOccurrences(of: ".[", with: "[")
        }
        switch e {
        case .dataCorrupted(let c) where c.codingPath.isEmpty:
            return Problem(.badRequest, "the body is not valid JSON")
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
        case .invalidName(let why): .invalid("name", why)
        case .usccRequired: .invalid("uscc", "an enterprise organisation needs its USCC")
        case .usccNotAllowed: .invalid("uscc", "only an enterprise organisation has a USCC")
        case .invalidUSCC(let why): .invalid("uscc", why)
        case .invalidLabel(let why): .invalid("label", why)
        case .invalidExpiry(let why): .invalid("expires_at", why)
        case .duplicateOrganisation, .duplicateUSCC: Problem(.conflict, e.description)
        case .orgNotFound, .keyNotFound: Problem(.notFound, e.description)
        }
    }
}
