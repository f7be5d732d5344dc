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

    /// Text trimmed of surrounding white space, checked to be 1 to `max` characters (or, when
    /// not `required`, absent, empty or at most `max`). Returns the trimmed text (nil when absent
    /// or empty), or records the error.
    @discardableResult
    public mutating func text(_ value: String?, _ field: String, max: Int, required: Bool = true, reason: String? = nil) -> String? {
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
