// The credit features: what the scorecard scores. Each is a pure function of an
// enterprise's current records and a day (the as-of date), with a window and a unit.
// Values are integers (months, counts, persons, fen, basis points) or a category: exact,
// and the same on every machine.

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
    case commitmentsKept36m = "commitments_kept_36m"
    case commitmentsBroken36m = "commitments_broken_36m"

    /// The first scorecard version that could score this feature: older cards leave it out.
    public var since: String {
        switch self {
        case .commitmentsKept36m, .commitmentsBroken36m: "xyd-2026.2"
        default: "xyd-2026.1"
        }
    }

    /// A change (a trend) rather than a level: shown with its sign, `+4.78%` or `-4.78%`.
    public var isChange: Bool { [.taxPaidTrend, .headcountTrend, .electricityTrend].contains(self) }

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
        case .monthsInBusiness:
            .init(unit: .months, windowMonths: nil, datasets: [.enterpriseRegistry], zh: "成立月数", en: "months since establishment")
        case .registrationStatus:
            .init(unit: .status, windowMonths: nil, datasets: [.enterpriseRegistry], zh: "登记状态", en: "registration status")
        case .taxOnTimeRate12m:
            .init(unit: .bp, windowMonths: 12, datasets: [.taxFiling], zh: "近12个月按期申报率", en: "tax returns filed on time, 12 months")
        case .taxPaid12m: .init(unit: .fen, windowMonths: 12, datasets: [.taxFiling], zh: "近12个月纳税额", en: "tax paid, 12 months")
        case .taxPaidTrend:
            .init(
                unit: .bp,
                windowMonths: 12,
                datasets: [.taxFiling],
                zh: "纳税额变化（近6个月比前6个月）",
                en: "tax paid, last 6 months against the 6 before"
            )
        case .unpaidTax: .init(unit: .fen, windowMonths: 36, datasets: [.taxFiling], zh: "欠缴税款", en: "tax due and unpaid, 36 months")
        case .taxCreditGrade:
            .init(unit: .grade, windowMonths: nil, datasets: [.taxCreditRating], zh: "最近纳税信用等级", en: "latest taxpayer credit grade")
        case .headcountAvg12m:
            .init(
                unit: .persons,
                windowMonths: 12,
                datasets: [.socialInsurance],
                zh: "近12个月平均参保人数",
                en: "average insured headcount, 12 months"
            )
        case .headcountTrend:
            .init(
                unit: .bp,
                windowMonths: 12,
                datasets: [.socialInsurance],
                zh: "参保人数变化（近6个月比前6个月）",
                en: "insured headcount, last 6 months against the 6 before"
            )
        case .socialInsuranceArrears12m:
            .init(
                unit: .months,
                windowMonths: 12,
                datasets: [.socialInsurance],
                zh: "近12个月社保欠缴月数",
                en: "months of social-insurance arrears, 12 months"
            )
        case .electricityTrend:
            .init(
                unit: .bp,
                windowMonths: 12,
                datasets: [.utilityBill],
                zh: "用电量变化（近6个月比前6个月）",
                en: "electricity use, last 6 months against the 6 before"
            )
        case .electricityVolatility12m:
            .init(
                unit: .bp,
                windowMonths: 12,
                datasets: [.utilityBill],
                zh: "近12个月用电波动",
                en: "electricity use volatility (mean absolute deviation over mean), 12 months"
            )
        case .utilityLateRate12m:
            .init(
                unit: .bp,
                windowMonths: 12,
                datasets: [.utilityBill],
                zh: "近12个月水电气逾期缴费率",
                en: "utility bills paid late or unpaid, 12 months"
            )
        case .utilityUnpaid:
            .init(unit: .fen, windowMonths: 36, datasets: [.utilityBill], zh: "水电气欠费", en: "utility bills due and unpaid, 36 months")
        case .contractFulfilmentRate24m:
            .init(
                unit: .bp,
                windowMonths: 24,
                datasets: [.contractPerformance],
                zh: "近24个月合同履约率",
                en: "contracts fulfilled of those concluded, 24 months"
            )
        case .contractBreaches24m:
            .init(
                unit: .count,
                windowMonths: 24,
                datasets: [.contractPerformance],
                zh: "近24个月合同违约或纠纷数",
                en: "contracts breached or disputed, 24 months"
            )
        case .seriousPenalties36m:
            .init(
                unit: .count,
                windowMonths: 36,
                datasets: [.administrativePenalty],
                zh: "近36个月严重行政处罚数",
                en: "serious administrative penalties, 36 months"
            )
        case .otherPenalties36m:
            .init(
                unit: .count,
                windowMonths: 36,
                datasets: [.administrativePenalty],
                zh: "近36个月一般及轻微行政处罚数",
                en: "general and minor administrative penalties, 36 months"
            )
        case .blacklistedNow:
            .init(unit: .flag, windowMonths: nil, datasets: [.dishonestyListing], zh: "当前列入失信名单", en: "on a dishonesty list now")
        case .listings36m:
            .init(unit: .count, windowMonths: 36, datasets: [.dishonestyListing], zh: "近36个月列入失信名单次数", en: "dishonesty listings, 36 months")
        case .validLicences:
            .init(
                unit: .count,
                windowMonths: nil,
                datasets: [.administrativeLicence],
                zh: "有效行政许可数",
                en: "administrative licences valid now"
            )
        case .commitmentsKept36m:
            .init(
                unit: .count,
                windowMonths: 36,
                datasets: Commitments.Kind.allCases.map(\.dataset),
                zh: "近36个月履行的信用承诺数",
                en: "credit commitments kept, begun in the last 36 months"
            )
        case .commitmentsBroken36m:
            .init(
                unit: .count,
                windowMonths: 36,
                datasets: Commitments.Kind.allCases.map(\.dataset),
                zh: "近36个月违背的信用承诺数",
                en: "credit commitments broken, begun in the last 36 months"
            )
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
        if c.decodeNil() {
            self = .missing
        } else if let n = try? c.decode(Int64.self) {
            self = .number(n)
        } else {
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

    /// The features of one enterprise's history as of a day, and with `lineage` the records
    /// behind each.
    public static func compute(
        _ h: History,
        asOf: Day,
        policy: PenaltyPolicy = .fullWindow,
        lineage wantLineage: Bool = false
    ) -> FeatureSet {
        let (i, refs) = inputs(h, asOf: asOf, policy: policy, lineage: wantLineage)
        var set = compute(i, asOf: asOf)
        if wantLineage { set.lineage = refs.mapValues { Array(Set($0)).sorted() } }
        return set
    }

    /// The features from their inputs (the same whether the inputs were reduced from a
    /// history here or aggregated by SQL for a whole city).
    public static func compute(_ i: FeatureInputs, asOf: Day) -> FeatureSet {
        var set = FeatureSet(asOf: asOf)
        for f in Feature.allCases { set.values[f] = .missing }
        if let established = i.established {
            set.values[.monthsInBusiness] = established <= asOf ? .number(Int64(established.wholeMonths(to: asOf))) : .number(0)
        }
        if let status = i.status { set.values[.registrationStatus] = .category(status) }

        set.values[.taxOnTimeRate12m] = rate(i.taxOnTime12, i.taxDue12)
        set.values[.taxPaid12m] = i.taxPeriods12 > 0 ? .number(i.taxPaid12) : .missing
        set.values[.taxPaidTrend] = trend(i.taxPaidRecent6, i.taxPaidPrev6)
        set.values[.unpaidTax] = i.taxFilings == 0 ? .missing : .number(i.taxUnpaid36)
        if let g = i.taxGrade { set.values[.taxCreditGrade] = .category(g) }

        set.values[.headcountAvg12m] = i.siRecords12 == 0 ? .missing : .number(i.siHeadcount12 / Int64(i.siRecords12))
        set.values[.headcountTrend] =
            i.siRecordsRecent6 == 0 || i.siRecordsPrev6 == 0
            ? .missing : trend(i.siHeadcountRecent6 / Int64(i.siRecordsRecent6), i.siHeadcountPrev6 / Int64(i.siRecordsPrev6))
        set.values[.socialInsuranceArrears12m] = i.siRecords12 == 0 ? .missing : .number(Int64(i.siArrearsMonths.nonzeroBitCount))

        // Electricity by month (offset 1 = the month before the as-of month).
        let recent = (1...6).compactMap { i.powerMilli[$0] }
        let earlier = (7...12).compactMap { i.powerMilli[$0] }
        if recent.isEmpty || earlier.isEmpty {
            set.values[.electricityTrend] = .missing
        } else {
            // Monthly averages, so that a missing month does not read as a fall.
            set.values[.electricityTrend] = trend(recent.reduce(0, +) / Int64(recent.count), earlier.reduce(0, +) / Int64(earlier.count))
        }
        let power = (1...12).compactMap { i.powerMilli[$0] }
        if power.count >= 3 {
            let mean = power.reduce(0, +) / Int64(power.count)
            let mad = power.reduce(0) { $0 + abs($1 - mean) } / Int64(power.count)
            set.values[.electricityVolatility12m] = mean > 0 ? .number(mad * 10_000 / mean) : .missing
        }
        set.values[.utilityLateRate12m] = rate(i.billsLate12, i.billsDue12)
        set.values[.utilityUnpaid] = i.utilityBills == 0 ? .missing : .number(i.utilityUnpaid36)

        set.values[.contractFulfilmentRate24m] = rate(i.contractsFulfilled24, i.contractsConcluded24)
        set.values[.contractBreaches24m] = .number(Int64(i.contractBreaches24))
        set.values[.seriousPenalties36m] = .number(Int64(i.seriousPenalties36))
        set.values[.otherPenalties36m] = .number(Int64(i.otherPenalties36))
        set.values[.blacklistedNow] = .number(i.listedNow ? 1 : 0)
        set.values[.listings36m] = .number(Int64(i.listings36))
        set.values[.validLicences] = .number(Int64(i.validLicences))
        set.values[.commitmentsKept36m] = .number(Int64(i.commitmentsKept36))
        set.values[.commitmentsBroken36m] = .number(Int64(i.commitmentsBroken36))
        set.dataMonths = i.dataMonths.nonzeroBitCount
        return set
    }

    /// The windows of an as-of day, shared by the reduction here and the SQL aggregation.
    public struct Windows: Sendable {
        public let asOf: Day
        /// The as-of month; monthly windows count back from it: offset 1 is the month before.
        public let thisMonth: MonthIndex
        /// Date windows are (asOf − n months, asOf].
        public let since12: Day, since24: Day, since36: Day

        public init(_ asOf: Day) {
            self.asOf = asOf
            thisMonth = MonthIndex(asOf)
            since12 = asOf.addingMonths(-12)
            since24 = asOf.addingMonths(-24)
            since36 = asOf.addingMonths(-36)
        }

        /// Months before the as-of month (1 = the month before), or nil when not before it.
        public func offset(_ m: MonthIndex) -> Int? {
            let o = thisMonth.value - m.value
            return o >= 1 ? o : nil
        }
    }

    /// Reduces a history to the feature inputs, with the records behind each feature when asked.
    public static func inputs(
        _ h: History,
        asOf: Day,
        policy: PenaltyPolicy = .fullWindow,
        lineage wantLineage: Bool = false
    ) -> (FeatureInputs, [Feature: [RecordRef]]) {
        let w = Windows(asOf)
        var i = FeatureInputs()
        var refs: [Feature: [RecordRef]] = [:]
        func use(_ f: Feature, _ ds: Dataset, _ id: String) { if wantLineage { refs[f, default: []].append(RecordRef(ds, id)) } }
        func within(_ d: Day, _ since: Day) -> Bool { d > since && d <= asOf }
        func month(_ m: MonthIndex) { if let o = w.offset(m), o <= 36 { i.dataMonths |= 1 << UInt64(o) } }

        if let r = h.registry {
            i.established = r.establishedOn
            i.status = r.status
            use(.monthsInBusiness, .enterpriseRegistry, h.uscc)
            use(.registrationStatus, .enterpriseRegistry, h.uscc)
        }

        i.taxFilings = h.taxFilings.count
        for t in h.taxFilings {
            month(t.period)
            if within(t.dueOn, w.since12) {
                i.taxDue12 += 1
                if let f = t.filedOn, f <= t.dueOn { i.taxOnTime12 += 1 }
                use(.taxOnTimeRate12m, .taxFiling, t.id)
            }
            if let o = w.offset(t.period), o <= 12 {
                i.taxPeriods12 += 1
                i.taxPaid12 += t.taxPaidFen
                if o <= 6 { i.taxPaidRecent6 += t.taxPaidFen } else { i.taxPaidPrev6 += t.taxPaidFen }
                use(.taxPaid12m, .taxFiling, t.id)
                use(.taxPaidTrend, .taxFiling, t.id)
            }
            if within(t.dueOn, w.since36), t.taxPayableFen > t.taxPaidFen {
                i.taxUnpaid36 += t.taxPayableFen - t.taxPaidFen
                use(.unpaidTax, .taxFiling, t.id)
            }
        }
        // The latest year rated, up to the as-of year (ties: the highest record id).
        if let latest = h.taxRatings.filter({ $0.year <= asOf.year }).max(by: { ($0.year, $0.id) < ($1.year, $1.id) }) {
            i.taxGrade = latest.grade
            use(.taxCreditGrade, .taxCreditRating, latest.id)
        }

        for s in h.socialInsurance {
            month(s.period)
            guard let o = w.offset(s.period), o <= 12 else { continue }
            i.siRecords12 += 1
            i.siHeadcount12 += s.headcount
            if o <= 6 {
                i.siRecordsRecent6 += 1
                i.siHeadcountRecent6 += s.headcount
            } else {
                i.siRecordsPrev6 += 1
                i.siHeadcountPrev6 += s.headcount
            }
            // Every month of the window is behind the count, those in arrears and those not.
            if s.inArrears { i.siArrearsMonths |= 1 << UInt64(o) }
            use(.socialInsuranceArrears12m, .socialInsurance, s.id)
            use(.headcountAvg12m, .socialInsurance, s.id)
            use(.headcountTrend, .socialInsurance, s.id)
        }

        i.utilityBills = h.utilityBills.count
        for b in h.utilityBills {
            month(b.period)
            if b.utility == "electricity", let o = w.offset(b.period), o <= 12 {
                i.powerMilli[o, default: 0] += b.consumptionMilli
                use(.electricityTrend, .utilityBill, b.id)
                use(.electricityVolatility12m, .utilityBill, b.id)
            }
            if within(b.dueOn, w.since12) {
                i.billsDue12 += 1
                if let p = b.paidOn, p <= b.dueOn, b.paidFen >= b.billedFen {} else { i.billsLate12 += 1 }
                use(.utilityLateRate12m, .utilityBill, b.id)
            }
            if within(b.dueOn, w.since36), b.billedFen > b.paidFen {
                i.utilityUnpaid36 += b.billedFen - b.paidFen
                use(.utilityUnpaid, .utilityBill, b.id)
            }
        }

        for c in h.contracts where within(c.signedOn, w.since24) {
            switch c.status {
            case "fulfilled":
                i.contractsConcluded24 += 1
                i.contractsFulfilled24 += 1
            case "breached", "disputed":
                i.contractsConcluded24 += 1
                i.contractBreaches24 += 1
            case "overdue", "terminated": i.contractsConcluded24 += 1
            default: continue  // still performing: not concluded
            }
            use(.contractFulfilmentRate24m, .contractPerformance, c.id)
            if c.status == "breached" || c.status == "disputed" { use(.contractBreaches24m, .contractPerformance, c.id) }
        }

        for p in h.penalties where within(p.decidedOn, w.since36) && policy.counts(p, asOf: asOf) {
            if p.severity == "serious" {
                i.seriousPenalties36 += 1
                use(.seriousPenalties36m, .administrativePenalty, p.id)
            } else {
                i.otherPenalties36 += 1
                use(.otherPenalties36m, .administrativePenalty, p.id)
            }
        }

        for l in h.listings where l.listedOn <= asOf {
            if l.removedOn.map({ $0 > asOf }) ?? true {
                i.listedNow = true
                use(.blacklistedNow, .dishonestyListing, l.id)
            }
            if within(l.listedOn, w.since36) || (l.removedOn.map { within($0, w.since36) } ?? true) {
                i.listings36 += 1
                use(.listings36m, .dishonestyListing, l.id)
            }
        }

        for l in h.licences where l.decidedOn <= asOf && (l.validUntil.map { $0 >= asOf } ?? true) {
            i.validLicences += 1
            use(.validLicences, .administrativeLicence, l.id)
        }

        // Commitments begun in the window, judged on the history as of the day.
        for t in h.commitments where t.startsOn <= asOf && t.startsOn > w.since36 {
            let e = Commitments.evaluate(t.kind, startsOn: t.startsOn, endsOn: t.endsOn, history: h, today: asOf)
            switch e.state {
            case .kept: i.commitmentsKept36 += 1
            case .broken:
                i.commitmentsBroken36 += 1
                if let by = e.brokenBy { use(.commitmentsBroken36m, t.kind.dataset, by) }
            case .inProgress: break
            }
        }
        return (i, refs)
    }
}

