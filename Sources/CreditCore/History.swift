import Foundation

/// A record's identity, for lineage.
public struct RecordRef: Hashable, Sendable, Codable, Comparable {
    public let dataset: Dataset
    public let recordId: String

    public init(_ dataset: Dataset, _ recordId: String) {
        self.dataset = dataset
        self.recordId = recordId
    }

    public static func < (a: RecordRef, b: RecordRef) -> Bool {
        (a.dataset.rawValue, a.recordId) < (b.dataset.rawValue, b.recordId)
    }

    enum CodingKeys: String, CodingKey {
        case dataset
        case recordId = "record_id"
    }
}

/// A calendar month as one integer (year × 12 + month − 1), for window arithmetic.
public struct MonthIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let value: Int
    public init(_ value: Int) { self.value = value }
    public init(year: Int, month: Int) { value = year * 12 + month - 1 }
    public init(_ day: Day) { self.init(year: day.year, month: day.month) }
    /// `YYYY-MM`, strictly.
    public init?(period: String) {
        let u = Array(period.utf8)
        guard u.count == 7, u[4] == 0x2D, let y = Day.digits(u[0..<4]), let m = Day.digits(u[5..<7]), (1...12).contains(m) else {
            return nil
        }
        self.init(year: y, month: m)
    }
    public static func < (a: MonthIndex, b: MonthIndex) -> Bool { a.value < b.value }
    public func adding(_ n: Int) -> MonthIndex { MonthIndex(value + n) }
    public var description: String {
        let y = value / 12
        let m = value % 12 + 1
        return String(y).leftPadded(4) + "-" + String(m).leftPadded(2)
    }
}

extension Day {
    /// China Standard Time (UTC+8, no daylight saving): the providers' and the city's calendar.
    public static let chinaOffsetSeconds = 8 * 3600

    /// The day in China at a moment.
    public static func inChina(_ moment: Date) -> Day {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: chinaOffsetSeconds)!
        let c = calendar.dateComponents([.year, .month, .day], from: moment)
        return Day(year: c.year!, month: c.month!, day: c.day!)!
    }

    public static func todayInChina() -> Day { inChina(Date()) }

    /// The same day `n` months later (or earlier), clamped to the month's length.
    public func addingMonths(_ n: Int) -> Day {
        let m = MonthIndex(self).adding(n)
        let y = m.value / 12
        let mo = m.value % 12 + 1
        return Day(year: y, month: mo, day: min(day, Day.daysIn(year: y, month: mo)))!
    }

    /// Whole months from `self` to `later` (0 when `later` is not after `self`).
    public func wholeMonths(to later: Day) -> Int {
        var n = (later.year - year) * 12 + (later.month - month)
        if later.day < day { n -= 1 }
        return max(0, n)
    }
}

/// One enterprise's current records (the highest version of each, upserts only), typed: what
/// the features are computed from. Built from stored `data` (money already in fen).
public struct History: Sendable, Equatable {
    public struct Registry: Sendable, Equatable {
        public var name: String
        public var entityType: String
        public var establishedOn: Day
        public var registeredCapitalFen: Int64
        public var industryCode: String
        public var districtCode: String
        public var sizeClass: String
        public var status: String
        public var legalRepName: String
        public var legalRepMasked: String?
    }

    public struct TaxFiling: Sendable, Equatable {
        public var id: String
        public var period: MonthIndex
        public var taxType: String
        public var declaredRevenueFen: Int64
        public var taxPayableFen: Int64
        public var taxPaidFen: Int64
        public var dueOn: Day
        public var filedOn: Day?
    }

    public struct TaxRating: Sendable, Equatable {
        public var id: String
        public var year: Int
        public var grade: String
    }

    public struct SocialInsurance: Sendable, Equatable {
        public var id: String
        public var period: MonthIndex
        public var headcount: Int64
        public var dueFen: Int64
        public var paidFen: Int64
        public var inArrears: Bool
    }

    public struct UtilityBill: Sendable, Equatable {
        public var id: String
        public var utility: String
        public var period: MonthIndex
        /// Consumption in thousandths of the unit (kWh or m³), exact.
        public var consumptionMilli: Int64
        public var billedFen: Int64
        public var paidFen: Int64
        public var dueOn: Day
        public var paidOn: Day?
    }

