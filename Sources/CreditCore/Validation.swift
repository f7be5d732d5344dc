/// A calendar day, compared by value.
public struct Day: Comparable, Hashable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Day.daysIn(year: year, month: month) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, strictly.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 10, u[4] == 0x2D, u[7] == 0x2D,
            let y = Day.digits(u[0..<4]), let m = Day.digits(u[5..<7]), let d = Day.digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }

    static func digits(_ s: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for b in s {
            guard b >= 0x30 && b <= 0x39 else { return nil }
            v = v * 10 + Int(b - 0x30)
        }
        return v
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    public var description: String {
        String(year).leftPadded(4) + "-" + String(month).leftPadded(2) + "-" + String(day).leftPadded(2)
    }
}

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

/// Money as the providers send it: a string of yuan with at most 2 decimals.
public enum Money {
    /// Integer fen, or nil when the text is not a non-negative amount within the limit.
    public static func fen(_ text: String) -> Int64? {
        let u = Array(text.utf8)
        guard !u.isEmpty else { return nil }
        var whole: Int64 = 0
        var i = 0
        var wholeDigits = 0
        while i < u.count, u[i] >= 0x30, u[i] <= 0x39 {
            whole = whole * 10 + Int64(u[i] - 0x30)
            wholeDigits += 1
            i += 1
            if wholeDigits > 13 { return nil }
        }
        guard wholeDigits > 0 else { return nil }
        var fraction: Int64 = 0
        if i < u.count {
            guard u[i] == 0x2E else { return nil }
            i += 1
            let digits = u.count - i
            guard digits == 1 || digits == 2 else { return nil }
            for k in 0..<digits {
                let b = u[i + k]
                guard b >= 0x30, b <= 0x39 else { return nil }
                fraction = fraction * 10 + Int64(b - 0x30)
            }
            if digits == 1 { fraction *= 10 }
        }
        guard whole <= ProviderLimits.moneyMaxYuan else { return nil }
        return whole * 100 + fraction
    }

    /// `1234.50` from 123450 fen.
    public static func yuan(fen: Int64) -> String {
        let sign = fen < 0 ? "-" : ""
        let a = fen.magnitude
        return sign + String(a / 100) + "." + String(a % 100).leftPadded(2)
    }

    public static func isDecimal(_ text: String) -> Bool {
        let u = Array(text.utf8)
        guard !u.isEmpty, u.count <= ProviderLimits.decimalMaxDigits + 1 else { return false }
        var seenDot = false
        var digits = 0
        for (i, b) in u.enumerated() {
            if b == 0x2E {
                if seenDot || i == 0 || i == u.count - 1 { return false }
                seenDot = true
            } else if b >= 0x30 && b <= 0x39 {
                digits += 1
            } else {
                return false
            }
        }
        return digits > 0
    }
}

public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    public static func isRFC3339(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard u.count >= 20, let _ = Day(String(decoding: u[0..<10], as: UTF8.self)),
            u[10] == 0x54 || u[10] == 0x74, u[13] == 0x3A, u[16] == 0x3A,
            let h = Day.digits(u[11..<13]), h < 24, let m = Day.digits(u[14..<16]), m < 60,
            let sec = Day.digits(u[17..<19]), sec <= 60
        else { return false }
        var i = 19
        if u[i] == 0x2E {
            i += 1
            let start = i
            while i < u.count, u[i] >= 0x30, u[i] <= 0x39 { i += 1 }
            if i == start { return false }
        }
        guard i < u.count else { return false }
        if u[i] == 0x5A || u[i] == 0x7A { return i == u.count - 1 }
        guard u[i] == 0x2B || u[i] == 0x2D, u.count - i == 6, u[i + 3] == 0x3A,
            let oh = Day.digits(u[(i + 1)..<(i + 3)]), oh < 24, let om = Day.digits(u[(i + 4)..<(i + 6)]), om < 60
        else { return false }
        return true
    }
}
