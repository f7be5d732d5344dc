// The marketplace's pure core (issue 5): bank products with eligibility rules from a fixed
// vocabulary, their validation, and the matching of a demand against them — every rule
// passed or failed with the values compared, near misses (exactly one rule failed), and a
// documented ranking. No I/O: the store feeds it facts and products.

public enum ProductKind: String, Codable, CaseIterable, Sendable {
    /// Unsecured (信用贷款).
    case credit
    case secured
    case guaranteed
}

/// One eligibility rule. JSON: `{"rule": "min_grade", "value": "B"}`; rules without a value
/// omit it (`{"rule": "no_current_blacklisting"}`).
public enum Rule: Equatable, Sendable {
    case minGrade(String)
    case minYearsInBusiness(Int)
    case industriesAllowed([String])
    case industriesExcluded([String])
    case districtsAllowed([String])
    case districtsExcluded([String])
    case entityTypes([String])
    case sizes([String])
    case noCurrentBlacklisting
    case noSeriousPenaltyWithinMonths(Int)
    case minTaxCreditGrade(String)
    case minInsuredHeadcount(Int)
    case firstLoanOnly
    case collateralRequired

    public var name: String {
        switch self {
        case .minGrade: "min_grade"
        case .minYearsInBusiness: "min_years_in_business"
        case .industriesAllowed: "industries_allowed"
        case .industriesExcluded: "industries_excluded"
        case .districtsAllowed: "districts_allowed"
        case .districtsExcluded: "districts_excluded"
        case .entityTypes: "entity_types"
        case .sizes: "sizes"
        case .noCurrentBlacklisting: "no_current_blacklisting"
        case .noSeriousPenaltyWithinMonths: "no_serious_penalty_within_months"
        case .minTaxCreditGrade: "min_tax_credit_grade"
        case .minInsuredHeadcount: "min_insured_headcount"
        case .firstLoanOnly: "first_loan_only"
        case .collateralRequired: "collateral_required"
        }
    }

    /// The rule as stored and shown: `{"rule": name, "value": …}` (no value for flags).
    public var jsonValue: JSONValue {
        var o: JSONObject = ["rule": .string(name)]
        switch self {
        case .minGrade(let g), .minTaxCreditGrade(let g): o["value"] = .string(g)
        case .minYearsInBusiness(let n), .noSeriousPenaltyWithinMonths(let n), .minInsuredHeadcount(let n): o["value"] = .number(String(n))
        case .industriesAllowed(let l), .industriesExcluded(let l), .districtsAllowed(let l), .districtsExcluded(let l),
            .entityTypes(let l), .sizes(let l):
            o["value"] = .array(l.map(JSONValue.string))
        case .noCurrentBlacklisting, .firstLoanOnly, .collateralRequired: break
        }
        return .object(o)
    }

    /// Every rule name, for documentation and error messages.
    public static let names = [
        "min_grade", "min_years_in_business", "industries_allowed", "industries_excluded", "districts_allowed",
        "districts_excluded", "entity_types", "sizes", "no_current_blacklisting", "no_serious_penalty_within_months",
        "min_tax_credit_grade", "min_insured_headcount", "first_loan_only", "collateral_required",
    ]

    /// Credit grades from best to worst; taxpayer grades likewise.
    public static let grades = ["A", "B", "C", "D"]
    public static let taxGrades = ["A", "B", "M", "C", "D"]
    public static let entityTypeValues = [
        "company", "sole_proprietorship", "partnership", "individual_business", "farmer_cooperative", "family_farm",
    ]
    public static let sizeValues = ["micro", "small", "medium", "large"]
    public static let maxListLength = 100
}

/// A rule as received, before it is checked: the name and the raw value.
public struct RuleInput: Sendable, Equatable, Decodable {
    public let rule: String
    public let value: JSONValue?

    public init(rule: String, value: JSONValue?) {
        self.rule = rule
        self.value = value
    }

    enum CodingKeys: String, CodingKey { case rule, value }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rule = try c.decode(String.self, forKey: .rule)
        value = try c.decodeIfPresent(RawJSON.self, forKey: .value)?.value
    }
}

