import Foundation
import Hummingbird
import NIOCore

/// One page of a list route: the items and where the next page starts (nil: the last page).
public struct Page<T: Encodable>: Encodable {
    public let items: [T]
    public let next: String?

    public init(items: [T], next: String?) {
        self.items = items
        self.next = next
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
