/// The outside providers and their datasets (`providers.md`).
public enum Dataset: String, CaseIterable, Sendable, Codable {
    case enterpriseRegistry = "enterprise_registry"
    case taxFiling = "tax_filing"
    case taxCreditRating = "tax_credit_rating"
    case socialInsurance = "social_insurance"
    case utilityBill = "utility_bill"
    case contractPerformance = "contract_performance"
    case administrativeLicence = "administrative_licence"
    case administrativePenalty = "administrative_penalty"
    case dishonestyListing = "dishonesty_listing"

    public var provider: ProviderName {
        switch self {
        case .enterpriseRegistry: .amr
        case .taxFiling, .taxCreditRating: .tax
        case .socialInsurance: .hrss
        case .utilityBill: .utilities
        case .contractPerformance: .contracts
        case .administrativeLicence, .administrativePenalty, .dishonestyListing: .credit
        }
    }

    /// The fields of `data`, each with its type; every field is required unless nullable.
    public var fields: [FieldSpec] {
        switch self {
        case .enterpriseRegistry:
            [
                .init("name", .text), .init("entity_type", .enumeration(EnumSets.entityType)),
                .init("legal_rep_name", .text), .init("legal_rep_id_no", .residentID),
                .init("established_on", .date(event: true)), .init("registered_capital", .money),
                .init("industry_code", .industryCode), .init("district_code", .districtCode),
                .init("size_class", .enumeration(EnumSets.sizeClass)), .init("status", .enumeration(EnumSets.registryStatus)),
            ]
        case .taxFiling:
            [
                .init("period", .period), .init("tax_type", .enumeration(EnumSets.taxType)),
                .init("declared_revenue", .money), .init("tax_payable", .money), .init("tax_paid", .money),
                .init("due_on", .date(event: false)), .init("filed_on", .date(event: true), nullable: true),
            ]
        case .taxCreditRating:
            [.init("year", .year), .init("grade", .enumeration(EnumSets.taxGrade))]
        case .socialInsurance:
            [
                .init("period", .period), .init("insured_headcount", .count),
                .init("contribution_due", .money), .init("contribution_paid", .money), .init("in_arrears", .boolean),
            ]
        case .utilityBill:
            [
                .init("utility", .enumeration(EnumSets.utility)), .init("account_no", .text), .init("period", .period),
                .init("consumption", .decimal), .init("amount_billed", .money), .init("amount_paid", .money),
                .init("due_on", .date(event: false)), .init("paid_on", .date(event: true), nullable: true),
            ]
        case .contractPerformance:
            [
                .init("contract_no", .text), .init("role", .enumeration(EnumSets.contractRole)),
                .init("counterparty_uscc", .uscc, nullable: true), .init("signed_on", .date(event: true)),
                .init("amount", .money), .init("due_on", .date(event: false)),
                .init("status", .enumeration(EnumSets.contractStatus)), .init("settled_on", .date(event: true), nullable: true),
            ]
        case .administrativeLicence:
            [
                .init("licence_no", .text), .init("authority", .text), .init("title", .text),
                .init("decided_on", .date(event: true)), .init("valid_until", .date(event: false), nullable: true),
            ]
        case .administrativePenalty:
            [
                .init("decision_no", .text), .init("authority", .text), .init("decided_on", .date(event: true)),
                .init("violation", .text), .init("severity", .enumeration(EnumSets.severity)),
                .init("fine_amount", .money), .init("publicity_ends_on", .date(event: false)),
            ]
        case .dishonestyListing:
            [
                .init("list_type", .enumeration(EnumSets.listType)), .init("case_no", .text), .init("authority", .text),
                .init("listed_on", .date(event: true)), .init("removed_on", .date(event: true), nullable: true),
                .init("amount_involved", .money, nullable: true),
            ]
        }
    }
}

public enum ProviderName: String, CaseIterable, Sendable, Codable {
    case amr, tax, hrss, utilities, contracts, credit

    public var datasets: [Dataset] { Dataset.allCases.filter { $0.provider == self } }
}

/// The closed enumerations of `providers.md`.
public enum EnumSets {
    public static let entityType: Set<String> = [
        "company", "sole_proprietorship", "partnership", "individual_business", "farmer_cooperative", "family_farm",
    ]
    public static let sizeClass: Set<String> = ["micro", "small", "medium", "large"]
    public static let registryStatus: Set<String> = ["active", "suspended", "revoked", "deregistered"]
    public static let taxType: Set<String> = ["vat", "corporate_income", "individual_income_withholding", "stamp", "other"]
    public static let taxGrade: Set<String> = ["A", "B", "M", "C", "D"]
    public static let utility: Set<String> = ["electricity", "water", "gas"]
    public static let contractRole: Set<String> = ["supplier", "buyer", "contractor", "client"]
    public static let contractStatus: Set<String> = ["performing", "fulfilled", "overdue", "breached", "disputed", "terminated"]
    public static let severity: Set<String> = ["minor", "general", "serious"]
    public static let listType: Set<String> = [
        "judgment_defaulter", "major_tax_violation", "procurement_serious_dishonesty", "wage_arrears", "safety_production",
    ]
}

public struct FieldSpec: Sendable {
    public enum Kind: Sendable {
        /// Non-empty UTF-8 text (at most `ProviderLimits.textMaxCharacters`).
        case text
        case enumeration(Set<String>)
        /// Yuan as a string, at most 2 fraction digits, not negative; stored as integer fen.
        case money
        /// A non-negative decimal string (consumption), kept as text.
        case decimal
        /// `YYYY-MM-DD`; an event date may not be in the future.
        case date(event: Bool)
        /// `YYYY-MM`.
        case period
        case year
        /// An integer ≥ 0.
        case count
        case boolean
        case uscc
        case residentID
        /// GB/T 4754-2017 section letter and 2-digit division, e.g. `C17`.
        case industryCode
        /// A 6-digit administrative division code.
        case districtCode
    }

    public let name: String
    public let kind: Kind
    public let nullable: Bool

    public init(_ name: String, _ kind: Kind, nullable: Bool = false) {
        self.name = name
        self.kind = kind
        self.nullable = nullable
    }
}

public enum ProviderLimits {
    public static let textMaxCharacters = 500
    public static let recordIdMaxCharacters = 128
    public static let decimalMaxDigits = 18
    /// Money above this many yuan is refused as implausible (and to keep fen inside Int64).
    public static let moneyMaxYuan: Int64 = 1_000_000_000_000
    public static let earliestYear = 1949
}