/// What a bank offers, checked.
public struct ProductTerms: Sendable, Equatable {
    public var kind: ProductKind
    public var amountMinFen: Int64
    public var amountMaxFen: Int64
    public var termMinMonths: Int
    public var termMaxMonths: Int
    public var rateMinBp: Int
    public var rateMaxBp: Int
    public var rules: [Rule]
    /// The product's indicative amount rule (参考额度), if the bank set one.
    public var quota: Quota? = nil

    public init(
        kind: ProductKind,
        amountMinFen: Int64,
        amountMaxFen: Int64,
        termMinMonths: Int,
        termMaxMonths: Int,
        rateMinBp: Int,
        rateMaxBp: Int,
        rules: [Rule]
    ) {
        self.kind = kind
        self.amountMinFen = amountMinFen
        self.amountMaxFen = amountMaxFen
        self.termMinMonths = termMinMonths
        self.termMaxMonths = termMaxMonths
        self.rateMinBp = rateMinBp
        self.rateMaxBp = rateMaxBp
        self.rules = rules
    }
}

/// One reason a product was refused when saved: the field (`rules[2].value`) and why.
public struct ProductProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public let field: String
    public let reason: String
    public var description: String { "\(field): \(reason)" }
}

/// Every problem of a product refused when saved.
public struct ProductProblems: Error, Sendable, Equatable {
    public let problems: [ProductProblem]
}

public enum ProductValidation {
    public static let maxAmountFen: Int64 = 100_000_000_000  // ¥1 bn
    public static let maxTermMonths = 360
    /// Annual rates up to 36% (basis points).
    public static let maxRateBp = 3_600
    public static let maxRules = 30
    public static let maxPenaltyMonths = 60
    public static let maxYears = 100
    public static let maxHeadcount = 1_000_000

    /// Checks a product's terms and rules; every problem is reported, each with its field.
    public static func check(
        kind: ProductKind,
        amountMinFen: Int64,
        amountMaxFen: Int64,
        termMinMonths: Int,
        termMaxMonths: Int,
        rateMinBp: Int,
        rateMaxBp: Int,
        rules inputs: [RuleInput]
    ) -> Result<ProductTerms, ProductProblems> {
        var problems: [ProductProblem] = []
        func bad(_ field: String, _ reason: String) { problems.append(ProductProblem(field: field, reason: reason)) }
        if amountMinFen < 1 { bad("amount_min_fen", "at least 1 fen") }
        if amountMaxFen > maxAmountFen { bad("amount_max_fen", "at most \(maxAmountFen) fen") }
        if amountMinFen > amountMaxFen { bad("amount_max_fen", "not below amount_min_fen") }
        if termMinMonths < 1 { bad("term_min_months", "at least 1") }
        if termMaxMonths > maxTermMonths { bad("term_max_months", "at most \(maxTermMonths)") }
        if termMinMonths > termMaxMonths { bad("term_max_months", "not below term_min_months") }
        if rateMinBp < 0 { bad("rate_min_bp", "not negative") }
        if rateMaxBp > maxRateBp { bad("rate_max_bp", "at most \(maxRateBp) (36% a year)") }
        if rateMinBp > rateMaxBp { bad("rate_max_bp", "not below rate_min_bp") }
        if inputs.count > maxRules { bad("rules", "at most \(maxRules) rules") }

        var rules: [Rule] = []
        var seen = Set<String>()
        for (i, input) in inputs.enumerated() {
            let field = "rules[\(i)]"
            guard seen.insert(input.rule).inserted else {
                bad("\(field).rule", "\(input.rule) appears twice")
                continue
            }
            switch parse(input, field: field) {
            case .success(let r): rules.append(r)
            case .failure(let p): problems.append(p)
            }
        }
        // Rules that contradict each other or the product.
        if kind == .credit, rules.contains(.collateralRequired) {
            bad("rules", "a credit (unsecured) product cannot require collateral")
        }
        var allowedIndustries: [String] = []
        var excludedIndustries: [String] = []
        var allowedDistricts: [String] = []
        var excludedDistricts: [String] = []
        for r in rules {
            switch r {
            case .industriesAllowed(let v): allowedIndustries = v
            case .industriesExcluded(let v): excludedIndustries = v
            case .districtsAllowed(let v): allowedDistricts = v
            case .districtsExcluded(let v): excludedDistricts = v
            default: break
            }
        }
        if !Set(allowedIndustries).isDisjoint(with: excludedIndustries) { bad("rules", "an industry is both allowed and excluded") }
        if !Set(allowedDistricts).isDisjoint(with: excludedDistricts) { bad("rules", "a district is both allowed and excluded") }
        guard problems.isEmpty else { return .failure(ProductProblems(problems: problems)) }
        return .success(
            ProductTerms(
                kind: kind,
                amountMinFen: amountMinFen,
                amountMaxFen: amountMaxFen,
                termMinMonths: termMinMonths,
                termMaxMonths: termMaxMonths,
                rateMinBp: rateMinBp,
                rateMaxBp: rateMaxBp,
                rules: rules
            )
        )
    }

