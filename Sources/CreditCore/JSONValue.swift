import Foundation

/// A JSON value as received, keeping the difference between absent and null, and the exact
/// text of numbers (money must never pass through floating point).
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// The number's text as sent.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    /// A number's exact text (nil for anything else).
    public var numberText: String? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// Compact JSON text, keys sorted: for quarantine rows and canonical forms.
    public var jsonText: String {
        var out = ""
        write(into: &out)
        return out
    }

    func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += n
        case .string(let s): JSONValue.writeString(s, into: &out)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() {
                if i > 0 { out += "," }
                v.write(into: &out)
            }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, pair) in o.pairs.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out += "," }
                JSONValue.writeString(pair.key, into: &out)
                out += ":"
                pair.value.write(into: &out)
            }
            out += "}"
        }
    }

    /// A JSON string as RFC 8785 writes it: only `"`, `\` and control characters escaped, the
    /// short forms \b \t \n \f \r where they exist, otherwise \u00xx in lower case.
    public static func writeString(_ s: String, into out: inout String) {
        // Fast path: nothing to escape.
        if !s.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            out += "\""
            out += s
            out += "\""
            return
        }
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\u{08}": out += "\\b"
            case "\t": out += "\\t"
            case "\n": out += "\\n"
            case "\u{0C}": out += "\\f"
            case "\r": out += "\\r"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(scalar.value, radix: 16).leftPadded(4)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}

/// A JSON object: its members in the order received. Items hold a handful of keys, so a
/// linear search beats hashing every key (the ingestion hot path).
public struct JSONObject: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var pairs: [(key: String, value: JSONValue)]

    public init() { pairs = [] }

    public init(_ dictionary: [String: JSONValue]) {
        pairs = dictionary.map { (key: $0.key, value: $0.value) }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        pairs = elements.map { (key: $0.0, value: $0.1) }
    }

    public var count: Int { pairs.count }

    public subscript(key: String) -> JSONValue? {
        get {
            for pair in pairs where pair.key == key { return pair.value }
            return nil
        }
        set {
            if let i = pairs.firstIndex(where: { $0.key == key }) {
                if let newValue { pairs[i].value = newValue } else { pairs.remove(at: i) }
            } else if let newValue {
                pairs.append((key: key, value: newValue))
            }
        }
    }

    /// Appends a member; false when the key is already there.
    mutating func insertNew(_ key: String, _ value: JSONValue) -> Bool {
        if pairs.contains(where: { $0.key == key }) { return false }
        pairs.append((key: key, value: value))
        return true
    }

    /// Equal members, whatever their order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.pairs.count == b.pairs.count && a.pairs.allSatisfy { b[$0.key] == $0.value }
    }
}

extension String {
    /// Left-padded with zeros to `width` characters.
    public func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Literals, for hand-made values (tests, fixtures).
extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .number(String(value)) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var o = JSONObject()
        for (k, v) in elements { o[k] = v }
        self = .object(o)
    }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
}

/// Stored JSON passed through to an API answer. Numbers keep their value: integers as
/// integers, any other number as a decimal (never through floating point).
extension JSONValue: Encodable {
    public func encode(to encoder: Encoder) throws {
        switch self {
        case .null:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case .bool(let b):
            var c = encoder.singleValueContainer()
            try c.encode(b)
        case .number(let t):
            var c = encoder.singleValueContainer()
            if let n = Int64(t) { try c.encode(n) } else if let d = Decimal(string: t) { try c.encode(d) } else { try c.encode(t) }
        case .string(let s):
            var c = encoder.singleValueContainer()
            try c.encode(s)
        case .array(let items):
            var c = encoder.unkeyedContainer()
            for item in items { try c.encode(item) }
        case .object(let o):
            // As a dictionary: an encoder's key strategy leaves a dictionary's keys alone, and
            // stored JSON is passed through as it is (every encoder here sorts keys).
            var c = encoder.singleValueContainer()
            try c.encode(Dictionary(o.pairs.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }))
        }
    }
}

/// Any JSON value through Decodable (integers kept as their text; a fraction as its decimal text).
public struct RawJSON: Decodable, Sendable {
    public let value: JSONValue
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            value = .null
        } else if let b = try? c.decode(Bool.self) {
            value = .bool(b)
        } else if let i = try? c.decode(Int64.self) {
            value = .number(String(i))
        } else if let s = try? c.decode(String.self) {
            value = .string(s)
        } else if let a = try? c.decode([RawJSON].self) {
            value = .array(a.map(\.value))
        } else if let o = try? c.decode([String: RawJSON].self) {
            value = .object(JSONObject(o.mapValues(\.value)))
        } else if let d = try? c.decode(Decimal.self) {
            value = .number("\(d)")
        } else {
            value = .string("(unsupported)")
        }
    }
}
