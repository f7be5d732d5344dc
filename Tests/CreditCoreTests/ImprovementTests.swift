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
        #expect(a.steps[0].targetZh == "0 个月")
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

    @Test func adviceNeverMovesAFeatureAgainstItsDirectionAndItsGainIsExact() throws {
        // A card as 2026.2 was: full contract fulfilment scores below 84.61 %. It cannot be
        // published, but advice on it must still never say "fulfil fewer contracts".
        let bent = """
            [{"feature": "contract_fulfilment_rate_24m", "reason_code": "R15", "reason_zh": "x", "reason_en": "x", "direction": "higher_is_better",
              "bins": [{"max": 5000, "points": -27}, {"min": 5000, "max": 8461, "points": -13}, {"min": 8461, "max": 10000, "points": 20},
                       {"min": 10000, "points": 13}, {"missing": true, "points": 0}]},
             {"feature": "unpaid_tax", "reason_code": "R06", "reason_zh": "x", "reason_en": "x", "direction": "lower_is_better",
              "bins": [{"max": 1, "points": 30}, {"min": 1, "points": 0}, {"missing": true, "points": 0}]}]
            """
        let card = try TestCards.decode(TestCards.card(base: 620, characteristics: bent))
        let full = features([.contractFulfilmentRate24m: .number(10_000), .unpaidTax: .number(500_000)])
        let a = Improvement.advise(card: card, features: full, outcome: card.score(full))
        #expect(!a.steps.contains { $0.feature == .contractFulfilmentRate24m }, "\(a.steps)")
        #expect(a.steps.map(\.feature) == [.unpaidTax] && a.steps[0].gain == 30 && a.steps[0].targetZh == "¥0.00")
        // Its gain is what the change does to the score.
        var after = full
        after.values[.unpaidTax] = .number(0)
        #expect(card.score(after).score! - card.score(full).score! == a.steps[0].gain)
        // A card without directions gives no advice at all.
        let undirected = try TestCards.decode(
            TestCards.card(
                base: 620,
                characteristics: bent.replacingOccurrences(of: "\"direction\": \"higher_is_better\",", with: "").replacingOccurrences(
                    of: "\"direction\": \"lower_is_better\",",
                    with: ""
                )
            )
        )
        #expect(Improvement.advise(card: undirected, features: full, outcome: undirected.score(full)).steps.isEmpty)
        // At the bottom of the range, a step's gain is what it does to the shown score (0 here).
        let sunk = try TestCards.decode(TestCards.card(base: -100, characteristics: bent))
        let s = Improvement.advise(card: sunk, features: full, outcome: sunk.score(full))
        #expect(sunk.score(full).score == 0 && s.steps.first { $0.feature == .unpaidTax }?.gain == 0)
    }
}
