import TestSupport
import Testing

@testable import CreditCore

/// "What would raise my grade" on the hand-made test card (base points chosen per case).
@Suite struct ImprovementTests {
    func features(_ v: [Feature: FeatureValue], months: Int = 24) -> FeatureSet {
        var f = FeatureSet(asOf: Day("2026-06-15")!)
        for feature in Feature.allCases { f.values[feature] = v[feature] ?? .missing }
        f.dataMonths = months
        return f
    }

    let weak: [Feature: FeatureValue] = [
        .taxOnTimeRate12m: .number(7000), .socialInsuranceArrears12m: .number(4),
        .taxCreditGrade: .category("C"), .seriousPenalties36m: .number(0),
    ]

    @Test func theSmallestChangeThatReachesTheNextGrade() throws {
        // 600 + 0 + 0 + 0 + 40 = 640: grade C, 10 short of B. Filing on time 80 % or more (+60) is enough;
        // 100 % (+100) would be more than needed.
        let card = try TestCards.decode(TestCards.card(base: 600))
        let f = features(weak)
        let o = card.score(f)
        #expect(o.score == 640 && o.grade == "C")
        let a = Improvement.advise(card: card, features: f, outcome: o)
        #expect(a.nextGrade == "B" && a.pointsNeeded == 10 && a.reaches)
        #expect(a.steps.map(\.feature) == [.taxOnTimeRate12m])
        #expect(a.steps.first?.gain == 60)
        #expect(a.steps.first?.targetEn == "80.00% – under 100.00%")
    }

    @Test func twoChangesWhenOneIsNotEnoughTheLargestFirst() throws {
        // 540, 110 short of B: the largest gains are on-time filing (+100) and no arrears (+80);
        // filing can then shrink to 80 % (+60): 140 ≥ 110; clearing arrears cannot shrink (+20 is too little).
        let card = try TestCards.decode(TestCards.card(base: 500))
        let f = features(weak)
        let a = Improvement.advise(card: card, features: f, outcome: card.score(f))
        #expect(a.pointsNeeded == 110)
        #expect(a.steps.map(\.feature) == [.socialInsuranceArrears12m, .taxOnTimeRate12m])
        #expect(a.steps.map(\.gain) == [80, 60])
        #expect(a.steps[0].targetZh == "< 1 个月")
        // 240 is 260 short of C: more than every actionable gain together (180).
        let far = try TestCards.decode(TestCards.card(base: 200))
        let b = Improvement.advise(card: far, features: f, outcome: far.score(f))
        #expect(!b.reaches && b.blockedEn?.contains("260 points short; the changes below add 180") == true && b.nextGrade == "C")
        #expect(b.steps.map(\.gain) == [100, 80], "every change conduct can make, each at its best")
    }

    @Test func noAdviceForAThinFileAKnockOutOrTheBestGrade() throws {
        let card = try TestCards.decode(TestCards.card(base: 600))
        let thin = features(weak, months: 3)
        #expect(Improvement.advise(card: card, features: thin, outcome: card.score(thin)).blockedEn?.contains("12 months") == true)
        var listed = weak
        listed[.blacklistedNow] = .number(1)
        let l = features(listed)
        #expect(Improvement.advise(card: card, features: l, outcome: card.score(l)).blockedEn?.contains("dishonesty") == true)
        let best = try TestCards.decode(TestCards.card(base: 900))
        let a = Improvement.advise(card: best, features: features(weak), outcome: best.score(features(weak)))
        #expect(a.nextGrade == nil && a.steps.isEmpty && !a.reaches)
    }
}