    static func parse(_ input: RuleInput, field: String) -> Result<Rule, ProductProblem> {
        let vf = field + ".value"
        func fail(_ f: String, _ why: String) -> Result<Rule, ProductProblem> { .failure(ProductProblem(field: f, reason: why)) }
        func int(_ range: ClosedRange<Int>) -> Int? {
            guard case .number(let t)? = input.value, let n = Int(t), range.contains(n) else { return nil }
            return n
        }
        func oneOf(_ values: [String]) -> String? {
            guard let s = input.value?.stringValue, values.contains(s) else { return nil }
            return s
        }
        func list(_ valid: (String) -> Bool, _ what: String) -> Result<[String], ProductProblem> {
            guard case .array(let items)? = input.value, !items.isEmpty, items.count <= Rule.maxListLength else {
                return .failure(ProductProblem(field: vf, reason: "a list of 1 to \(Rule.maxListLength) \(what)"))
            }
            var out: [String] = []
            for (k, item) in items.enumerated() {
                guard let s = item.stringValue, valid(s) else {
                    return .failure(
                        ProductProblem(field: "\(vf)[\(k)]", reason: "not \(what.hasSuffix("s") ? String(what.dropLast()) : what)")
                    )
                }
                if !out.contains(s) { out.append(s) }
            }
            return .success(out)
        }
        func noValue(_ r: Rule) -> Result<Rule, ProductProblem> {
            if let v = input.value, v != .null, v != .bool(true) { return fail(vf, "this rule takes no value") }
            return .success(r)
        }
        switch input.rule {
        case "min_grade":
            guard let g = oneOf(Rule.grades) else { return fail(vf, "one of A, B, C, D") }
            return .success(.minGrade(g))
        case "min_years_in_business":
            guard let n = int(1...ProductValidation.maxYears) else { return fail(vf, "whole years, 1 to \(ProductValidation.maxYears)") }
            return .success(.minYearsInBusiness(n))
        case "industries_allowed", "industries_excluded":
            return list(isIndustry, "industry codes (a section letter such as A, or letter and division such as C17)").map {
                input.rule == "industries_allowed" ? .industriesAllowed($0) : .industriesExcluded($0)
            }
        case "districts_allowed", "districts_excluded":
            return list(isDistrict, "6-digit district codes").map {
                input.rule == "districts_allowed" ? .districtsAllowed($0) : .districtsExcluded($0)
            }
        case "entity_types":
            return list({ Rule.entityTypeValues.contains($0) }, "entity types (\(Rule.entityTypeValues.joined(separator: ", ")))").map(
                Rule.entityTypes
            )
        case "sizes":
            return list({ Rule.sizeValues.contains($0) }, "sizes (micro, small, medium, large)").map(Rule.sizes)
        case "no_current_blacklisting": return noValue(.noCurrentBlacklisting)
        case "no_serious_penalty_within_months":
            guard let n = int(1...ProductValidation.maxPenaltyMonths) else {
                return fail(vf, "months, 1 to \(ProductValidation.maxPenaltyMonths)")
            }
            return .success(.noSeriousPenaltyWithinMonths(n))
        case "min_tax_credit_grade":
            guard let g = oneOf(Rule.taxGrades) else { return fail(vf, "one of A, B, M, C, D") }
            return .success(.minTaxCreditGrade(g))
        case "min_insured_headcount":
            guard let n = int(1...ProductValidation.maxHeadcount) else {
                return fail(vf, "persons, 1 to \(ProductValidation.maxHeadcount)")
            }
            return .success(.minInsuredHeadcount(n))
        case "first_loan_only": return noValue(.firstLoanOnly)
        case "collateral_required": return noValue(.collateralRequired)
        default:
            return fail(field + ".rule", "unknown rule; one of \(Rule.names.joined(separator: ", "))")
        }
    }

