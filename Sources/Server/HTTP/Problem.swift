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

        /// The title in Chinese, for pages.
        public var titleZh: String {
            switch self {
            case .badRequest: "请求格式有误"
            case .validationFailed: "填写的内容有误"
            case .unauthorized: "需要有效的密钥"
            case .forbidden: "无权进行此操作"
            case .authorisationRequired: "没有企业的有效授权"
            case .notFound: "没有找到"
            case .methodNotAllowed: "不支持此操作"
            case .conflict: "与当前状态冲突"
            case .payloadTooLarge: "提交的内容过大"
            case .unsupportedMediaType: "不支持的内容类型"
            case .notReady: "服务暂不可用，请稍后重试"
            case .tooManyRequests: "请求过于频繁，请稍后重试"
            case .internalError: "服务出错"
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
        /// The reason in Chinese, for pages (not part of the API's answer).
        public let zh: String?
        public init(field: String, reason: String, zh: String? = nil) {
            self.field = field
            self.reason = reason
            self.zh = zh
        }
        enum CodingKeys: String, CodingKey {
            case field, reason
        }
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            field = try c.decode(String.self, forKey: .field)
            reason = try c.decode(String.self, forKey: .reason)
            zh = nil
        }
    }

    public let kind: Kind
    public let detail: String?
    public let errors: [FieldError]
    public var headers: HTTPFields
    /// The detail in Chinese, for pages (the API answers `detail`).
    public var zh: String?

    public init(_ kind: Kind, _ detail: String? = nil, zh: String? = nil, errors: [FieldError] = [], headers: HTTPFields = [:]) {
        self.kind = kind
        self.detail = detail
        self.zh = zh
        self.errors = errors
        self.headers = headers
    }

    public static func invalid(_ field: String, _ reason: String, zh: String? = nil) -> Problem {
        Problem(.validationFailed, "\(field): \(reason)", errors: [FieldError(field: field, reason: reason, zh: zh)])
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
