import Testing

@testable import CreditCore

@Suite struct PublicityTests {
    let decided = Day(year: 2025, month: 3, day: 10)!

    @Test func theWindowIsKeptWithinTheRules() {
        // General penalty, the provider says one month: at least three.
        let short = Publicity.window(
            decidedOn: decided,
            providerEndsOn: Day(year: 2025, month: 4, day: 10)!,
            authority: "南通市生态环境局",
            violation: "超标排放污染物"
        )
        #expect(
            short.endsOn == Day(year: 2025, month: 6, day: 10)! && short.providerEndsOn == Day(year: 2025, month: 4, day: 10)!
                && short.category == nil
        )
        // Food, drugs, special equipment, work safety, fire: at least a year.
        for (authority, violation, category) in [
            ("南通市市场监督管理局", "特种设备未经定期检验继续使用", "special_equipment"), ("某区卫健委", "食品安全违规", "food"),
            ("南通市应急管理局", "安全生产管理不到位", "work_safety"), ("南通市消防救援支队", "消防设施未保持完好", "fire"),
            ("某药监分局", "药品储存不当", "drugs"),
        ] {
            let w = Publicity.window(
                decidedOn: decided,
                providerEndsOn: Day(year: 2025, month: 9, day: 10)!,
                authority: authority,
                violation: violation
            )
            #expect(w.endsOn == Day(year: 2026, month: 3, day: 10)! && w.category == category, "\(authority) \(violation)")
            #expect(w.repairableFrom == Day(year: 2026, month: 3, day: 10)!)
        }
        // A market-regulation bureau decides in many fields: its name alone sets no category (a
        // wrong rule before: every one of its penalties got a year).
        let market = Publicity.window(
            decidedOn: decided,
            providerEndsOn: Day(year: 2025, month: 4, day: 10)!,
            authority: "南通市市场监督管理局",
            violation: "销售不合格产品"
        )
        #expect(market.category == nil && market.endsOn == Day(year: 2025, month: 6, day: 10)! && market.rules == "trial-2023")
        // Never beyond three years.
        let long = Publicity.window(decidedOn: decided, providerEndsOn: Day(year: 2030, month: 1, day: 1)!, authority: "x", violation: "y")
        #expect(long.endsOn == Day(year: 2028, month: 3, day: 10)!)
        // Within the bounds: as the provider said.
        let fine = Publicity.window(decidedOn: decided, providerEndsOn: Day(year: 2026, month: 1, day: 5)!, authority: "x", violation: "y")
        #expect(
            fine.endsOn == Day(year: 2026, month: 1, day: 5)! && fine.providerEndsOn == nil
                && fine.repairableFrom == Day(year: 2025, month: 6, day: 10)!
        )
        // None given: the longest the rules allow.
        #expect(
            Publicity.window(decidedOn: decided, providerEndsOn: nil, authority: "x", violation: "y").endsOn == Day(
                year: 2028,
                month: 3,
                day: 10
            )!
        )
    }

    @Test func publishedFromTheDecisionToTheEndUnlessRepaired() {
        let w = Publicity.window(decidedOn: decided, providerEndsOn: Day(year: 2025, month: 12, day: 31)!, authority: "x", violation: "y")
        #expect(!Publicity.isPublished(w, decidedOn: decided, repairedOn: nil, today: Day(year: 2025, month: 3, day: 9)!))
        #expect(Publicity.isPublished(w, decidedOn: decided, repairedOn: nil, today: decided))
        #expect(Publicity.isPublished(w, decidedOn: decided, repairedOn: nil, today: Day(year: 2025, month: 12, day: 31)!))
        #expect(!Publicity.isPublished(w, decidedOn: decided, repairedOn: nil, today: Day(year: 2026, month: 1, day: 1)!))
        #expect(
            !Publicity.isPublished(
                w,
                decidedOn: decided,
                repairedOn: Day(year: 2025, month: 7, day: 1)!,
                today: Day(year: 2025, month: 7, day: 1)!
            )
        )
        #expect(Day(year: 2024, month: 1, day: 31)!.addingMonths(1) == Day(year: 2024, month: 2, day: 29)!)
        #expect(Day(year: 2025, month: 11, day: 30)!.addingMonths(3) == Day(year: 2026, month: 2, day: 28)!)
    }

    // MARK: the rules in force from 2026-04-01 (《信用修复管理办法》)

    let after = Day(year: 2026, month: 5, day: 15)!

    func window(
        _ severity: String,
        provider: Day?,
        decided: Day? = nil,
        authority: String = "南通市市场监督管理局",
        violation: String = "x"
    )
        -> Publicity.Window
    {
        Publicity.window(
            decidedOn: decided ?? after,
            providerEndsOn: provider,
            severity: severity,
            authority: authority,
            violation: violation
        )
    }

    @Test func generalPenaltiesArePublishedThreeMonthsToAYear() {
        // Within the bounds: as the provider said; repairable from three months.
        let w = window("general", provider: Day(year: 2026, month: 11, day: 1)!)
        #expect(w.endsOn == Day(year: 2026, month: 11, day: 1)! && w.providerEndsOn == nil && w.published)
        #expect(w.repairableFrom == Day(year: 2026, month: 8, day: 15)! && w.rules == "measures-2026")
        // Boundary days: exactly the minimum and exactly the maximum are kept; a day outside is moved.
        #expect(window("general", provider: Day(year: 2026, month: 8, day: 15)!).providerEndsOn == nil)
        #expect(window("general", provider: Day(year: 2027, month: 5, day: 15)!).providerEndsOn == nil)
        let short = window("general", provider: Day(year: 2026, month: 8, day: 14)!)
        #expect(short.endsOn == Day(year: 2026, month: 8, day: 15)! && short.providerEndsOn == Day(year: 2026, month: 8, day: 14)!)
        let long = window("general", provider: Day(year: 2027, month: 5, day: 16)!)
        #expect(long.endsOn == Day(year: 2027, month: 5, day: 15)! && long.providerEndsOn == Day(year: 2027, month: 5, day: 16)!)
        // A year at most even in a field that had a one-year minimum before: severity governs now.
        let fire = window("general", provider: Day(year: 2029, month: 1, day: 1)!, authority: "南通市消防救援支队", violation: "消防通道堵塞")
        #expect(fire.endsOn == Day(year: 2027, month: 5, day: 15)! && fire.category == nil)
        // A severity the provider does not name reads as general.
        #expect(window("unknown", provider: Day(year: 2029, month: 1, day: 1)!).endsOn == Day(year: 2027, month: 5, day: 15)!)
    }

    @Test func seriousPenaltiesArePublishedAYearToThreeYears() {
        let short = window("serious", provider: Day(year: 2026, month: 8, day: 1)!)
        #expect(short.endsOn == Day(year: 2027, month: 5, day: 15)! && short.repairableFrom == Day(year: 2027, month: 5, day: 15)!)
        let long = window("serious", provider: Day(year: 2031, month: 1, day: 1)!)
        #expect(long.endsOn == Day(year: 2029, month: 5, day: 15)!)
        #expect(window("serious", provider: Day(year: 2029, month: 5, day: 15)!).providerEndsOn == nil)
        #expect(window("serious", provider: Day(year: 2029, month: 5, day: 16)!).providerEndsOn != nil)
    }

    @Test func minorPenaltiesAreNotPublishedUnlessTheAuthorityAsksAndThenThreeMonthsAtMost() {
        // The provider's end on (or before) the decision: not published at all; repairable at once.
        let quiet = window("minor", provider: after)
        #expect(!quiet.published && quiet.repairableFrom == after)
        #expect(!Publicity.isPublished(quiet, decidedOn: after, repairedOn: nil, today: after))
        // The authority asked: published, at most three months.
        let asked = window("minor", provider: Day(year: 2026, month: 12, day: 31)!)
        #expect(asked.published && asked.endsOn == Day(year: 2026, month: 8, day: 15)! && asked.repairableFrom == after)
        #expect(Publicity.isPublished(asked, decidedOn: after, repairedOn: nil, today: Day(year: 2026, month: 8, day: 15)!))
        #expect(!Publicity.isPublished(asked, decidedOn: after, repairedOn: nil, today: Day(year: 2026, month: 8, day: 16)!))
    }

    @Test func theRulesInForceOnTheDecisionDayApply() {
        // Decided the day before the new rules: the old ones (3 months to 3 years), whatever the severity.
        let before = window("minor", provider: Day(year: 2028, month: 1, day: 1)!, decided: Day(year: 2026, month: 3, day: 31)!)
        #expect(before.rules == "trial-2023" && before.published && before.endsOn == Day(year: 2028, month: 1, day: 1)!)
        // Decided on the day they came into force: the new ones.
        let on = window("minor", provider: Day(year: 2028, month: 1, day: 1)!, decided: Day(year: 2026, month: 4, day: 1)!)
        #expect(on.rules == "measures-2026" && on.endsOn == Day(year: 2026, month: 7, day: 1)!)
        #expect(Publicity.rules(on: Day(year: 2020, month: 1, day: 1)!) == Publicity.trial2023)
        #expect(Publicity.rules(on: Day(year: 2030, month: 1, day: 1)!) == Publicity.measures2026)
    }
}