    static func isIndustry(_ s: String) -> Bool {
        let u = Array(s.utf8)
        guard let first = u.first, first >= 0x41, first <= 0x54 else { return false }  // sections A–T
        return u.count == 1 || (u.count == 3 && u[1...].allSatisfy { $0 >= 0x30 && $0 <= 0x39 })
    }

    static func isDistrict(_ s: String) -> Bool { s.utf8.count == 6 && s.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
}

/// What matching knows of the business: from its register record and profile.
public struct ApplicantFacts: Sendable, Equatable {
    public var grade: String?
    public var monthsInBusiness: Int?
    public var industryCode: String?
    public var districtCode: String?
    public var entityType: String?
    public var sizeClass: String?
    public var blacklistedNow: Bool
    /// Whole months since the latest serious penalty (nil: none on record).
    public var monthsSinceSeriousPenalty: Int?
    public var taxCreditGrade: String?
    public var insuredHeadcount: Int?
    /// Tax paid in the last 12 months (what a tax-multiple quota reads).
    public var taxPaid12mFen: Int64? = nil

    public init(
        grade: String?,
        monthsInBusiness: Int?,
        industryCode: String?,
        districtCode: String?,
        entityType: String?,
        sizeClass: String?,
        blacklistedNow: Bool,
        monthsSinceSeriousPenalty: Int?,
        taxCreditGrade: String?,
        insuredHeadcount: Int?,
        taxPaid12mFen: Int64? = nil
    ) {
        self.grade = grade
        self.monthsInBusiness = monthsInBusiness
        self.industryCode = industryCode
        self.districtCode = districtCode
        self.entityType = entityType
        self.sizeClass = sizeClass
        self.blacklistedNow = blacklistedNow
        self.monthsSinceSeriousPenalty = monthsSinceSeriousPenalty
        self.taxCreditGrade = taxCreditGrade
        self.insuredHeadcount = insuredHeadcount
        self.taxPaid12mFen = taxPaid12mFen
    }
}

/// What the business asks for.
public struct DemandTerms: Sendable, Equatable {
    public var amountFen: Int64
    public var termMonths: Int
    public var collateralOffered: Bool
    public var firstLoan: Bool

    public init(amountFen: Int64, termMonths: Int, collateralOffered: Bool, firstLoan: Bool) {
        self.amountFen = amountFen
        self.termMonths = termMonths
        self.collateralOffered = collateralOffered
        self.firstLoan = firstLoan
    }
}

/// One check of a product against a demand: passed or not, with the values compared. The
/// sentences are rendered from the values when asked for (most checks are never shown).
public struct Check: Sendable, Equatable, Encodable {
    /// A value in a check: what the product requires, or what the business has.
    public enum Value: Sendable, Equatable {
        case none
        case text(String)
        case list([String])
        case count(Int)
        case fen(Int64)
        case fenRange(Int64, Int64)
        case monthRange(Int, Int)
        case flag(Bool)
    }

    /// The rule's name, or `amount` / `term` for the product's ranges.
    public let rule: String
    public let passed: Bool
    public let required: Value
    public let actual: Value

    public var zh: String { render(chinese: true) }
    public var en: String { render(chinese: false) }

    enum CodingKeys: String, CodingKey { case rule, passed, zh, en }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(passed, forKey: .passed)
        try c.encode(zh, forKey: .zh)
        try c.encode(en, forKey: .en)
    }

