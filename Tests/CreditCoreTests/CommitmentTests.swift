import Testing

@testable import CreditCore

@Suite struct CommitmentTests {
    let start = Day(year: 2026, month: 1, day: 10)!
    let end = Day(year: 2026, month: 4, day: 9)!

    func insurance(_ h: inout History, _ period: String, arrears: Bool) {
        h.socialInsurance.append(
            .init(
                id: "si-\(period)",
                period: MonthIndex(period: period)!,
                headcount: 10,
                dueFen: 100,
                paidFen: arrears ? 0 : 100,
                inArrears: arrears
            )
        )
    }

    @Test func keptInProgressOrBrokenByTheFirstRecordThatBreaksIt() {
        var h = History(uscc: "X")
        insurance(&h, "2026-01", arrears: false)
        insurance(&h, "2026-02", arrears: false)
        insurance(&h, "2025-12", arrears: true)  // before the period: does not count
        let during = Commitments.evaluate(
            .noSocialInsuranceArrears,
            startsOn: start,
            endsOn: end,
            history: h,
            today: Day(year: 2026, month: 3, day: 1)!
        )
        #expect(during == .init(state: .inProgress, brokenBy: nil))
        let after = Commitments.evaluate(
            .noSocialInsuranceArrears,
            startsOn: start,
            endsOn: end,
            history: h,
            today: Day(year: 2026, month: 4, day: 10)!
        )
        #expect(after == .init(state: .kept, brokenBy: nil))
        // Late data: March in arrears arrives after the period ended — kept becomes broken.
        insurance(&h, "2026-03", arrears: true)
        insurance(&h, "2026-04", arrears: true)
        let late = Commitments.evaluate(
            .noSocialInsuranceArrears,
            startsOn: start,
            endsOn: end,
            history: h,
            today: Day(year: 2026, month: 5, day: 2)!
        )
        #expect(late == .init(state: .broken, brokenBy: "si-2026-03"))
    }