    public struct Contract: Sendable, Equatable {
        public var id: String
        public var signedOn: Day
        public var dueOn: Day
        public var amountFen: Int64
        public var status: String
        public var settledOn: Day?
    }

    public struct Licence: Sendable, Equatable {
        public var id: String
        public var title: String
        public var decidedOn: Day
        public var validUntil: Day?
    }

    public struct Penalty: Sendable, Equatable {
        public var id: String
        public var decisionNo: String
        public var authority: String
        public var violation: String
        public var decidedOn: Day
        public var severity: String
        public var fineFen: Int64
        public var publicityEndsOn: Day
        /// The day an approved credit repair ended its publication early (not a provider's
        /// field: the service's own decision, joined in when histories are read).
        public var repairedOn: Day? = nil
    }

    /// A credit commitment the business made (not a provider's record: the service's own),
    /// evaluated against the history as of a day by `Commitments.evaluate`.
    public struct CommitmentTerm: Sendable, Equatable {
        public var id: String
        public var kind: Commitments.Kind
        public var startsOn: Day
        public var endsOn: Day
        public init(id: String, kind: Commitments.Kind, startsOn: Day, endsOn: Day) {
            self.id = id
            self.kind = kind
            self.startsOn = startsOn
            self.endsOn = endsOn
        }
    }

    public struct Listing: Sendable, Equatable {
        public var id: String
        public var listType: String
        public var caseNo: String
        public var authority: String
        public var listedOn: Day
        public var removedOn: Day?
        public var amountFen: Int64?
    }

    public let uscc: String
    public var registry: Registry?
    public var taxFilings: [TaxFiling] = []
    public var taxRatings: [TaxRating] = []
    public var socialInsurance: [SocialInsurance] = []
    public var utilityBills: [UtilityBill] = []
    public var contracts: [Contract] = []
    public var licences: [Licence] = []
    public var penalties: [Penalty] = []
    public var listings: [Listing] = []
    /// Commitments made by the business (known at the history's moment).
    public var commitments: [CommitmentTerm] = []
    /// Stored records whose data could not be read (none when ingestion validated them).
    public var unreadable: [RecordRef] = []

    public init(uscc: String) { self.uscc = uscc }

    public var recordCount: Int {
        (registry == nil ? 0 : 1) + taxFilings.count + taxRatings.count + socialInsurance.count + utilityBills.count
            + contracts.count + licences.count + penalties.count + listings.count
    }

    /// Adds one current record from its stored `data`; a record that does not read is kept aside.
    public mutating func add(_ dataset: Dataset, recordId: String, data: JSONValue) {
        if !read(dataset, recordId, data) { unreadable.append(RecordRef(dataset, recordId)) }
    }

