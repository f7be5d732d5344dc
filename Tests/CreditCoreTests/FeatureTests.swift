import Testing

@testable import CreditCore

/// Features on hand-made histories, as of 2026-06-15 (the as-of month is June 2026, so the
/// last 12 complete months are 2025-06 … 2026-05).
@Suite struct FeatureTests {
    static let uscc = "91350100M000100Y43"
    static let asOf = Day("2026-06-15")!

    func d(_ s: String) -> Day { Day(s)! }
    func m(_ s: String) -> MonthIndex { MonthIndex(period: s)! }

    func tax(_ id: String, _ period: String, paid: Int64, due: String, filed: String?, payable: Int64? = nil) -> History.TaxFiling {
        .init(
            id: id,
            period: m(period),
            taxType: "vat",
            declaredRevenueFen: paid * 10,
            taxPayableFen: payable ?? paid,
            taxPaidFen: paid,
            dueOn: d(due),
            filedOn: filed.map(d)
        )
    }

    @Test func anEmptyHistoryHasMissingValuesAndZeroCounts() {
        let f = Features.compute(History(uscc: Self.uscc), asOf: Self.asOf)
        #expect(f[.monthsInBusiness] == .missing)
        #expect(f[.taxOnTimeRate12m] == .missing)
        #expect(f[.taxPaidTrend] == .missing)
        #expect(f[.headcountAvg12m] == .missing)
        #expect(f[.electricityTrend] == .missing)
        #expect(f[.contractFulfilmentRate24m] == .missing)
        #expect(f[.seriousPenalties36m] == .number(0))
        #expect(f[.blacklistedNow] == .number(0))
        #expect(f.dataMonths == 0)
        #expect(Feature.allCases.allSatisfy { f.values[$0] != nil }, "every feature has a value, if only missing")
    }

    @Test func monthsInBusinessCountsWholeMonths() {
        var h = History(uscc: Self.uscc)
        h.add(
            .enterpriseRegistry,
            recordId: Self.uscc,
            data: [
                "name": "南通测试有限公司", "entity_type": "company", "established_on": "2024-06-16", "registered_capital_fen": 100,
                "industry_code": "C17", "district_code": "320602", "size_class": "small", "status": "active", "legal_rep_name": "张伟",
            ]
        )
        #expect(h.unreadable.isEmpty)
        let f = Features.compute(h, asOf: Self.asOf)
        #expect(f[.monthsInBusiness] == .number(23))  // 2024-06-16 → 2026-06-15: one day short of 24
        #expect(f[.registrationStatus] == .category("active"))
        // Established after the as-of date (a register as of the past): zero, not negative.
        #expect(Features.compute(h, asOf: d("2024-01-01"))[.monthsInBusiness] == .number(0))
    }

    @Test func taxWindowsEdgesTrendAndUnpaid() {
        var h = History(uscc: Self.uscc)
        // Due 2025-06-15 is exactly 12 months back: outside the window (asOf − 12 months, asOf].
        h.taxFilings.append(tax("t0", "2025-05", paid: 999, due: "2025-06-15", filed: nil))
        // Inside: due 2025-06-16 … 2026-06-15.
        h.taxFilings.append(tax("t1", "2025-06", paid: 100, due: "2025-07-15", filed: "2025-07-10"))
        h.taxFilings.append(tax("t2", "2025-12", paid: 100, due: "2026-01-15", filed: "2026-01-20"))  // late
        h.taxFilings.append(tax("t3", "2026-05", paid: 300, due: "2026-06-15", filed: "2026-06-15"))  // on the day: on time
        // The as-of month's own return is not yet in the monthly windows; due later: not counted.
        h.taxFilings.append(tax("t4", "2026-06", paid: 500, due: "2026-07-15", filed: nil))
        // Unpaid: payable above paid, due within 36 months.
        h.taxFilings.append(tax("t5", "2024-01", paid: 50, due: "2024-02-15", filed: "2024-02-01", payable: 80))
        let f = Features.compute(h, asOf: Self.asOf, lineage: true)
        #expect(f[.taxOnTimeRate12m] == .number(6666))  // 2 of 3
        #expect(f[.taxPaid12m] == .number(500))  // t1 + t2 + t3 (periods 2025-06 … 2026-05)
        // Last 6 periods (2025-12 … 2026-05): 400; the 6 before (2025-06 … 2025-11): 100 → +300%.
        #expect(f[.taxPaidTrend] == .number(30_000))
        #expect(f[.unpaidTax] == .number(30))
        #expect(f.lineage[.taxOnTimeRate12m] == ["t1", "t2", "t3"].map { RecordRef(.taxFiling, $0) })
        #expect(f.lineage[.unpaidTax] == [RecordRef(.taxFiling, "t5")])
        // Months with data: 2025-05, 2025-06, 2025-12, 2026-05, 2024-01 (not the as-of month).
        #expect(f.dataMonths == 5)
    }

