import Testing

@testable import CreditCore

/// Five years from the end of the behaviour (征信业管理条例 第十六条), kind by kind.
@Suite struct RetentionTests {
    let today = Day(year: 2026, month: 12, day: 1)!

    func penalty(_ decided: Day) -> History.Penalty {
        History.Penalty(
            id: "P\(decided)",
            decisionNo: "x",
            authority: "a",
            violation: "v",
            decidedOn: decided,
            severity: "general",
            fineFen: 1,
            publicityEndsOn: decided.addingMonths(3)
        )
    }

    @Test func negativeRecordsAgeOutFiveYearsAfterTheBehaviourEnded() {
        var h = History(uscc: "U")
        // Exactly five years ago: still provided today; a day more: no longer.
        h.penalties = [penalty(Day(year: 2021, month: 12, day: 1)!), penalty(Day(year: 2021, month: 11, day: 30)!)]
        h.listings = [
            .init(
                id: "L-old",
                listType: "judgment_defaulter",
                caseNo: "c",
                authority: "a",
                listedOn: Day(year: 2015, month: 1, day: 1)!,
                removedOn: Day(year: 2021, month: 11, day: 30)!,
                amountFen: nil
            ),
            .init(
                id: "L-on",
                listType: "judgment_defaulter",
                caseNo: "c",
                authority: "a",
                listedOn: Day(year: 2015, month: 1, day: 1)!,
                removedOn: nil,
                amountFen: nil
            ),
        ]
        h.contracts = [
            .init(
                id: "C-breach",
                signedOn: Day(year: 2019, month: 1, day: 1)!,
                dueOn: Day(year: 2020, month: 1, day: 1)!,
                amountFen: 1,
                status: "breached",
                settledOn: nil
            ),
            .init(
                id: "C-fine",
                signedOn: Day(year: 2019, month: 1, day: 1)!,
                dueOn: Day(year: 2020, month: 1, day: 1)!,
                amountFen: 1,
                status: "fulfilled",
                settledOn: Day(year: 2020, month: 1, day: 1)!
            ),
        ]
        h.utilityBills = [
            .init(
                id: "U-late",
                utility: "water",
                period: MonthIndex(Day(year: 2020, month: 1, day: 1)!),
                consumptionMilli: 1,
                billedFen: 10,
                paidFen: 10,
                dueOn: Day(year: 2020, month: 1, day: 20)!,
                paidOn: Day(year: 2020, month: 3, day: 1)!
            ),
            .init(
                id: "U-unpaid",
                utility: "water",
                period: MonthIndex(Day(year: 2019, month: 1, day: 1)!),
                consumptionMilli: 1,
                billedFen: 10,
                paidFen: 0,
                dueOn: Day(year: 2019, month: 1, day: 20)!,
                paidOn: nil
            ),
        ]
        h.taxFilings = [
            .init(
                id: "T-late",
                period: MonthIndex(Day(year: 2020, month: 1, day: 1)!),
                taxType: "vat",
                declaredRevenueFen: 1,
                taxPayableFen: 5,
                taxPaidFen: 5,
                dueOn: Day(year: 2020, month: 2, day: 15)!,
                filedOn: Day(year: 2020, month: 4, day: 1)!
            ),
            .init(
                id: "T-unpaid",
                period: MonthIndex(Day(year: 2019, month: 1, day: 1)!),
                taxType: "vat",
                declaredRevenueFen: 1,
                taxPayableFen: 5,
                taxPaidFen: 0,
                dueOn: Day(year: 2019, month: 2, day: 15)!,
                filedOn: Day(year: 2019, month: 2, day: 10)!
            ),
        ]
        let kept = h.retained(on: today)
        #expect(kept.penalties.map(\.decidedOn) == [Day(year: 2021, month: 12, day: 1)!])
        // A listing still in force has not ended: kept however old.
        #expect(kept.listings.map(\.id) == ["L-on"])
        // A breach ends at settlement, or its due day; a fulfilled contract is not negative.
        #expect(kept.contracts.map(\.id) == ["C-fine"])
        // Paid late: ended on payment; unpaid: not ended.
        #expect(kept.utilityBills.map(\.id) == ["U-unpaid"])
        #expect(kept.taxFilings.map(\.id) == ["T-unpaid"])
        // The same history as of a moment when they were within five years keeps them.
        let then = h.retained(on: Day(year: 2024, month: 1, day: 1)!)
        #expect(then.penalties.count == 2 && then.listings.count == 2 && then.contracts.count == 2 && then.utilityBills.count == 2)
    }

    @Test func noFeatureLooksFurtherBackThanFiveYears() {
        #expect(Retention.featureWindowsWithin)
    }
}