    mutating func read(_ dataset: Dataset, _ id: String, _ d: JSONValue) -> Bool {
        func s(_ k: String) -> String? { d[k]?.stringValue }
        func day(_ k: String) -> Day? { s(k).flatMap(Day.init) }
        /// nil when absent or not a day; .some(nil) when JSON null.
        func optionalDay(_ k: String) -> Day?? {
            switch d[k] {
            case .null?: return .some(nil)
            case .string(let t)?: return Day(t).map { .some($0) }
            default: return nil
            }
        }
        func int(_ k: String) -> Int64? {
            if case .number(let t)? = d[k] { return Int64(t) }
            return nil
        }
        func month(_ k: String) -> MonthIndex? { s(k).flatMap { MonthIndex(period: $0) } }
        switch dataset {
        case .enterpriseRegistry:
            guard let name = s("name"), let type = s("entity_type"), let est = day("established_on"),
                let cap = int("registered_capital_fen"), let ind = s("industry_code"), let dist = s("district_code"),
                let size = s("size_class"), let status = s("status"), let rep = s("legal_rep_name")
            else { return false }
            registry = Registry(
                name: name,
                entityType: type,
                establishedOn: est,
                registeredCapitalFen: cap,
                industryCode: ind,
                districtCode: dist,
                sizeClass: size,
                status: status,
                legalRepName: rep,
                legalRepMasked: s("legal_rep_id_masked")
            )
        case .taxFiling:
            guard let p = month("period"), let t = s("tax_type"), let rev = int("declared_revenue_fen"),
                let payable = int("tax_payable_fen"), let paid = int("tax_paid_fen"), let due = day("due_on"),
                let filed = optionalDay("filed_on")
            else { return false }
            taxFilings.append(
                TaxFiling(
                    id: id,
                    period: p,
                    taxType: t,
                    declaredRevenueFen: rev,
                    taxPayableFen: payable,
                    taxPaidFen: paid,
                    dueOn: due,
                    filedOn: filed
                )
            )
        case .taxCreditRating:
            guard let y = int("year"), let g = s("grade") else { return false }
            taxRatings.append(TaxRating(id: id, year: Int(y), grade: g))
        case .socialInsurance:
            guard let p = month("period"), let h = int("insured_headcount"), let due = int("contribution_due_fen"),
                let paid = int("contribution_paid_fen"), case .bool(let arrears)? = d["in_arrears"]
            else { return false }
            socialInsurance.append(SocialInsurance(id: id, period: p, headcount: h, dueFen: due, paidFen: paid, inArrears: arrears))
        case .utilityBill:
            guard let u = s("utility"), let p = month("period"), let c = s("consumption").flatMap(History.milli),
                let billed = int("amount_billed_fen"), let paid = int("amount_paid_fen"), let due = day("due_on"),
                let paidOn = optionalDay("paid_on")
            else { return false }
            utilityBills.append(
                UtilityBill(
                    id: id,
                    utility: u,
                    period: p,
                    consumptionMilli: c,
                    billedFen: billed,
                    paidFen: paid,
                    dueOn: due,
                    paidOn: paidOn
                )
            )
        case .contractPerformance:
            guard let signed = day("signed_on"), let due = day("due_on"), let amount = int("amount_fen"),
                let status = s("status"), let settled = optionalDay("settled_on")
            else { return false }
            contracts.append(Contract(id: id, signedOn: signed, dueOn: due, amountFen: amount, status: status, settledOn: settled))
        case .administrativeLicence:
            guard let title = s("title"), let decided = day("decided_on"), let until = optionalDay("valid_until") else { return false }
            licences.append(Licence(id: id, title: title, decidedOn: decided, validUntil: until))
        case .administrativePenalty:
            guard let no = s("decision_no"), let auth = s("authority"), let v = s("violation"), let decided = day("decided_on"),
                let sev = s("severity"), let fine = int("fine_amount_fen"), let ends = day("publicity_ends_on")
            else { return false }
            penalties.append(
                Penalty(
                    id: id,
                    decisionNo: no,
                    authority: auth,
                    violation: v,
                    decidedOn: decided,
                    severity: sev,
                    fineFen: fine,
                    publicityEndsOn: ends
                )
            )
        case .dishonestyListing:
            guard let type = s("list_type"), let caseNo = s("case_no"), let auth = s("authority"), let listed = day("listed_on"),
                let removed = optionalDay("removed_on")
            else { return false }
            let amount: Int64?
            switch d["amount_involved_fen"] {
            case .null?, nil: amount = nil
            case .number(let t)?:
                guard let v = Int64(t) else { return false }
                amount = v
            default: return false
            }
            listings.append(
                Listing(
                    id: id,
                    listType: type,
                    caseNo: caseNo,
                    authority: auth,
                    listedOn: listed,
                    removedOn: removed,
                    amountFen: amount
                )
            )
        }
        return true
    }

    /// A non-negative decimal string in thousandths, exactly (more than 3 fraction digits are cut).
    static func milli(_ text: String) -> Int64? {
        var whole: Int64 = 0
        var frac: Int64 = 0
        var fracDigits = 0
        var seenDot = false
        var digits = 0
        for b in text.utf8 {
            if b == 0x2E, !seenDot {
                seenDot = true
                continue
            }
            guard b >= 0x30 && b <= 0x39 else { return nil }
            let v = Int64(b - 0x30)
            if seenDot {
                if fracDigits < 3 {
                    frac = frac * 10 + v
                    fracDigits += 1
                }
            } else {
                digits += 1
                guard digits <= 15 else { return nil }
                whole = whole * 10 + v
            }
        }
        guard digits > 0 else { return nil }
        while fracDigits < 3 {
            frac *= 10
            fracDigits += 1
        }
        return whole * 1000 + frac
    }
}