    @Test func theLatestTaxGradeUpToTheAsOfYear() {
        var h = History(uscc: Self.uscc)
        h.taxRatings = [
            .init(id: "r1", year: 2024, grade: "B"), .init(id: "r2", year: 2025, grade: "A"), .init(id: "r3", year: 2027, grade: "D"),
        ]
        #expect(Features.compute(h, asOf: Self.asOf)[.taxCreditGrade] == .category("A"))
        #expect(Features.compute(h, asOf: d("2024-12-31"))[.taxCreditGrade] == .category("B"))
        #expect(Features.compute(h, asOf: d("2023-12-31"))[.taxCreditGrade] == .missing)
    }

    @Test func socialInsuranceAverageTrendAndArrears() {
        var h = History(uscc: Self.uscc)
        for (i, p) in ["2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11"].enumerated() {
            h.socialInsurance.append(.init(id: "s\(i)", period: m(p), headcount: 20, dueFen: 100, paidFen: 100, inArrears: false))
        }
        for (i, p) in ["2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05"].enumerated() {
            h.socialInsurance.append(
                .init(id: "u\(i)", period: m(p), headcount: 15, dueFen: 100, paidFen: i < 2 ? 0 : 100, inArrears: i < 2)
            )
        }
        let f = Features.compute(h, asOf: Self.asOf)
        #expect(f[.headcountAvg12m] == .number(17))  // (6 × 20 + 6 × 15) / 12 = 17.5, rounded down
        #expect(f[.headcountTrend] == .number(-2500))
        #expect(f[.socialInsuranceArrears12m] == .number(2))
        #expect(f.dataMonths == 12)
    }

    @Test func electricityTrendVolatilityAndLateBills() {
        var h = History(uscc: Self.uscc)
        let periods = [
            "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04",
            "2026-05",
        ]
        for (i, p) in periods.enumerated() {
            let use: Int64 = i < 6 ? 1_000_000 : 500_000  // 1000 kWh, then 500 kWh (in thousandths)
            let due = MonthIndex(period: p)!.adding(1)
            let dueDay = Day(year: due.value / 12, month: due.value % 12 + 1, day: 20)!
            h.utilityBills.append(
                .init(
                    id: "e\(i)",
                    utility: "electricity",
                    period: m(p),
                    consumptionMilli: use,
                    billedFen: 100,
                    paidFen: i == 11 ? 0 : 100,
                    dueOn: dueDay,
                    paidOn: i == 11 ? nil : (i == 10 ? dueDay.addingMonths(1) : dueDay)
                )
            )
        }
        // Water does not count towards electricity use.
        h.utilityBills.append(
            .init(
                id: "w1",
                utility: "water",
                period: m("2026-05"),
                consumptionMilli: 99_000_000,
                billedFen: 10,
                paidFen: 10,
                dueOn: d("2026-06-10"),
                paidOn: d("2026-06-01")
            )
        )
        let f = Features.compute(h, asOf: Self.asOf)
        #expect(f[.electricityTrend] == .number(-5000))
        // Mean 750 kWh, every month 250 away: 3333 bp.
        #expect(f[.electricityVolatility12m] == .number(3333))
        // Bills due in (2025-06-15, 2026-06-15]: 2025-07-20 … 2026-06-20 → 11 of the electricity ones (the last is due
        // 2026-06-20, after the as-of date) plus water: 12. Late: the one paid a month late (i = 10). The unpaid one (i = 11)
        // is not yet due.
        #expect(f[.utilityLateRate12m] == .number(833))
        #expect(f[.utilityUnpaid] == .number(0))
        #expect(History.milli("32962.5") == 32_962_500)
        #expect(History.milli("7") == 7_000)
        #expect(History.milli("-1") == nil && History.milli("") == nil && History.milli("1.2.3") == nil)
    }

