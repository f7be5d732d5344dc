/// The credit features: what the scorecard scores. Each is a pure function of an
/// enterprise's current records and a day (the as-of date), with a window and a unit.
/// Values are integers (months, counts, persons, fen, basis points) or a category: exact,
/// and the same on every machine.

public enum FeatureUnit: String, Sendable, Codable {
    case months, count, persons, fen, grade, flag, status
    /// Basis points: 10000 = 100 %.
    case bp
}

public enum Feature: String, CaseIterable, Sendable, Codable {
    case monthsInBusiness = "months_in_business"
    case registrationStatus = "registration_status"
    case taxOnTimeRate12m = "tax_on_time_rate_12m"
    case taxPaid12m = "tax_paid_12m"
    case taxPaidTrend = "tax_paid_trend"
    case unpaidTax = "unpaid_tax"
    case taxCreditGrade = "tax_credit_grade"
    case headcountAvg12m = "headcount_avg_12m"
    case headcountTrend = "headcount_trend"
    case socialInsuranceArrears12m = "social_insurance_arrears_12m"
    case electricityTrend = "electricity_trend"
    case electricityVolatility12m = "electricity_volatility_12m"
    case utilityLateRate12m = "utility_late_rate_12m"
    case utilityUnpaid = "utility_unpaid"
    case contractFulfilmentRate24m = "contract_fulfilment_rate_24m"
    case contractBreaches24m = "contract_breaches_24m"
    case seriousPenalties36m = "serious_penalties_36m"
    case otherPenalties36m = "other_penalties_36m"
    case blacklistedNow = "blacklisted_now"
    case listings36m = "listings_36m"
    case validLicences = "valid_licences"

    public struct Definition: Sendable {
        public let unit: FeatureUnit
        /// The window in months before the as-of date (nil: all history or a point in time).
        public let windowMonths: Int?
        public let datasets: [Dataset]
        public let zh: String
        public let en: String
    }

    public var definition: Definition {
        switch self {
        case .monthsInBusiness: .init(unit: .months, windowMonths: nil, datasets: [.enterpriseRegistry], zh: "成立月数", en: "months since establishment")
        case .registrationStatus: .init(unit: .status, windowMonths: nil, datasets: [.enterpriseRegistry], zh: "登记状态", en: "registration status")
        case .taxOnTimeRate12m: .init(unit: .bp, windowMonths: 12, datasets: [.taxFiling], zh: "近12个月按期申报率", en: "tax returns filed on time, 12 months")
        case .taxPaid12m: .init(unit: .fen, windowMonths: 12, datasets: [.taxFiling], zh: "近12个月纳税额", en: "tax paid, 12 months")
        case .taxPaidTrend: .init(unit: .bp, windowMonths: 12, datasets: [.taxFiling], zh: "纳税额变化（近6个月比前6个月）", en: "tax paid, last 6 months against the 6 before")
        case .unpaidTax: .init(unit: .fen, windowMonths: 36, datasets: [.taxFiling], zh: "欠缴税款", en: "tax due and unpaid, 36 months")
        case .taxCreditGrade: .init(unit: .grade, windowMonths: nil, datasets: [.taxCreditRating], zh: "最近纳税信用等级", en: "latest taxpayer credit grade")
        case .headcountAvg12m: .init(unit: .persons, windowMonths: 12, datasets: [.socialInsurance], zh: "近12个月平均参保人数", en: "average insured headcount, 12 months")
        case .headcountTrend: .init(unit: .bp, windowMonths: 12, datasets: [.socialInsurance], zh: "参保人数变化（近6个月比前6个月）", en: "insured headcount, last 6 months against the 6 before")
        case .socialInsuranceArrears12m: .init(unit: .months, windowMonths: 12, datasets: [.socialInsurance], zh: "近12个月社保欠缴月数", en: "months of social-insurance arrears, 12 months")
        case .electricityTrend: .init(unit: .bp, windowMonths: 12, datasets: [.utilityBill], zh: "用电量变化（近6个月比前6个月）", en: "electricity use, last 6 months against the 6 before")
        case .electricityVolatility12m: .init(unit: .bp, windowMonths: 12, datasets: [.utilityBill], zh: "近12个月用电波动", en: "electricity use volatility (mean absolute deviation over mean), 12 months")
        case .utilityLateRate12m: .init(unit: .bp, windowMonths: 12, datasets: [.utilityBill], zh: "近12个月水电气逾期缴费率", en: "utility bills paid late or unpaid, 12 months")
        case .utilityUnpaid: .init(unit: .fen, windowMonths: 36, datasets: [.utilityBill], zh: "水电气欠费", en: "utility bills due and unpaid, 36 months")
        case .contractFulfilmentRate24m: .init(unit: .bp, windowMonths: 24, datasets: [.contractPerformance], zh: "近24个月合同履约率", en: "contracts fulfilled of those concluded, 24 months")
        case .contractBreaches24m: .init(unit: .count, windowMonths: 24, datasets: [.contractPerformance], zh: "近24个月合同违约或纠纷数", en: "contracts breached or disputed, 24 months")
        case .seriousPenalties36m: .init(unit: .count, windowMonths: 36, datasets: [.administrativePenalty], zh: "近36个月严重行政处罚数", en: "serious administrative penalties, 36 months")
        case .otherPenalties36m: .init(unit: .count, windowMonths: 36, datasets: [.administrativePenalty], zh: "近36个月一般及轻微行政处罚数", en: "general and minor administrative penalties, 36 months")
        case .blacklistedNow: .init(unit: .flag, windowMonths: nil, datasets: [.dishonestyListing], zh: "当前列入失信名单", en: "on a dishonesty list now")
        case .listings36m: .init(unit: .count, windowMonths: 36, datasets: [.dishonestyListing], zh: "近36个月列入失信名单次数", en: "dishonesty listings, 36 months")
        case .validLicences: .init(unit: .count, windowMonths: nil, datasets: [.administrativeLicence], zh: "有效行政许可数", en: "administrative licences valid now")
        }
    }
}