    func render(chinese zh: Bool) -> String {
        // Codes read as names: districts, industries, entity types, sizes.
        let named: ((String, Bool) -> String)? =
            switch rule {
            case "industries_allowed", "industries_excluded": Names.industry
            case "districts_allowed", "districts_excluded": Names.district
            case "entity_types": Names.entityType
            case "sizes": Names.size
            default: nil
            }
        func text(_ v: Value) -> String {
            switch v {
            case .none: return zh ? "无" : "none"
            case .text(let s): return named?(s, zh) ?? s
            case .list(let l): return l.map { named?($0, zh) ?? $0 }.joined(separator: zh ? "、" : ", ")
            case .count(let n): return String(n)
            case .fen(let f): return Money.display(fen: f)
            case .fenRange(let a, let b): return Money.display(fen: a) + "–" + Money.display(fen: b)
            case .monthRange(let a, let b): return "\(a)–\(b)"
            case .flag(let b): return b ? (zh ? "是" : "yes") : (zh ? "否" : "no")
            }
        }
        let need = text(required)
        let have = text(actual)
        let flag: Bool = if case .flag(let b) = actual { b } else { false }
        switch rule {
        case "amount": return zh ? "额度 \(need)；申请 \(have)" : "amount \(need); asked \(have)"
        case "term": return zh ? "期限 \(need) 个月；申请 \(have) 个月" : "term \(need) months; asked \(have)"
        case "min_grade": return zh ? "最低信用等级 \(need)；您的等级 \(have)" : "minimum grade \(need); yours is \(have)"
        case "min_years_in_business": return zh ? "成立至少 \(need) 年；您已成立 \(have) 年" : "at least \(need) years in business; yours \(have)"
        case "industries_allowed": return zh ? "行业限于 \(need)；您的行业 \(have)" : "industries \(need); yours is \(have)"
        case "industries_excluded": return zh ? "不含行业 \(need)；您的行业 \(have)" : "industries excluded \(need); yours is \(have)"
        case "districts_allowed": return zh ? "地区限于 \(need)；您在 \(have)" : "districts \(need); yours is \(have)"
        case "districts_excluded": return zh ? "不含地区 \(need)；您在 \(have)" : "districts excluded \(need); yours is \(have)"
        case "entity_types": return zh ? "主体类型限于 \(need)；您是 \(have)" : "entity types \(need); yours is \(have)"
        case "sizes": return zh ? "规模限于 \(need)；您是 \(have)" : "sizes \(need); yours is \(have)"
        case "no_current_blacklisting":
            return zh
                ? "不得在失信名单中；\(flag ? "您当前在名单中" : "您不在名单中")"
                : "not on a dishonesty list; \(flag ? "you are listed now" : "you are not listed")"
        case "no_serious_penalty_within_months":
            if case .none = actual { return zh ? "近 \(need) 个月无严重行政处罚；无记录" : "no serious penalty within \(need) months; none on record" }
            return zh
                ? "近 \(need) 个月无严重行政处罚；最近一次在 \(have) 个月前"
                : "no serious penalty within \(need) months; your latest was \(have) months ago"
        case "min_tax_credit_grade":
            return zh ? "纳税信用等级至少 \(need)；您的等级 \(have)" : "taxpayer credit grade at least \(need); yours is \(have)"
        case "min_insured_headcount": return zh ? "参保人数至少 \(need) 人；您有 \(have) 人" : "at least \(need) insured employees; yours \(have)"
        case "first_loan_only":
            return zh
                ? "仅限首贷；\(flag ? "您是首贷" : "您不是首贷")" : "first loans only; \(flag ? "yours is a first loan" : "yours is not a first loan")"
        case "collateral_required":
            return zh ? "需要抵押；\(flag ? "您提供抵押" : "您未提供抵押")" : "collateral required; \(flag ? "you offer collateral" : "you offer none")"
        default: return "\(rule): \(need); \(have)"
        }
    }
}

public struct ProductMatch: Sendable, Equatable {
    public let productIndex: Int
    public let checks: [Check]
    public var matched: Bool { checks.allSatisfy(\.passed) }
    public var failed: [Check] { checks.filter { !$0.passed } }
    /// Exactly one check failed: what would change the answer.
    public var nearMiss: Bool { failed.count == 1 }
    /// How well the demand sits in the product's ranges, 0…10000 (10000: at the middle of both).
    public let fitBp: Int
    /// The product's indicative amount for this business, when it matches (non-binding; nil
    /// without a quota or its basis).
    public var indicativeFen: Int64? = nil
}

