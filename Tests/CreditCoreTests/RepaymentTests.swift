import CreditCore
import Testing

/// Repayment plans in exact fen: the figures a business compares offers by.
@Suite struct RepaymentTests {
    @Test func equalInstalmentsMatchTheBanksPublishedFigures() {
        // ¥500,000 over 12 months at 4.35%: the published monthly payment is ¥42,654.95.
        let p = Repayment.equalInstalments.plan(principalFen: 50_000_000, months: 12, rateBp: 435)
        #expect(p.monthlyFen == 4_265_495)
        #expect(p.lastFen == 4_265_496)
        #expect(p.totalInterestFen == 118_594_1)
        #expect(p.totalFen == 50_000_000 + p.totalInterestFen)
        #expect(p.monthlyFen * 11 + p.lastFen == p.totalFen)
    }

    @Test func interestOnlyPaysTheInterestMonthlyAndThePrincipalAtTheEnd() {
        let p = Repayment.interestOnly.plan(principalFen: 100_000_000, months: 36, rateBp: 385)
        #expect(p.monthlyFen == 320_833)
        #expect(p.lastFen == 100_320_833)
        #expect(p.totalInterestFen == 320_833 * 36)
        #expect(p.monthlyFen * 35 + p.lastFen == p.totalFen)
    }

    @Test func tinyLoansStillAddUp() {
        for principal: Int64 in [1, 99, 9_999] {
            for r in Repayment.allCases {
                let p = r.plan(principalFen: principal, months: 360, rateBp: 435)
                #expect(p.totalFen == principal + p.totalInterestFen && p.lastFen >= 0 && p.monthlyFen >= 0)
            }
        }
    }

    /// Every loan of ¥1,000 or more: the monthly payments and the last add up to the total.
    @Test func everyPlanAddsUpToTheFen() {
        for rate in [0, 1, 300, 435, 1_999, 3_600] {
            for months in [1, 2, 7, 12, 60, 360] {
                for principal: Int64 in [100_000, 1_000_000, 123_456_789, 100_000_000_000] {
                    for r in Repayment.allCases {
                        let p = r.plan(principalFen: principal, months: months, rateBp: rate)
                        #expect(p.monthlyFen * Int64(months - 1) + p.lastFen == p.totalFen, "\(r) \(principal) \(months) \(rate)")
                        #expect(p.totalFen == principal + p.totalInterestFen)
                        #expect(p.totalInterestFen >= 0)
                        if rate == 0 { #expect(p.totalInterestFen == 0) }
                    }
                }
            }
        }
    }
}