public enum FeatureValue: Sendable, Equatable, Codable, CustomStringConvertible {
    case number(Int64)
    case category(String)
    case missing

    public var number: Int64? { if case .number(let n) = self { n } else { nil } }

    public var description: String {
        switch self {
        case .number(let n): String(n)
        case .category(let c): c
        case .missing: "missing"
        }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .missing } else if let n = try? c.decode(Int64.self) { self = .number(n) } else {
            self = .category(try c.decode(String.self))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let n): try c.encode(n)
        case .category(let s): try c.encode(s)
        case .missing: try c.encodeNil()
        }
    }
}

/// The features of one enterprise as of a day, and (when asked for) the records behind each.
public struct FeatureSet: Sendable, Equatable {
    public var asOf: Day
    public var values: [Feature: FeatureValue] = [:]
    public var lineage: [Feature: [RecordRef]] = [:]
    /// Distinct months with monthly data (tax returns, social insurance, utility bills) up to the as-of date.
    public var dataMonths: Int = 0

    public init(asOf: Day) { self.asOf = asOf }

    public subscript(_ f: Feature) -> FeatureValue { values[f] ?? .missing }
}

public enum Features {
    /// Under this many months of data the file is thin: no score is guessed.
    public static let defaultMinDataMonths = 12

    /// `(a − b) / b` in basis points; missing when the earlier half is zero.
    static func trend(_ recent: Int64, _ earlier: Int64) -> FeatureValue {
        guard earlier > 0 else { return .missing }
        return .number((recent - earlier) * 10_000 / earlier)
    }

    static func rate(_ part: Int, _ whole: Int) -> FeatureValue {
        whole == 0 ? .missing : .number(Int64(part) * 10_000 / Int64(whole))
    }