    @Test func contractsPenaltiesListingsAndLicences() {
        var h = History(uscc: Self.uscc)
        h.contracts = [
            .init(
                id: "c1",
                signedOn: d("2025-01-01"),
                dueOn: d("2025-06-01"),
                amountFen: 1,
                status: "fulfilled",
                settledOn: d("2025-05-01")
            ),
            .init(id: "c2", signedOn: d("2025-02-01"), dueOn: d("2025-06-01"), amountFen: 1, status: "breached", settledOn: nil),
            .init(id: "c3", signedOn: d("2026-03-01"), dueOn: d("2026-09-01"), amountFen: 1, status: "performing", settledOn: nil),
            // 24 months back: outside
            .init(id: "c4", signedOn: d("2024-06-15"), dueOn: d("2024-09-01"), amountFen: 1, status: "disputed", settledOn: nil),
        ]
        h.penalties = [
            .init(
                id: "p1",
                decisionNo: "1",
                authority: "a",
                violation: "v",
                decidedOn: d("2024-01-01"),
                severity: "serious",
                fineFen: 1,
                publicityEndsOn: d("2025-01-01")
            ),
            .init(
                id: "p2",
                decisionNo: "2",
                authority: "a",
                violation: "v",
                decidedOn: d("2026-01-01"),
                severity: "minor",
                fineFen: 1,
                publicityEndsOn: d("2026-04-01")
            ),
            .init(
                id: "p3",
                decisionNo: "3",
                authority: "a",
                violation: "v",
                decidedOn: d("2023-06-15"),
                severity: "serious",
                fineFen: 1,
                publicityEndsOn: d("2024-06-15")
            ),
        ]
        h.listings = [
            .init(
                id: "l1",
                listType: "wage_arrears",
                caseNo: "x",
                authority: "a",
                listedOn: d("2026-02-01"),
                removedOn: nil,
                amountFen: nil
            ),
            .init(
                id: "l2",
                listType: "judgment_defaulter",
                caseNo: "y",
                authority: "a",
                listedOn: d("2020-01-01"),
                removedOn: d("2021-01-01"),
                amountFen: 5
            ),
        ]
        h.licences = [
            .init(id: "k1", title: "t", decidedOn: d("2020-01-01"), validUntil: nil),
            .init(id: "k2", title: "t", decidedOn: d("2020-01-01"), validUntil: d("2026-06-14")),
            .init(id: "k3", title: "t", decidedOn: d("2020-01-01"), validUntil: d("2026-06-15")),
        ]
        let f = Features.compute(h, asOf: Self.asOf, lineage: true)
        #expect(f[.contractFulfilmentRate24m] == .number(5000))
        #expect(f[.contractBreaches24m] == .number(1))
        #expect(f[.seriousPenalties36m] == .number(1))
        #expect(f[.otherPenalties36m] == .number(1))
        #expect(f[.blacklistedNow] == .number(1))
        #expect(f[.listings36m] == .number(1))
        #expect(f[.validLicences] == .number(2))
        #expect(f.lineage[.blacklistedNow] == [RecordRef(.dishonestyListing, "l1")])
        // As of before the listing and after its removal.
        #expect(Features.compute(h, asOf: d("2026-01-31"))[.blacklistedNow] == .number(0))
        var removed = h
        removed.listings[0].removedOn = d("2026-06-15")
        #expect(Features.compute(removed, asOf: Self.asOf)[.blacklistedNow] == .number(0))
    }

    @Test func aRecordThatDoesNotReadIsSetAsideNotGuessed() {
        var h = History(uscc: Self.uscc)
        h.add(.taxFiling, recordId: "bad", data: ["period": "2026-13"])
        #expect(h.unreadable == [RecordRef(.taxFiling, "bad")])
        #expect(h.recordCount == 0)
    }

    func penalty(_ id: String, decided: String, ends: String, repaired: String? = nil) -> History.Penalty {
        .init(
            id: id,
            decisionNo: id,
            authority: "a",
            violation: "v",
            decidedOn: d(decided),
            severity: "serious",
            fineFen: 1,
            publicityEndsOn: d(ends),
            repairedOn: repaired.map(d)
        )
    }

