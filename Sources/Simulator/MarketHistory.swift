import CreditCore
import Foundation

/// A year (or more) of the marketplace behind the simulated city, for the demo and the
/// statistics benchmark: businesses post demands, banks take them up, pass, grant or decline
/// within working-day deadlines (most of the time), disburse, and report monthly outcomes.
/// Banks see the business's grade; whether a loan goes bad follows the city's hidden truth
/// (`SimEnterprise.wouldDefault`), so model health is measured honestly against it.
/// A pure function of the seed.
public enum MarketHistory {
    /// A demand of the history, with what became of it.
    public typealias Demand = HistoricalDemand

    public static let purposes = [
        "采购原材料", "扩大生产", "流动资金", "设备更新", "农资采购", "支付工资", "订单备货",
    ]
    public static let declineReasons = [
        "insufficient_credit_history", "insufficient_repayment_capacity", "high_existing_debt",
        "industry_policy", "incomplete_documents", "collateral_insufficient",
    ]

    /// - Parameters:
    ///   - grades: the grade banks see for each business (its profile), when it has one.
    ///   - banks: how many banks take part.
    ///   - perMonth: demands per month at the start; the market grows 4% a month.
    public static func plan(
        city: City,
        grades: [String: String],
        banks: Int,
        months: Int,
        perMonth: Int,
        today: Day,
        seed: UInt64
    ) -> [Demand] {
        precondition(banks > 0 && months > 0)
        var r = SplitMix64(seed: seed, 0x4D41_524B)
        let candidates = (0..<city.enterpriseCount).map(city.enterprise).filter { grades[$0.uscc] != nil }
        guard !candidates.isEmpty else { return [] }
        var out: [Demand] = []
        let hour: TimeInterval = 3600
        let day: TimeInterval = 86_400
        let now = moment(today, hour: 12)
        for m in (1...months).reversed() {
            let count = perMonth * Int((pow(1.04, Double(months - m)) * 1000).rounded()) / 1000
            let month = MonthIndex(today).adding(-m + 1)
            let (year, monthNumber) = (month.value / 12, month.value % 12 + 1)
            for _ in 0..<count {
                let e = r.pick(candidates)
                let grade = grades[e.uscc]!
                // Posted on a day of that month (not in the future).
                let postedDay = Day(year: year, month: monthNumber, day: r.int(1...28))!
                guard postedDay < today else { continue }
                let postedAt = moment(postedDay, hour: r.int(8...17)).addingTimeInterval(Double(r.int(0...59)) * 60)
                let scale: Int64 =
                    switch e.sizeClass {
                    case "micro": 1
                    case "small": 3
                    case "medium": 10
                    default: 25
                    }
                let amount = Int64(r.int(10...100)) * 1_000_000 * scale / 2  // 5万 … 1250万 yuan
                let term = r.pick([6, 12, 12, 12, 24, 36])
                let firstLoan = r.chance(0.3)
                let collateral = r.chance(0.25)
                // Banks matched: better grades fit more products.
                let fits =
                    switch grade {
                    case "A": 0.9
                    case "B": 0.75
                    case "C": 0.5
                    default: 0.2
                    }
                let matched = (0..<banks).filter { _ in r.chance(fits) }
                var passed: [Int] = []
                var bank: Int?
                var takenUpAt: Date?
                var granted: Bool?
                var decidedAt: Date?
                var reason: String?
                var rate: Int?
                var disbursedOn: Day?
                var state = "open"
                var closedAt: Date?
                var outcomes: [(String, String)] = []
                let takeUpChance =
                    switch grade {
                    case "A": 0.92
                    case "B": 0.82
                    case "C": 0.6
                    default: 0.3
                    }
                var others: [Demand.OtherPart] = []
                if !matched.isEmpty, r.chance(takeUpChance) {
                    let b = r.pick(matched)
                    // Within 3 working days most of the time; a slow bank now and then.
                    let hours = r.chance(0.9) ? Double(r.int(1...60)) : Double(r.int(80...200))
                    var at = postedAt.addingTimeInterval(hours * hour)
                    // Now and then another matched bank took it up first and declined: the demand was
                    // referred on, and `b` took it up after.
                    if let first = matched.first(where: { $0 != b }), r.chance(grade == "A" ? 0.05 : 0.18) {
                        let declined = at.addingTimeInterval(Double(r.int(4...72)) * hour)
                        let next = declined.addingTimeInterval(Double(r.int(1...48)) * hour)
                        if next < now {
                            others.append(
                                .init(bank: first, takenUpAt: at, decidedAt: declined, declineReason: r.pick(declineReasons), rateBp: nil)
                            )
                            at = next
                        }
                    }
                    if at < now {
                        bank = b
                        takenUpAt = at
                        state = "taken_up"
                        passed = matched.filter { $0 != b && r.chance(0.3) }
                        let decideHours = r.chance(0.9) ? Double(r.int(4...200)) : Double(r.int(250...400))
                        let decided = at.addingTimeInterval(decideHours * hour)
                        if decided < now {
                            let grantChance =
                                switch grade {
                                case "A": 0.93
                                case "B": 0.85
                                case "C": 0.62
                                default: 0.3
                                }
                            decidedAt = decided
                            if r.chance(grantChance) {
                                granted = true
                                state = "granted"
                                rate = r.int(365...650)
                                // Often a second bank offered too, dearer, and its offer lapsed.
                                if let rival = matched.first(where: { $0 != b && !others.map(\.bank).contains($0) && !passed.contains($0) }
                                ),
                                    r.chance(0.35)
                                {
                                    let span = decided.timeIntervalSince(at)
                                    others.append(
                                        .init(
                                            bank: rival,
                                            takenUpAt: at.addingTimeInterval(span / 4),
                                            decidedAt: at.addingTimeInterval(span * 3 / 4),
                                            declineReason: nil,
                                            rateBp: min(rate! + r.int(10...120), 2_400)
                                        )
                                    )
                                }
                                let paid = decided.addingTimeInterval(Double(r.int(1...6)) * day)
                                if paid < now, r.chance(0.95) {
                                    state = "disbursed"
                                    disbursedOn = Day.inChina(paid)
                                    outcomes = monthlyOutcomes(
                                        from: Day.inChina(paid),
                                        term: term,
                                        bad: e.wouldDefault,
                                        today: today,
                                        r: &r
                                    )
                                }
                            } else {
                                granted = false
                                state = "declined"
                                reason = r.pick(declineReasons)
                            }
                        }
                    }
                } else if !matched.isEmpty {
                    passed = matched.filter { _ in r.chance(0.5) }
                }
                if state == "open" {
                    let expires = postedAt.addingTimeInterval(30 * day)
                    if expires < now {
                        state = "expired"
                        closedAt = expires
                    } else if r.chance(0.05) {
                        state = "withdrawn"
                        closedAt = min(now, postedAt.addingTimeInterval(Double(r.int(1...10)) * day))
                    }
                }
                passed.removeAll { p in others.contains { $0.bank == p } }
                var planned =
                    Demand(
                        uscc: e.uscc,
                        postedAt: postedAt,
                        amountFen: amount,
                        termMonths: term,
                        firstLoan: firstLoan,
                        collateral: collateral,
                        purpose: r.pick(purposes),
                        matched: matched,
                        passed: passed,
                        bank: bank,
                        takenUpAt: takenUpAt,
                        granted: granted,
                        decidedAt: decidedAt,
                        declineReason: reason,
                        rateBp: rate,
                        disbursedOn: disbursedOn,
                        state: state,
                        closedAt: closedAt,
                        outcomes: outcomes
                    )
                planned.others = others
                out.append(planned)
            }
        }
        return out
    }