/// What the features are computed from: per enterprise and as-of day, counts and sums over
/// the windows. Reduced from a history by `Features.inputs`, or aggregated for a whole city in
/// one pass by SQL (`Store.FeatureAggregation`); the two must agree (a test checks it).
public struct FeatureInputs: Sendable, Equatable {
    public var established: Day?
    public var status: String?
    public var taxFilings = 0
    public var taxDue12 = 0
    public var taxOnTime12 = 0
    public var taxPeriods12 = 0
    public var taxPaid12: Int64 = 0
    public var taxPaidRecent6: Int64 = 0
    public var taxPaidPrev6: Int64 = 0
    public var taxUnpaid36: Int64 = 0
    public var taxGrade: String?
    public var siRecords12 = 0
    public var siHeadcount12: Int64 = 0
    public var siRecordsRecent6 = 0
    public var siHeadcountRecent6: Int64 = 0
    public var siRecordsPrev6 = 0
    public var siHeadcountPrev6: Int64 = 0
    /// Bit k set: month offset k (1…12) had arrears.
    public var siArrearsMonths: UInt64 = 0
    /// Electricity use per month offset (1…12), in thousandths of a kWh; absent months absent.
    public var powerMilli: [Int: Int64] = [:]
    public var utilityBills = 0
    public var billsDue12 = 0
    public var billsLate12 = 0
    public var utilityUnpaid36: Int64 = 0
    public var contractsConcluded24 = 0
    public var contractsFulfilled24 = 0
    public var contractBreaches24 = 0
    public var seriousPenalties36 = 0
    public var otherPenalties36 = 0
    public var listedNow = false
    public var listings36 = 0
    public var validLicences = 0
    public var commitmentsKept36 = 0
    public var commitmentsBroken36 = 0
    /// Bit k set: month offset k (1…36) has monthly data (tax, social insurance, utilities).
    public var dataMonths: UInt64 = 0