    @Test func eachKindReadsItsOwnDataset() {
        var h = History(uscc: "X")
        let today = Day(year: 2026, month: 6, day: 1)!
        // A tax return due in the period, filed late.
        h.taxFilings.append(
            .init(
                id: "t1",
                period: MonthIndex(period: "2026-01")!,
                taxType: "vat",
                declaredRevenueFen: 1,
                taxPayableFen: 10,
                taxPaidFen: 10,
                dueOn: Day(year: 2026, month: 2, day: 15)!,
                filedOn: Day(year: 2026, month: 2, day: 20)!
            )
        )
        #expect(Commitments.evaluate(.taxOnTime, startsOn: start, endsOn: end, history: h, today: today).brokenBy == "t1")
        // A bill paid on time, one unpaid past its due day.
        h.utilityBills.append(
            .init(
                id: "u1",
                utility: "electricity",
                period: MonthIndex(period: "2026-01")!,
                consumptionMilli: 1,
                billedFen: 50,
                paidFen: 50,
                dueOn: Day(year: 2026, month: 2, day: 10)!,
                paidOn: Day(year: 2026, month: 2, day: 9)!
            )
        )
        #expect(Commitments.evaluate(.utilitiesOnTime, startsOn: start, endsOn: end, history: h, today: today).state == .kept)
        h.utilityBills.append(
            .init(
                id: "u2",
                utility: "water",
                period: MonthIndex(period: "2026-02")!,
                consumptionMilli: 1,
                billedFen: 50,
                paidFen: 0,
                dueOn: Day(year: 2026, month: 3, day: 10)!,
                paidOn: nil
            )
        )
        #expect(Commitments.evaluate(.utilitiesOnTime, startsOn: start, endsOn: end, history: h, today: today).brokenBy == "u2")
        // A contract breached, due in the period; a penalty decided in it.
        h.contracts.append(
            .init(
                id: "c1",
                signedOn: Day(year: 2025, month: 6, day: 1)!,
                dueOn: Day(year: 2026, month: 3, day: 1)!,
                amountFen: 1,
                status: "breached",
                settledOn: nil
            )
        )
        #expect(Commitments.evaluate(.noContractBreach, startsOn: start, endsOn: end, history: h, today: today).brokenBy == "c1")
        #expect(Commitments.evaluate(.noNewPenalty, startsOn: start, endsOn: end, history: h, today: today).state == .kept)
        h.penalties.append(
            .init(
                id: "p1",
                decisionNo: "n",
                authority: "a",
                violation: "v",
                decidedOn: Day(year: 2026, month: 4, day: 1)!,
                severity: "minor",
                fineFen: 1,
                publicityEndsOn: Day(year: 2026, month: 10, day: 1)!
            )
        )
        #expect(Commitments.evaluate(.noNewPenalty, startsOn: start, endsOn: end, history: h, today: today).brokenBy == "p1")
    }
    @Test func anUnmetObligationCloseToItsDueDayPutsARunningCommitmentAtRisk() {
        let today = Day(year: 2026, month: 3, day: 1)!
        var h = History(uscc: "X")
        func bill(_ id: String, due: Day, paid: Day?, paidFen: Int64 = 100) {
            h.utilityBills.append(
                .init(
                    id: id,
                    utility: "water",
                    period: MonthIndex(period: "2026-02")!,
                    consumptionMilli: 1,
                    billedFen: 100,
                    paidFen: paid == nil ? 0 : paidFen,
                    dueOn: due,
                    paidOn: paid
                )
            )
        }
        bill("due-today", due: today, paid: nil)
        bill("due-in-7", due: today.addingDays(7), paid: nil)
        bill("due-in-8", due: today.addingDays(8), paid: nil)  // beyond the horizon: not yet
        bill("paid-early", due: today.addingDays(3), paid: today)
        bill("part-paid", due: today.addingDays(2), paid: today, paidFen: 60)
        bill("after-period", due: end.addingDays(1), paid: nil)
        let risks = Commitments.atRisk(.utilitiesOnTime, startsOn: start, endsOn: end, history: h, today: today)
        #expect(risks.map(\.recordId) == ["due-today", "part-paid", "due-in-7"])
        // A day later the first is late: the commitment is broken, and no longer "at risk".
        let tomorrow = today.addingDays(1)
        #expect(Commitments.evaluate(.utilitiesOnTime, startsOn: start, endsOn: end, history: h, today: tomorrow).state == .broken)
        #expect(Commitments.atRisk(.utilitiesOnTime, startsOn: start, endsOn: end, history: h, today: tomorrow).isEmpty)
        // Returns: not yet filed and due within the week; filed ones are not at risk.
        var t = History(uscc: "X")
        for (id, filed) in [("unfiled", nil as Day?), ("filed", today)] {
            t.taxFilings.append(
                .init(
                    id: id,
                    period: MonthIndex(period: "2026-02")!,
                    taxType: "vat",
                    declaredRevenueFen: 1,
                    taxPayableFen: 1,
                    taxPaidFen: 1,
                    dueOn: today.addingDays(5),
                    filedOn: filed
                )
            )
        }
        #expect(Commitments.atRisk(.taxOnTime, startsOn: start, endsOn: end, history: t, today: today).map(\.recordId) == ["unfiled"])
        // Contracts: disputed, or reported breached before the due day.
        var c = History(uscc: "X")
        for (id, status) in [("disputed", "disputed"), ("early-breach", "breached"), ("performing", "performing")] {
            c.contracts.append(
                .init(id: id, signedOn: start, dueOn: end.addingDays(-1), amountFen: 1, status: status, settledOn: nil)
            )
        }
        #expect(
            Commitments.atRisk(.noContractBreach, startsOn: start, endsOn: end, history: c, today: today).map(\.recordId) == [
                "disputed", "early-breach",
            ]
        )
        // Arrears and penalties break at once: nothing to warn of.
        #expect(Commitments.atRisk(.noNewPenalty, startsOn: start, endsOn: end, history: h, today: today).isEmpty)
    }
}