    public static func compute(_ h: History, asOf: Day, lineage wantLineage: Bool = false) -> FeatureSet {
        var set = FeatureSet(asOf: asOf)
        for f in Feature.allCases { set.values[f] = .missing }
        let thisMonth = MonthIndex(asOf)
        // Monthly windows cover complete months before the as-of month: the last 12 are
        // thisMonth−12 … thisMonth−1; "last 6" thisMonth−6 … −1 and "the 6 before" −12 … −7.
        let last12 = thisMonth.adding(-12)..<thisMonth
        let last6 = thisMonth.adding(-6)..<thisMonth
        let prev6 = thisMonth.adding(-12)..<thisMonth.adding(-6)
        // Date windows: (asOf − n months, asOf].
        func within(_ d: Day, months: Int) -> Bool { d > asOf.addingMonths(-months) && d <= asOf }
        var refs: [Feature: [RecordRef]] = [:]
        func use(_ f: Feature, _ ds: Dataset, _ id: String) { if wantLineage { refs[f, default: []].append(RecordRef(ds, id)) } }

        // Register.
        if let r = h.registry {
            set.values[.monthsInBusiness] = r.establishedOn <= asOf ? .number(Int64(r.establishedOn.wholeMonths(to: asOf))) : .number(0)
            set.values[.registrationStatus] = .category(r.status)
            use(.monthsInBusiness, .enterpriseRegistry, h.uscc)
            use(.registrationStatus, .enterpriseRegistry, h.uscc)
        }

        var months = Set<MonthIndex>()

        // Tax returns.
        var onTime = 0, dueCount = 0
        var paid12: Int64 = 0, paidRecent: Int64 = 0, paidEarlier: Int64 = 0, unpaid: Int64 = 0
        for t in h.taxFilings {
            if t.period < thisMonth { months.insert(t.period) }
            if within(t.dueOn, months: 12) {
                dueCount += 1
                if let f = t.filedOn, f <= t.dueOn { onTime += 1 }
                use(.taxOnTimeRate12m, .taxFiling, t.id)
            }
            if last12.contains(t.period) {
                paid12 += t.taxPaidFen
                use(.taxPaid12m, .taxFiling, t.id)
                use(.taxPaidTrend, .taxFiling, t.id)
                if last6.contains(t.period) { paidRecent += t.taxPaidFen } else if prev6.contains(t.period) { paidEarlier += t.taxPaidFen }
            }
            if within(t.dueOn, months: 36), t.taxPayableFen > t.taxPaidFen {
                unpaid += t.taxPayableFen - t.taxPaidFen
                use(.unpaidTax, .taxFiling, t.id)
            }
        }
        set.values[.taxOnTimeRate12m] = rate(onTime, dueCount)
        let hasTax12 = h.taxFilings.contains { last12.contains($0.period) }
        set.values[.taxPaid12m] = hasTax12 ? .number(paid12) : .missing
        set.values[.taxPaidTrend] = trend(paidRecent, paidEarlier)
        set.values[.unpaidTax] = h.taxFilings.isEmpty ? .missing : .number(unpaid)

        // Tax credit grade: the latest year rated, up to the as-of year.
        if let latest = h.taxRatings.filter({ $0.year <= asOf.year }).max(by: { ($0.year, $0.id) < ($1.year, $1.id) }) {
            set.values[.taxCreditGrade] = .category(latest.grade)
            use(.taxCreditGrade, .taxCreditRating, latest.id)
        } else {
            set.values[.taxCreditGrade] = .missing
        }

        // Social insurance.
        var head12: Int64 = 0, head12n: Int64 = 0, headRecent: Int64 = 0, headRecentN: Int64 = 0
        var headEarlier: Int64 = 0, headEarlierN: Int64 = 0, arrears = Set<MonthIndex>()
        for s in h.socialInsurance {
            if s.period < thisMonth { months.insert(s.period) }
            guard last12.contains(s.period) else { continue }
            head12 += s.headcount; head12n += 1
            if last6.contains(s.period) { headRecent += s.headcount; headRecentN += 1 } else { headEarlier += s.headcount; headEarlierN += 1 }
            if s.inArrears { arrears.insert(s.period); use(.socialInsuranceArrears12m, .socialInsurance, s.id) }
            use(.headcountAvg12m, .socialInsurance, s.id)
            use(.headcountTrend, .socialInsurance, s.id)
        }
        set.values[.headcountAvg12m] = head12n == 0 ? .missing : .number(head12 / head12n)
        set.values[.headcountTrend] = headRecentN == 0 || headEarlierN == 0
            ? .missing : trend(headRecent / headRecentN, headEarlier / headEarlierN)
        set.values[.socialInsuranceArrears12m] = head12n == 0 ? .missing : .number(Int64(arrears.count))

        // Utility bills.
        var power: [MonthIndex: Int64] = [:]
        var late = 0, billsDue = 0, utilityUnpaid: Int64 = 0
        for b in h.utilityBills {
            if b.period < thisMonth { months.insert(b.period) }
            if b.utility == "electricity", last12.contains(b.period) {
                power[b.period, default: 0] += b.consumptionMilli
                use(.electricityTrend, .utilityBill, b.id)
                use(.electricityVolatility12m, .utilityBill, b.id)
            }
            if within(b.dueOn, months: 12) {
                billsDue += 1
                let paidInFull = b.paidFen >= b.billedFen
                if let p = b.paidOn, p <= b.dueOn, paidInFull {} else { late += 1 }
                use(.utilityLateRate12m, .utilityBill, b.id)
            }
            if within(b.dueOn, months: 36), b.billedFen > b.paidFen {
                utilityUnpaid += b.billedFen - b.paidFen
                use(.utilityUnpaid, .utilityBill, b.id)
            }
        }
        let recentPower = power.filter { last6.contains($0.key) }
        let earlierPower = power.filter { prev6.contains($0.key) }
        if recentPower.isEmpty || earlierPower.isEmpty {
            set.values[.electricityTrend] = .missing
        } else {
            // Monthly averages, so that a missing month does not read as a fall.
            let r = recentPower.values.reduce(0, +) / Int64(recentPower.count)
            let e = earlierPower.values.reduce(0, +) / Int64(earlierPower.count)
            set.values[.electricityTrend] = trend(r, e)
        }
        if power.count >= 3 {
            let mean = power.values.reduce(0, +) / Int64(power.count)
            let mad = power.values.reduce(0) { $0 + abs($1 - mean) } / Int64(power.count)
            set.values[.electricityVolatility12m] = mean > 0 ? .number(mad * 10_000 / mean) : .missing
        } else {
            set.values[.electricityVolatility12m] = .missing
        }
        set.values[.utilityLateRate12m] = rate(late, billsDue)
        set.values[.utilityUnpaid] = h.utilityBills.isEmpty ? .missing : .number(utilityUnpaid)

        // Contracts signed in the last 24 months.
        var concluded = 0, fulfilled = 0, breaches = 0
        for c in h.contracts where within(c.signedOn, months: 24) {
            switch c.status {
            case "fulfilled": concluded += 1; fulfilled += 1
            case "breached", "disputed": concluded += 1; breaches += 1
            case "overdue", "terminated": concluded += 1
            default: continue  // still performing: not concluded
            }
            use(.contractFulfilmentRate24m, .contractPerformance, c.id)
            if c.status == "breached" || c.status == "disputed" { use(.contractBreaches24m, .contractPerformance, c.id) }
        }
        set.values[.contractFulfilmentRate24m] = rate(fulfilled, concluded)
        set.values[.contractBreaches24m] = .number(Int64(breaches))

        // Penalties decided in the last 36 months.
        var serious = 0, other = 0
        for p in h.penalties where within(p.decidedOn, months: 36) {
            if p.severity == "serious" {
                serious += 1; use(.seriousPenalties36m, .administrativePenalty, p.id)
            } else {
                other += 1; use(.otherPenalties36m, .administrativePenalty, p.id)
            }
        }
        set.values[.seriousPenalties36m] = .number(Int64(serious))
        set.values[.otherPenalties36m] = .number(Int64(other))

        // Dishonesty listings.
        var listedNow = false, listed36 = 0
        for l in h.listings where l.listedOn <= asOf {
            if l.removedOn.map({ $0 > asOf }) ?? true {
                listedNow = true
                use(.blacklistedNow, .dishonestyListing, l.id)
            }
            if within(l.listedOn, months: 36) || (l.removedOn.map { within($0, months: 36) } ?? true) {
                listed36 += 1
                use(.listings36m, .dishonestyListing, l.id)
            }
        }
        set.values[.blacklistedNow] = .number(listedNow ? 1 : 0)
        set.values[.listings36m] = .number(Int64(listed36))

        // Licences valid on the as-of date.
        var valid = 0
        for l in h.licences where l.decidedOn <= asOf && (l.validUntil.map { $0 >= asOf } ?? true) {
            valid += 1
            use(.validLicences, .administrativeLicence, l.id)
        }
        set.values[.validLicences] = .number(Int64(valid))

        set.dataMonths = months.filter { $0 >= thisMonth.adding(-36) }.count
        if wantLineage { set.lineage = refs.mapValues { Array(Set($0)).sorted() } }
        return set
    }
}
