/// Credit commitments (信用承诺) whose fulfilment the ingested data can check. A business makes
/// one for a period; it is `in_progress` until the period ends, `kept` if nothing broke it by
/// then, `broken` by the first record that did — evaluated again whenever records arrive (late
/// data can break a commitment already kept).
public enum Commitments {
    public enum Kind: String, CaseIterable, Sendable {
        case taxOnTime = "tax_on_time"
        case noSocialInsuranceArrears = "no_social_insurance_arrears"
        case utilitiesOnTime = "utilities_on_time"
        case noContractBreach = "no_contract_breach"
        case noNewPenalty = "no_new_penalty"

        public var zh: String {
            switch self {
            case .taxOnTime: "按期申报并足额缴纳税款"
            case .noSocialInsuranceArrears: "不拖欠社会保险费"
            case .utilitiesOnTime: "按期缴纳水电气费"
            case .noContractBreach: "不发生合同违约"
            case .noNewPenalty: "不发生新的行政处罚"
            }
        }

        public var en: String {
            switch self {
            case .taxOnTime: "file and pay taxes on time and in full"
            case .noSocialInsuranceArrears: "no social-insurance arrears"
            case .utilitiesOnTime: "pay water, power and gas bills on time"
            case .noContractBreach: "no contract breach"
            case .noNewPenalty: "no new administrative penalty"
            }
        }

        public var dataset: Dataset {
            switch self {
            case .taxOnTime: .taxFiling
            case .noSocialInsuranceArrears: .socialInsurance
            case .utilitiesOnTime: .utilityBill
            case .noContractBreach: .contractPerformance
            case .noNewPenalty: .administrativePenalty
            }
        }
    }

    /// The periods a commitment may run for, in months.
    public static let periods: Set<Int> = [3, 6, 12]

    public enum State: String, Sendable {
        case inProgress = "in_progress"
        case kept
        case broken
    }

    public struct Evaluation: Sendable, Equatable {
        public let state: State
        /// The record that broke it.
        public let brokenBy: String?
    }

    /// The commitment's state on `today`, from the business's history. A record counts when its
    /// obligation falls in the period `[startsOn, endsOn]` (a return's or bill's due day, a
    /// month of insurance, a contract's due day, a penalty's decision).
    public static func evaluate(_ kind: Kind, startsOn: Day, endsOn: Day, history h: History, today: Day) -> Evaluation {
        func within(_ d: Day) -> Bool { d >= startsOn && d <= endsOn && d <= today }
        let startMonth = MonthIndex(startsOn)
        let endMonth = MonthIndex(endsOn)
        var breaking: [(Day, String)] = []
        switch kind {
        case .taxOnTime:
            for f in h.taxFilings where within(f.dueOn) {
                let late = f.filedOn.map { $0 > f.dueOn } ?? (today > f.dueOn)
                // Paid short: broken once the due day has passed (it may still be paid in full on it).
                if late || (f.taxPaidFen < f.taxPayableFen && today > f.dueOn) { breaking.append((f.dueOn, f.id)) }
            }
        case .noSocialInsuranceArrears:
            for s in h.socialInsurance where s.period >= startMonth && s.period <= endMonth && s.inArrears {
                let first = Day(year: s.period.value / 12, month: s.period.value % 12 + 1, day: 1)!
                if first <= today { breaking.append((first, s.id)) }
            }
        case .utilitiesOnTime:
            for b in h.utilityBills where within(b.dueOn) {
                let late = b.paidOn.map { $0 > b.dueOn } ?? (today > b.dueOn)
                if late || (b.paidFen < b.billedFen && today > b.dueOn) { breaking.append((b.dueOn, b.id)) }
            }
        case .noContractBreach:
            for c in h.contracts where within(c.dueOn) && (c.status == "breached" || c.status == "overdue") {
                breaking.append((c.dueOn, c.id))
            }
        case .noNewPenalty:
            for p in h.penalties where within(p.decidedOn) { breaking.append((p.decidedOn, p.id)) }
        }
        if let first = breaking.min(by: { ($0.0, $0.1) < ($1.0, $1.1) }) { return Evaluation(state: .broken, brokenBy: first.1) }
        return Evaluation(state: today > endsOn ? .kept : .inProgress, brokenBy: nil)
    }

    /// How many days before an obligation's due day an unmet one puts a commitment at risk.
    public static let riskHorizonDays = 7

    /// An obligation of a running commitment not yet broken but at risk: the record and its due day.
    public struct Risk: Sendable, Equatable {
        public let recordId: String
        public let dueOn: Day
    }

    /// What puts a running commitment at risk on `today`, from what the records show before
    /// anything is broken: a return or bill of the period due within `riskHorizonDays` and not yet
    /// filed or paid in full; a contract of the period reported disputed, or reported breached or
    /// overdue before its due day. Arrears and penalties break a commitment at once: no warning
    /// can come before them. Empty once the commitment is kept or broken.
    public static func atRisk(_ kind: Kind, startsOn: Day, endsOn: Day, history h: History, today: Day) -> [Risk] {
        guard evaluate(kind, startsOn: startsOn, endsOn: endsOn, history: h, today: today).state == .inProgress else { return [] }
        let horizon = today.addingDays(riskHorizonDays)
        func soon(_ d: Day) -> Bool { d >= startsOn && d <= endsOn && d >= today && d <= horizon }
        var out: [Risk] = []
        switch kind {
        case .taxOnTime:
            for f in h.taxFilings where soon(f.dueOn) && f.filedOn == nil { out.append(Risk(recordId: f.id, dueOn: f.dueOn)) }
        case .utilitiesOnTime:
            for b in h.utilityBills where soon(b.dueOn) && (b.paidOn == nil || b.paidFen < b.billedFen) {
                out.append(Risk(recordId: b.id, dueOn: b.dueOn))
            }
        case .noContractBreach:
            for c in h.contracts where c.dueOn >= startsOn && c.dueOn <= endsOn {
                if c.status == "disputed" || (c.dueOn > today && (c.status == "breached" || c.status == "overdue")) {
                    out.append(Risk(recordId: c.id, dueOn: c.dueOn))
                }
            }
        case .noSocialInsuranceArrears, .noNewPenalty: break
        }
        return out.sorted { ($0.dueOn, $0.recordId) < ($1.dueOn, $1.recordId) }
    }
}
