/// A product's indicative amount for one business (参考额度): non-binding, labelled so wherever it
/// is shown, computed from a small vocabulary a bank sets per product. JSON:
/// `{"basis": "tax_paid_multiple", "multiple": "5.5", "cap_by_grade": {"A": 300000000, "B": 100000000}}`
/// or `{"basis": "per_insured_employee", "fen_per_employee": 5000000, "cap_by_grade": {…}}`.
/// Always capped by the product's maximum amount, and rounded down to ¥1,000.
public struct Quota: Sendable, Equatable {
    public enum Basis: Sendable, Equatable {
        /// A multiple, in tenths, of the tax the business paid in the last 12 months (1–500: ×0.1 to ×50).
        case taxPaidMultiple(tenths: Int)
        /// An amount per insured employee (the 12-month average headcount), in fen.
        case perInsuredEmployee(fen: Int64)
    }

    public let basis: Basis
    /// The most for a business of each grade named; a grade not named is capped by the product's maximum only.
    public let capByGrade: [String: Int64]

    public static let tenthsRange = 1...500
    public static let perEmployeeRange: ClosedRange<Int64> = 1...100_000_000
    /// Indicative amounts are rounded down to this (¥1,000): a guide, not a computed offer.
    public static let roundingFen: Int64 = 100_000

    public init(basis: Basis, capByGrade: [String: Int64] = [:]) {
        self.basis = basis
        self.capByGrade = capByGrade
    }

    /// The indicative amount for a business with these facts under a product with this maximum;
    /// nil when the service does not know what the basis needs (no tax or social-insurance months).
    public func indicative(_ facts: ApplicantFacts, productMaxFen: Int64) -> Int64? {
        var v: Int64
        switch basis {
        case .taxPaidMultiple(let tenths):
            guard let tax = facts.taxPaid12mFen, tax >= 0 else { return nil }
            v = tax.multipliedReportingOverflow(by: Int64(tenths)).overflow ? Int64.max : tax * Int64(tenths) / 10
        case .perInsuredEmployee(let fen):
            guard let n = facts.insuredHeadcount, n >= 0 else { return nil }
            v = Int64(n).multipliedReportingOverflow(by: fen).overflow ? Int64.max : Int64(n) * fen
        }
        v = min(v, productMaxFen)
        if let g = facts.grade, let cap = capByGrade[g] { v = min(v, cap) }
        return v / Self.roundingFen * Self.roundingFen
    }

    public var jsonValue: JSONValue {
        var o: JSONObject = [:]
        switch basis {
        case .taxPaidMultiple(let t):
            o["basis"] = .string("tax_paid_multiple")
            o["multiple"] = .string("\(t / 10).\(t % 10)")
        case .perInsuredEmployee(let f):
            o["basis"] = .string("per_insured_employee")
            o["fen_per_employee"] = .number(String(f))
        }
        var caps: JSONObject = [:]
        for g in Rule.grades where capByGrade[g] != nil { caps[g] = .number(String(capByGrade[g]!)) }
        o["cap_by_grade"] = .object(caps)
        return .object(o)
    }

    /// Reads a quota as a bank sends it: every bad part named (field, reason).
    public static func parse(_ v: JSONValue, maxAmountFen: Int64) -> Result<Quota, ProductProblems> {
        var problems: [ProductProblem] = []
        func bad(_ field: String, _ reason: String) { problems.append(ProductProblem(field: "quota.\(field)", reason: reason)) }
        guard case .object = v else {
            return .failure(ProductProblems(problems: [ProductProblem(field: "quota", reason: "an object with basis")]))
        }
        var basis: Basis?
        switch v["basis"]?.stringValue {
        case "tax_paid_multiple":
            // "5.5" or 5.5: at most one decimal.
            let text = v["multiple"]?.stringValue ?? v["multiple"]?.numberText ?? ""
            let parts = text.split(separator: ".", omittingEmptySubsequences: false)
            if parts.count <= 2, let whole = Int(parts[0]), parts.count == 1 || (parts[1].count == 1 && Int(parts[1]) != nil),
                case let tenths = whole * 10 + (parts.count == 2 ? Int(parts[1])! : 0), tenthsRange.contains(tenths), whole >= 0
            {
                basis = .taxPaidMultiple(tenths: tenths)
            } else {
                bad("multiple", "a multiple of the last 12 months' tax paid, 0.1 to 50, at most one decimal")
            }
        case "per_insured_employee":
            if let f = v["fen_per_employee"]?.numberText.flatMap({ Int64($0) }), perEmployeeRange.contains(f) {
                basis = .perInsuredEmployee(fen: f)
            } else {
                bad("fen_per_employee", "fen per insured employee, \(perEmployeeRange.lowerBound) to \(perEmployeeRange.upperBound)")
            }
        default:
            bad("basis", "tax_paid_multiple or per_insured_employee")
        }
        var caps: [String: Int64] = [:]
        if let c = v["cap_by_grade"], c != .null {
            if case .object(let o) = c {
                for (g, x) in o.pairs {
                    guard Rule.grades.contains(g) else {
                        bad("cap_by_grade", "grades \(Rule.grades.joined(separator: ", ")) only")
                        continue
                    }
                    if let f = x.numberText.flatMap({ Int64($0) }), (1...maxAmountFen).contains(f) {
                        caps[g] = f
                    } else {
                        bad("cap_by_grade.\(g)", "fen, 1 to \(maxAmountFen)")
                    }
                }
            } else {
                bad("cap_by_grade", "an object of grade to fen")
            }
        }
        guard problems.isEmpty, let basis else { return .failure(ProductProblems(problems: problems)) }
        return .success(Quota(basis: basis, capByGrade: caps))
    }
}