    @Test func aPenaltyPolicyDecidesHowLongRepairedAndUnpublishedPenaltiesCount() {
        var h = History(uscc: Self.uscc)
        h.penalties = [
            penalty("p1", decided: "2025-01-10", ends: "2026-01-10", repaired: "2025-09-01"),  // repaired, publicity cut short
            penalty("p2", decided: "2024-03-01", ends: "2025-03-01"),  // publicity over 15 months ago
            penalty("p3", decided: "2026-01-01", ends: "2027-01-01", repaired: "2026-07-01"),  // repaired after the as-of day
        ]
        func serious(_ p: PenaltyPolicy, _ day: Day = Self.asOf) -> FeatureValue {
            Features.compute(h, asOf: day, policy: p)[.seriousPenalties36m]
        }
        #expect(serious(.fullWindow) == .number(3), "no policy: every penalty counts its 36 months")
        // Repaired ones stop counting on the repair day; p3's repair is not yet known on the as-of day.
        #expect(serious(PenaltyPolicy(repairedCountsMonths: 0, unpublishedCountsMonths: nil)) == .number(2))
        #expect(
            serious(PenaltyPolicy(repairedCountsMonths: 0, unpublishedCountsMonths: nil), d("2025-08-31")) == .number(2),
            "the day before the repair it still counts (p3 not yet decided)"
        )
        // Repaired ones count 12 months after the repair: p1 until 2026-08-31.
        #expect(serious(PenaltyPolicy(repairedCountsMonths: 12, unpublishedCountsMonths: nil)) == .number(3))
        #expect(
            serious(PenaltyPolicy(repairedCountsMonths: 12, unpublishedCountsMonths: nil), d("2026-09-01")) == .number(2),
            "p1 a year after its repair no longer counts; p3, repaired two months before, and p2 still do"
        )
        #expect(serious(PenaltyPolicy(repairedCountsMonths: 0, unpublishedCountsMonths: nil), d("2026-09-01")) == .number(1), "only p2")
        // Unpublished ones count 12 months after publicity ends: p2 until 2026-03-01, p1 until 2027-01-10.
        #expect(serious(PenaltyPolicy(repairedCountsMonths: nil, unpublishedCountsMonths: 12)) == .number(2))
        #expect(serious(PenaltyPolicy(repairedCountsMonths: nil, unpublishedCountsMonths: 12), d("2026-03-01")) == .number(3))
        // Both: the earlier end wins.
        #expect(serious(PenaltyPolicy(repairedCountsMonths: 0, unpublishedCountsMonths: 0)) == .number(1))
    }

    @Test func keptAndBrokenCommitmentsAreFeaturesJudgedOnTheDay() {
        var h = History(uscc: Self.uscc)
        h.taxFilings = [
            tax("t1", "2025-08", paid: 100, due: "2025-09-15", filed: "2025-09-10"),
            tax("t2", "2025-09", paid: 100, due: "2025-10-15", filed: "2025-10-12"),
            tax("t3", "2026-02", paid: 100, due: "2026-03-15", filed: "2026-03-20"),  // late
        ]
        h.commitments = [
            .init(id: "a", kind: .taxOnTime, startsOn: d("2025-09-01"), endsOn: d("2025-11-30")),  // kept
            .init(id: "b", kind: .taxOnTime, startsOn: d("2026-03-01"), endsOn: d("2026-08-31")),  // broken by t3
            .init(id: "c", kind: .noNewPenalty, startsOn: d("2026-05-01"), endsOn: d("2026-10-31")),  // running
            .init(id: "d", kind: .noNewPenalty, startsOn: d("2023-01-01"), endsOn: d("2023-06-30")),  // before the window
        ]
        var f = Features.compute(h, asOf: Self.asOf, lineage: true)
        #expect(f[.commitmentsKept36m] == .number(1))
        #expect(f[.commitmentsBroken36m] == .number(1))
        #expect(f.lineage[.commitmentsBroken36m] == [RecordRef(.taxFiling, "t3")])
        // As of a day before t3 was due, b was still running.
        #expect(Features.compute(h, asOf: d("2026-03-10"))[.commitmentsBroken36m] == .number(0))
        // Late data: a penalty decided inside c's period breaks it.
        h.penalties = [penalty("p", decided: "2026-06-01", ends: "2026-09-01")]
        f = Features.compute(h, asOf: Self.asOf)
        #expect(f[.commitmentsBroken36m] == .number(2))
        // A commitment not yet begun on the as-of day does not count: on 2025-08-31 only d (begun
        // within 36 months) is kept; a starts the next day.
        #expect(Features.compute(h, asOf: d("2025-08-31"))[.commitmentsKept36m] == .number(1))
        #expect(Features.compute(h, asOf: d("2026-01-02"))[.commitmentsKept36m] == .number(1), "d fell out of the window, a is kept")
    }
}
