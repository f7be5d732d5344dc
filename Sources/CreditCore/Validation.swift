/// Why a provider item was quarantined: a stable code, the field, and a plain explanation.
public struct Rejection: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let field: String?
    public let message: String

    public init(_ code: String, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public var description: String { (field.map { "\($0): " } ?? "") + message }
}

/// A normalised field value.
public enum FieldValue: Equatable, Sendable {
    case text(String)
    case integer(Int64)
    case boolean(Bool)
    case null
}

/// A provider item that passed every rule, normalised: USCC trimmed and upper-cased, money
/// in integer fen (fields renamed `<name>_fen`), the resident ID number taken out of `data`
/// (the pipeline encrypts it and stores only ciphertext and a keyed hash).
public struct ValidItem: Equatable, Sendable {
    public enum Op: String, Sendable { case upsert, delete }

    public let recordId: String
    public let version: Int64
    public let op: Op
    public let uscc: String
    public let updatedAt: String
    public let data: [(String, FieldValue)]
    public let personalID: String?

    public static func == (a: ValidItem, b: ValidItem) -> Bool {
        a.recordId == b.recordId && a.version == b.version && a.op == b.op && a.uscc == b.uscc
            && a.updatedAt == b.updatedAt && a.personalID == b.personalID
            && a.data.count == b.data.count && zip(a.data, b.data).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    public func value(_ name: String) -> FieldValue? { data.first { $0.0 == name }?.1 }

    /// `data` as compact JSON, keys in field order.
    public var dataJSON: String {
        var out = "{"
        for (i, (key, value)) in data.enumerated() {
            if i > 0 { out += "," }
            JSONValue.writeString(key, into: &out)
            out += ":"
            switch value {
            case .text(let s): JSONValue.writeString(s, into: &out)
            case .integer(let n): out += String(n)
            case .boolean(let b): out += b ? "true" : "false"
            case .null: out += "null"
            }
        }
        return out + "}"
    }
}

/// The rules of `providers.md`, applied to one item of one dataset.
public enum ItemValidator {
    public static func validate(_ item: JSONValue, dataset: Dataset, today: Day) -> Result<ValidItem, Rejection> {
        do {
            return .success(try check(item, dataset: dataset, today: today))
        } catch let r as Rejection {
            return .failure(r)
        } catch {
            return .failure(Rejection("invalid", "\(error)"))
        }
    }

    static func check(_ item: JSONValue, dataset: Dataset, today: Day) throws -> ValidItem {
        guard case .object = item else { throw Rejection("not_an_object", "an item must be a JSON object") }
        guard let recordId = item["record_id"]?.stringValue?.trimmingBlanks(), !recordId.isEmpty else {
            throw Rejection("missing_field", field: "record_id", "record_id is required and must be a string")
        }
        guard recordId.count <= ProviderLimits.recordIdMaxCharacters else {
            throw Rejection("too_long", field: "record_id", "at most \(ProviderLimits.recordIdMaxCharacters) characters")
        }
        guard case .number(let versionText)? = item["version"], let version = Int64(versionText), version >= 1 else {
            throw Rejection("invalid_version", field: "version", "version must be an integer ≥ 1")
        }
        guard let opText = item["op"]?.stringValue, let op = ValidItem.Op(rawValue: opText) else {
            throw Rejection("invalid_op", field: "op", "op must be upsert or delete")
        }
        guard let usccText = item["uscc"]?.stringValue else {
            throw Rejection("missing_field", field: "uscc", "uscc is required")
        }
        let uscc: String
        switch USCC.parse(usccText) {
        case .success(let code): uscc = code.value
        case .failure(let problem): throw Rejection(problem.code, field: "uscc", problem.description)
        }
        guard let updatedAt = item["updated_at"]?.stringValue, Timestamp.isRFC3339(updatedAt) else {
            throw Rejection("invalid_timestamp", field: "updated_at", "updated_at must be an RFC 3339 timestamp with offset")
        }
        var normalisedId = recordId
        if dataset == .enterpriseRegistry {
            // The register's record id is the USCC itself.
            guard let id = USCC(recordId), id.value == uscc else {
                throw Rejection("record_id_mismatch", field: "record_id", "the register's record_id must be the item's USCC")
            }
            normalisedId = id.value
        }
        if op == .delete {
            return ValidItem(
                recordId: normalisedId,
                version: version,
                op: .delete,
                uscc: uscc,
                updatedAt: updatedAt,
                data: [],
                personalID: nil
            )
        }
        guard case .object(let data)? = item["data"] else {
            throw Rejection("missing_field", field: "data", "an upsert needs its data object")
        }
        var fields: [(String, FieldValue)] = []
        var personalID: String?
        for spec in dataset.fields {
            let raw = data[spec.name]
            if raw == nil || raw == .null {
                guard spec.nullable else {
                    throw Rejection("missing_field", field: spec.name, raw == nil ? "is required" : "may not be null")
                }
                fields.append((storedName(spec), .null))
                continue
            }
            let value = try field(raw!, spec: spec, today: today)
            if case .residentID = spec.kind, case .text(let id) = value {
                personalID = id
                continue
            }
            fields.append((storedName(spec), value))
        }
        return ValidItem(
            recordId: normalisedId,
            version: version,
            op: .upsert,
            uscc: uscc,
            updatedAt: updatedAt,
            data: fields,
            personalID: personalID
        )
    }

