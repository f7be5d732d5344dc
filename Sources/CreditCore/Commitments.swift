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
                if late || f.taxPaidFen < f.taxPayableFen { breaking.append((f.dueOn, f.id)) }
            }
        case .noSocialInsuranceArrears:
            for s in h.socialInsurance where s.period >= startMonth && s.period <= endMonth && s.inArrears {
                let first = Day(year: s.period.value / 12, month: s.period.value % 12 + 1, day: 1)!
                if first <= today { breaking.append((first, s.id)) }
            }
        case .utilitiesOnTime:
            for b in h.utilityBills where within(b.dueOn) {
                let late = b.paidOn.map { $0 > b.dueOn } ?? (today > b.dueOn)
                if late || b.paidFen < b.billedFen { breaking.append((b.dueOn, b.id)) }
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
}
