import Foundation

/// The length limits of free text people and banks type (in Unicode scalars, as PostgreSQL
/// counts characters).
public enum TextLimits {
    /// A provider's record id, a registered name.
    public static let identifier = 200
    /// An operator's reason, which the business reads.
    public static let decisionReason = 500
}

/// Collects the field errors of one request, so that a 422 names every bad field at once.
public struct FieldChecks {
    public private(set) var errors: [Problem.FieldError] = []

    public init() {}

    public mutating func fail(_ field: String, _ reason: String, zh: String? = nil) {
        errors.append(.init(field: field, reason: reason, zh: zh))
    }

    /// Whether a character may stand in text people type: not a control character (line breaks
    /// and tabs aside), nor one that reorders or hides what is shown (bidirectional embeddings,
    /// overrides and isolates, line and paragraph separators, the byte-order mark) — text a bank
    /// or a page shows must read as it was typed, and never drive a terminal.
    public static func allowed(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x09, 0x0A, 0x0D: true
        case 0x00...0x1F, 0x7F...0x9F: false
        case 0x200E, 0x200F, 0x202A...0x202E, 0x2066...0x2069, 0x2028, 0x2029, 0xFEFF: false
        default: true
        }
    }

    /// Text trimmed of surrounding white space, checked to be 1 to `max` characters (or, when
    /// not `required`, absent, empty or at most `max`) with none of the characters `allowed`
    /// refuses. Returns the trimmed text (nil when absent or empty), or records the error.
    @discardableResult
    public mutating func text(_ value: String?, _ field: String, max: Int, required: Bool = true, reason: String? = nil) -> String? {
        if let value, !value.unicodeScalars.allSatisfy(Self.allowed) {
            fail(
                field,
                "no control characters, nor characters that reorder or hide text (bidirectional controls, separators, BOM)",
                zh: "含有不可见的控制字符或文字方向控制符，请删除后重试"
            )
            return nil
        }
        let t = value?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        if (required && t.isEmpty) || t.unicodeScalars.count > max {
            fail(
                field,
                reason ?? (required ? "1 to \(max) characters" : "at most \(max) characters"),
                zh: required && t.isEmpty ? "请填写" : "最多 \(max) 个字"
            )
            return nil
        }
        return t.isEmpty ? nil : t
    }

    /// Throws the 422 naming every bad field, if any.
    public func check() throws { if !errors.isEmpty { throw Problem.invalid(errors) } }
}

extension FieldChecks {
    /// One text field on its own: the trimmed text, or the 422 for that field.
    @discardableResult
    public static func text(_ value: String?, _ field: String, max: Int, required: Bool = true, reason: String? = nil) throws -> String? {
        var checks = FieldChecks()
        let t = checks.text(value, field, max: max, required: required, reason: reason)
        try checks.check()
        return t
    }
}