    /// From the month of disbursement to last month: `current` until repaid at term's end;
    /// a loan that goes bad slips to 30 and 90 days overdue, then defaults.
    static func monthlyOutcomes(from start: Day, term: Int, bad: Bool, today: Day, r: inout SplitMix64) -> [(String, String)] {
        let first = MonthIndex(start)
        let last = MonthIndex(today).adding(-1)
        guard first <= last else { return [] }
        let slip = bad ? r.int(1...max(1, min(term, 4))) : Int.max
        var out: [(String, String)] = []
        var m = first
        var k = 0
        while m <= last {
            let status: String
            if k >= term {
                status = "repaid"
            } else if k < slip {
                status = "current"
            } else if k == slip {
                status = "overdue_30"
            } else if k <= slip + 2 {
                status = "overdue_90"
            } else {
                status = "defaulted"
            }
            out.append((m.description, status))
            if status == "repaid" || status == "defaulted" { break }
            m = m.adding(1)
            k += 1
        }
        return out
    }

    static let china = TimeZone(identifier: "Asia/Shanghai")!

    static func moment(_ d: Day, hour: Int) -> Date {
        var c = DateComponents()
        (c.year, c.month, c.day, c.hour) = (d.year, d.month, d.day, hour)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = china
        return cal.date(from: c)!
    }
}