    public init() {}
}

/// How long a penalty still counts in the features once its publication ended early by credit
/// repair, or ended at `publicity_ends_on`: a scorecard's policy (`penalty_policy`). Within
/// its 36-month window a penalty counts unless the policy says otherwise.
public struct PenaltyPolicy: Sendable, Codable, Equatable {
    /// Months a repaired penalty still counts after the repair (0: no longer from that day;
    /// nil: the whole window).
    public let repairedCountsMonths: Int?
    /// Months a penalty still counts after its publicity ended (nil: the whole window).
    public let unpublishedCountsMonths: Int?

    public init(repairedCountsMonths: Int?, unpublishedCountsMonths: Int?) {
        self.repairedCountsMonths = repairedCountsMonths
        self.unpublishedCountsMonths = unpublishedCountsMonths
    }

    /// Every penalty counts for its whole window (the policy of a card that states none).
    public static let fullWindow = PenaltyPolicy(repairedCountsMonths: nil, unpublishedCountsMonths: nil)

    enum CodingKeys: String, CodingKey {
        case repairedCountsMonths = "repaired_counts_months"
        case unpublishedCountsMonths = "unpublished_counts_months"
    }

    /// The last day a penalty counts under this policy (nil: no earlier end than its window).
    public func countsUntil(_ p: History.Penalty, asOf: Day) -> Day? {
        var end: Day? = nil
        if let m = repairedCountsMonths, let r = p.repairedOn, r <= asOf {
            end = r.addingMonths(m).addingDays(-1)
        }
        if let m = unpublishedCountsMonths {
            let e = p.publicityEndsOn.addingMonths(m)
            end = end.map { Swift.min($0, e) } ?? e
        }
        return end
    }

    /// The policy in words (zh, en), as published with the card.
    public var words: (zh: String, en: String) {
        let repaired: (String, String) =
            switch repairedCountsMonths {
            case nil: ("经信用修复的行政处罚在36个月内仍计入评分", "a repaired penalty still counts for its 36 months")
            case 0?: ("经信用修复的行政处罚自修复之日起不再计入评分", "a repaired penalty stops counting on the day of its repair")
            case let m?: ("经信用修复的行政处罚自修复之日起再计入 \(m) 个月", "a repaired penalty counts \(m) more months after its repair")
            }
        let ended: (String, String) =
            switch unpublishedCountsMonths {
            case nil: ("公示期满的行政处罚在36个月内仍计入评分", "a penalty whose publication period is over still counts for its 36 months")
            case let m?: ("公示期满的行政处罚自期满之日起再计入 \(m) 个月", "a penalty whose publication period is over counts \(m) more months")
            }
        return (repaired.0 + "；" + ended.0 + "。", repaired.1 + "; " + ended.1 + ".")
    }

    /// Whether the penalty still counts on the day.
    public func counts(_ p: History.Penalty, asOf: Day) -> Bool {
        countsUntil(p, asOf: asOf).map { asOf <= $0 } ?? true
    }
}
