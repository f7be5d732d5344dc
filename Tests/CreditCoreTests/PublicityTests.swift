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
            ("南通市市场监督管理局", "销售不合格产品", "special_equipment"), ("某区卫健委", "食品安全违规", "food"),
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
}