public enum Matching {
    /// Checks a demand against one product. A product failing two checks is neither a match nor a
    /// near miss: its checks stop at the second failure (`Ranked.others` keeps those only).
    public static func check(_ p: ProductTerms, index: Int, facts f: ApplicantFacts, demand d: DemandTerms) -> ProductMatch {
        var checks: [Check] = []
        checks.reserveCapacity(p.rules.count + 2)
        var failures = 0
        func add(_ rule: String, _ ok: Bool, _ required: Check.Value, _ actual: Check.Value) {
            checks.append(Check(rule: rule, passed: ok, required: required, actual: actual))
            if !ok { failures += 1 }
        }
        func shown(_ s: String?) -> Check.Value { s.map(Check.Value.text) ?? .none }
        add(
            "amount",
            d.amountFen >= p.amountMinFen && d.amountFen <= p.amountMaxFen,
            .fenRange(p.amountMinFen, p.amountMaxFen),
            .fen(d.amountFen)
        )
        add(
            "term",
            d.termMonths >= p.termMinMonths && d.termMonths <= p.termMaxMonths,
            .monthRange(p.termMinMonths, p.termMaxMonths),
            .count(d.termMonths)
        )
        for rule in p.rules {
            if failures >= 2 { break }
            switch rule {
            case .minGrade(let g):
                let ok = f.grade.map { rank($0, Rule.grades) <= rank(g, Rule.grades) } ?? false
                add(rule.name, ok, .text(g), shown(f.grade))
            case .minYearsInBusiness(let y):
                add(rule.name, (f.monthsInBusiness ?? 0) >= y * 12, .count(y), f.monthsInBusiness.map { .count($0 / 12) } ?? .none)
            case .industriesAllowed(let codes):
                let ok = f.industryCode.map { c in codes.contains { c == $0 || ($0.utf8.count == 1 && c.hasPrefix($0)) } } ?? false
                add(rule.name, ok, .list(codes), shown(f.industryCode))
            case .industriesExcluded(let codes):
                let ok = f.industryCode.map { c in !codes.contains { c == $0 || ($0.utf8.count == 1 && c.hasPrefix($0)) } } ?? true
                add(rule.name, ok, .list(codes), shown(f.industryCode))
            case .districtsAllowed(let codes):
                add(rule.name, f.districtCode.map(codes.contains) ?? false, .list(codes), shown(f.districtCode))
            case .districtsExcluded(let codes):
                add(rule.name, f.districtCode.map { !codes.contains($0) } ?? true, .list(codes), shown(f.districtCode))
            case .entityTypes(let types):
                add(rule.name, f.entityType.map(types.contains) ?? false, .list(types), shown(f.entityType))
            case .sizes(let sizes):
                add(rule.name, f.sizeClass.map(sizes.contains) ?? false, .list(sizes), shown(f.sizeClass))
            case .noCurrentBlacklisting:
                add(rule.name, !f.blacklistedNow, .none, .flag(f.blacklistedNow))
            case .noSeriousPenaltyWithinMonths(let n):
                add(
                    rule.name,
                    f.monthsSinceSeriousPenalty.map { $0 >= n } ?? true,
                    .count(n),
                    f.monthsSinceSeriousPenalty.map(Check.Value.count) ?? .none
                )
            case .minTaxCreditGrade(let g):
                let ok = f.taxCreditGrade.map { rank($0, Rule.taxGrades) <= rank(g, Rule.taxGrades) } ?? false
                add(rule.name, ok, .text(g), shown(f.taxCreditGrade))
            case .minInsuredHeadcount(let n):
                add(rule.name, (f.insuredHeadcount ?? 0) >= n, .count(n), f.insuredHeadcount.map(Check.Value.count) ?? .none)
            case .firstLoanOnly:
                add(rule.name, d.firstLoan, .none, .flag(d.firstLoan))
            case .collateralRequired:
                add(rule.name, d.collateralOffered, .none, .flag(d.collateralOffered))
            }
        }
        return ProductMatch(productIndex: index, checks: checks, fitBp: fit(p, d))
    }

    /// Position in a best-first list of grades (unknown grades rank last).
    static func rank(_ g: String, _ order: [String]) -> Int { order.firstIndex(of: g) ?? order.count }