    static func storedName(_ spec: FieldSpec) -> String {
        if case .money = spec.kind { return spec.name + "_fen" }
        return spec.name
    }

    static func field(_ raw: JSONValue, spec: FieldSpec, today: Day) throws -> FieldValue {
        let name = spec.name
        func text() throws -> String {
            guard let s = raw.stringValue else { throw Rejection("wrong_type", field: name, "must be a string") }
            return s
        }
        switch spec.kind {
        case .text:
            let s = try text().trimmingBlanks()
            guard !s.isEmpty else { throw Rejection("missing_field", field: name, "may not be empty") }
            guard s.count <= ProviderLimits.textMaxCharacters else {
                throw Rejection("too_long", field: name, "at most \(ProviderLimits.textMaxCharacters) characters")
            }
            return .text(s)
        case .enumeration(let allowed):
            let s = try text()
            guard allowed.contains(s) else {
                throw Rejection("unknown_enum", field: name, "'\(s)' is not one of \(allowed.sorted().joined(separator: ", "))")
            }
            return .text(s)
        case .money:
            let s = try text()
            guard let fen = Money.fen(s) else {
                throw Rejection("invalid_money", field: name, "'\(s)' is not a non-negative yuan amount with at most 2 decimals")
            }
            return .integer(fen)
        case .decimal:
            let s = try text()
            guard Money.isDecimal(s) else { throw Rejection("invalid_decimal", field: name, "'\(s)' is not a non-negative decimal") }
            return .text(s)
        case .date(let event):
            let s = try text()
            guard let d = Day(s) else { throw Rejection("invalid_date", field: name, "'\(s)' is not a date YYYY-MM-DD") }
            guard d.year >= ProviderLimits.earliestYear else {
                throw Rejection("invalid_date", field: name, "\(s) is before \(ProviderLimits.earliestYear)")
            }
            if event && d > today { throw Rejection("future_date", field: name, "\(s) is in the future") }
            return .text(s)
        case .period:
            let s = try text()
            guard Day(s + "-01") != nil, s.utf8.count == 7 else {
                throw Rejection("invalid_period", field: name, "'\(s)' is not a period YYYY-MM")
            }
            return .text(s)
        case .year:
            guard case .number(let n) = raw, let y = Int(n), y >= ProviderLimits.earliestYear, y <= today.year else {
                throw Rejection("invalid_year", field: name, "must be a year from \(ProviderLimits.earliestYear) to \(today.year)")
            }
            return .integer(Int64(y))
        case .count:
            guard case .number(let n) = raw, let v = Int64(n), v >= 0 else {
                throw Rejection("invalid_integer", field: name, "must be an integer ≥ 0")
            }
            return .integer(v)
        case .boolean:
            guard case .bool(let b) = raw else { throw Rejection("wrong_type", field: name, "must be true or false") }
            return .boolean(b)
        case .uscc:
            switch USCC.parse(try text()) {
            case .success(let code): return .text(code.value)
            case .failure(let problem): throw Rejection(problem.code, field: name, problem.description)
            }
        case .residentID:
            guard let id = ResidentID.validate(try text()) else {
                // The number itself is personal data: it is not repeated in the reason.
                throw Rejection("invalid_resident_id", field: name, "not a valid resident ID number (check character)")
            }
            return .text(id)
        case .industryCode:
            let s = try text()
            let u = Array(s.utf8)
            guard u.count == 3, u[0] >= 0x41, u[0] <= 0x54, Day.digits(u[1..<3]) != nil else {
                throw Rejection("invalid_industry", field: name, "'\(s)' is not a section letter A–T and a 2-digit division")
            }
            return .text(s)
        case .districtCode:
            let s = try text()
            guard s.utf8.count == 6, Day.digits(Array(s.utf8)[...]) != nil else {
                throw Rejection("invalid_district", field: name, "'\(s)' is not a 6-digit division code")
            }
            return .text(s)
        }
    }
}
