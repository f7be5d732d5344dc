import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// An error answered as `application/problem+json` (RFC 9457) with a stable `type`.
public struct Problem: Error, HTTPResponseError, Sendable {
    public static let typeBase = "https://xinyidai.example/problems/"

    /// The closed list of problem types; each has a fixed status and title.
    public enum Kind: String, CaseIterable, Sendable {
        case badRequest = "bad-request"
        case validationFailed = "validation-failed"
        case unauthorized
        case forbidden
        case authorisationRequired = "authorisation-required"
        case notFound = "not-found"
        case methodNotAllowed = "method-not-allowed"
        case conflict
        case payloadTooLarge = "payload-too-large"
        case unsupportedMediaType = "unsupported-media-type"
        case notReady = "not-ready"
        case tooManyRequests = "too-many-requests"
        case internalError = "internal-error"

        public var status: HTTPResponse.Status {
            switch self {
            case .badRequest: .badRequest
            case .validationFailed: .unprocessableContent
            case .unauthorized: .unauthorized
            case .forbidden, .authorisationRequired: .forbidden
            case .notFound: .notFound
            case .methodNotAllowed: .methodNotAllowed
            case .conflict: .conflict
            case .payloadTooLarge: .contentTooLarge
            case .unsupportedMediaType: .unsupportedMediaType
            case .notReady: .serviceUnavailable
            case .tooManyRequests: .tooManyRequests
            case .internalError: .internalServerError
            }
        }

        public var title: String {
            switch self {
            case .badRequest: "The request is malformed"
            case .validationFailed: "The request has invalid fields"
            case .unauthorized: "A valid API key is required"
            case .forbidden: "This key may not do that"
            case .authorisationRequired: "No live authorisation from the business covers this read"
            case .notFound: "No such resource"
            case .methodNotAllowed: "Method not allowed on this resource"
            case .conflict: "The request conflicts with the current state"
            case .payloadTooLarge: "The request body is too large"
            case .unsupportedMediaType: "Unsupported media type"
            case .notReady: "The service is not ready"
            case .tooManyRequests: "Too many requests from this address; retry later"
            case .internalError: "Internal error"
            }
        }

        public var uri: String { Problem.typeBase + rawValue }
    }

    public struct FieldError: Codable, Sendable, Equatable {
        public let field: String
        public let reason: String
        public init(field: String, reason: String) {
            self.field = field
            self.reason = reason
        }
    }

    public let kind: Kind
    public let detail: String?
    public let errors: [FieldError]
    public var headers: HTTPFields

    public init(_ kind: Kind, _ detail: String? = nil, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.headers = headers
    }

    public static func invalid(_ field: String, _ reason: String) -> Problem {
        Problem(.validationFailed, "\(field): \(reason)", errors: [FieldError(field: field, reason: reason)])
    }

    /// A 422 naming every bad field.
    public static func invalid(_ errors: [FieldError]) -> Problem {
        Problem(.validationFailed, errors.map { "\($0.field): \($0.reason)" }.joined(separator: "; "), errors: errors)
    }

    public var status: HTTPResponse.Status { kind.status }

    struct Body: Encodable {
        let type: String
        let title: String
        let status: Int
        let detail: String?
        let instance: String
        let requestId: String
        let errors: [FieldError]?

    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let requestId = context.logger[metadataKey: "request_id"]?.description ?? ""
        return render(path: request.uri.path, requestId: requestId)
    }

    func render(path: String, requestId: String) -> Response {
        let body = Body(
            type: kind.uri,
            title: kind.title,
            status: Int(kind.status.code),
            detail: detail,
            instance: path,
            requestId: requestId,
            errors: errors.isEmpty ? nil : errors
        )
        let data = (try? JSON.encoder.encode(body)) ?? Data("{}".utf8)
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: kind.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