    /// 10000 at the middle of both ranges, falling to 0 at an edge (and outside), averaged.
    static func fit(_ p: ProductTerms, _ d: DemandTerms) -> Int {
        func one(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 {
            guard v >= lo, v <= hi else { return 0 }
            guard hi > lo else { return 10_000 }
            // |v − mid| / half-width, in integers: 2|2v − lo − hi| / (2(hi − lo)).
            let off = abs(2 * v - lo - hi)
            return max(0, 10_000 - off * 10_000 / (hi - lo))
        }
        return Int(
            (one(d.amountFen, p.amountMinFen, p.amountMaxFen) + one(Int64(d.termMonths), Int64(p.termMinMonths), Int64(p.termMaxMonths)))
                / 2
        )
    }

    public struct Ranked: Sendable {
        /// Matched products, best first.
        public let matches: [ProductMatch]
        /// Products failing exactly one check, best first.
        public let nearMisses: [ProductMatch]
        /// Everything else (two checks or more failed; checked up to the second failure), in product order.
        public let others: [ProductMatch]
    }

    /// Matches a demand against products and ranks: fit of amount and term (higher first), then
    /// the lowest rate, then the bank's median decision time so far (faster first; unknown last),
    /// then the product's position (stable).
    public static func rank(
        _ products: [ProductTerms],
        facts: ApplicantFacts,
        demand: DemandTerms,
        decisionDays: [Int?] = []
    ) -> Ranked {
        var matched: [ProductMatch] = []
        var near: [ProductMatch] = []
        var others: [ProductMatch] = []
        matched.reserveCapacity(products.count)
        for (i, p) in products.enumerated() {
            var m = check(p, index: i, facts: facts, demand: demand)
            if m.matched {
                // A matching product's indicative amount for this business (the others show none).
                m.indicativeFen = p.quota?.indicative(facts, productMaxFen: p.amountMaxFen)
                matched.append(m)
            } else if m.nearMiss {
                near.append(m)
            } else {
                others.append(m)
            }
        }
        func key(_ m: ProductMatch) -> (Int, Int, Int, Int) {
            let speed = m.productIndex < decisionDays.count ? decisionDays[m.productIndex] ?? Int.max : Int.max
            return (-m.fitBp, products[m.productIndex].rateMinBp, speed, m.productIndex)
        }
        matched.sort { key($0) < key($1) }
        near.sort { key($0) < key($1) }
        return Ranked(matches: matched, nearMisses: near, others: others)
    }
}

extension Rule {
    /// The rule in words, as a business reads it before applying (codes named: districts,
    /// industries, entity types and sizes).
    public func describe(chinese zh: Bool) -> String {
        func list(_ l: [String], _ name: (String, Bool) -> String) -> String {
            l.map { name($0, zh) }.joined(separator: zh ? "、" : ", ")
        }
        switch self {
        case .minGrade(let g): return zh ? "信用等级不低于 \(g)" : "credit grade \(g) or better"
        case .minYearsInBusiness(let y): return zh ? "成立满 \(y) 年" : "at least \(y) years in business"
        case .industriesAllowed(let l): return zh ? "行业限于：\(list(l, Names.industry))" : "industries: \(list(l, Names.industry))"
        case .industriesExcluded(let l): return zh ? "不含行业：\(list(l, Names.industry))" : "not for: \(list(l, Names.industry))"
        case .districtsAllowed(let l): return zh ? "地区限于：\(list(l, Names.district))" : "districts: \(list(l, Names.district))"
        case .districtsExcluded(let l): return zh ? "不含地区：\(list(l, Names.district))" : "not in: \(list(l, Names.district))"
        case .entityTypes(let l): return zh ? "主体类型：\(list(l, Names.entityType))" : "for: \(list(l, Names.entityType))"
        case .sizes(let l): return zh ? "企业规模：\(list(l, Names.size))" : "sizes: \(list(l, Names.size))"
        case .noCurrentBlacklisting: return zh ? "不在失信名单中" : "not on a dishonesty list"
        case .noSeriousPenaltyWithinMonths(let n): return zh ? "近 \(n) 个月无严重行政处罚" : "no serious penalty in the last \(n) months"
        case .minTaxCreditGrade(let g): return zh ? "纳税信用等级不低于 \(g)" : "taxpayer credit grade \(g) or better"
        case .minInsuredHeadcount(let n): return zh ? "参保职工不少于 \(n) 人" : "at least \(n) insured employees"
        case .firstLoanOnly: return zh ? "仅限首次贷款" : "first loans only"
        case .collateralRequired: return zh ? "需提供抵押或担保" : "collateral or a guarantee required"
        }
    }
}
